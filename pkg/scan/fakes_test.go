package scan

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

func dg(c string) string { return "sha256:" + strings.Repeat(c, 64) }

// failed is a registry failure of a manifest request for ref as the
// client makes one: a reason, its typed cause and the facts remedy.Message
// words (the reference's names, the anonymous credential).
func failed(reason report.Reason, cause report.Cause, ref string) *registry.Failure {
	r, err := imageref.Parse(ref)
	if err != nil {
		panic(err)
	}
	return &registry.Failure{Reason: reason, Evidence: report.Evidence{}, Fault: report.Fault{
		Cause: cause, Registry: r.Registry, Repository: r.Repository, CredentialKey: r.CredentialKey, Host: r.Host,
		Seen: report.Seen{Step: report.StepManifest, Reference: r.String(), Identifier: r.Identifier(),
			Credential: credentials.SourceAnonymous, Anonymous: true}}}
}

// fakeResolver answers from a table, as pkg/registry's Client does: Head
// gives the tag's digest and media type, Expand the children and config
// digests. It counts Heads (calls) and Expands.
type fakeResolver struct {
	answers map[string]registry.Resolution
	fail    map[string]*registry.Failure
	delay   time.Duration

	calls    atomic.Int32 // Heads
	expands  atomic.Int32
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	mu       sync.Mutex
	creds    map[string][]string // ref → sources received
	// prefetched are the token batches asked ("HOST SOURCE repo,repo").
	prefetched []string
}

func (f *fakeResolver) Head(ctx context.Context, r imageref.Reference, creds []credentials.Credential) (registry.Descriptor, error) {
	ref := r.Pull()
	f.calls.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	if f.creds == nil {
		f.creds = map[string][]string{}
	}
	for _, c := range creds {
		f.creds[ref] = append(f.creds[ref], c.Source)
	}
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if fl, ok := f.fail[ref]; ok {
		return registry.Descriptor{}, fl
	}
	if res, ok := f.answers[ref]; ok {
		d := registry.Descriptor{Reference: r, Digest: res.Digest, MediaType: res.MediaType, CredentialSource: res.CredentialSource}
		// The client names the credential that worked by position: the
		// table's answer names it by source, the first one offered of it.
		for i, c := range creds {
			if c.Source == res.CredentialSource {
				d.Used = registry.UsedAt(i)
				break
			}
		}
		return d, nil
	}
	return registry.Descriptor{}, failed(report.ReasonTagNotFound, report.CauseManifestUnknown, ref)
}

func (f *fakeResolver) Expand(ctx context.Context, d registry.Descriptor, creds []credentials.Credential) (registry.Resolution, error) {
	f.expands.Add(1)
	if res, ok := f.answers[d.Reference.Pull()]; ok {
		res.CredentialSource, res.Used = d.CredentialSource, d.Used // as the client's Expand: the HEAD's credential
		return res, nil
	}
	return registry.Resolution{}, failed(report.ReasonTagNotFound, report.CauseManifestUnknown, d.Reference.Name()+"@"+d.Digest)
}

// PrefetchPull records the batch asked. pkg/registry's Client, the
// scan's resolver in production, always prefetches: a fake without it
// would test a path production never takes.
func (f *fakeResolver) PrefetchPull(_ context.Context, ref imageref.Reference, repos []string, cred credentials.Credential) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefetched = append(f.prefetched, ref.Host+" "+cred.Source+" "+strings.Join(repos, ","))
}

// fakeKeychain offers the same credentials for every image.
type fakeKeychain []credentials.Credential

func (k fakeKeychain) Lookup(imageref.Reference) []credentials.Credential { return k }

func staticCreds(kc Keychain, problems ...credentials.Problem) CredentialFunc {
	return func(context.Context, string, string, []string) (Keychain, []credentials.Problem, error) {
		return kc, problems, nil
	}
}

// deploy builds a one-container Deployment whose pods report imageIDs.
func deploy(name, image string, policy corev1.PullPolicy, pods ...kube.Pod) kube.Workload {
	return kube.Workload{
		Kind: kube.KindDeployment, Name: name, Namespace: "prod", ServiceAccountName: "default",
		Containers: []kube.Container{{Name: "app", Image: image, PullPolicy: policy}},
		Pods:       pods,
	}
}

func runningPod(name, imageID, arch string) kube.Pod {
	p := kube.Pod{
		Name: name, NodeName: "node-" + name, Phase: corev1.PodRunning,
		StartTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		Statuses:  []kube.ContainerStatus{{Name: "app", ImageID: imageID}},
	}
	if arch != "" {
		p.Platform, p.PlatformSource = kube.Platform{OS: "linux", Architecture: arch}, "node"
	}
	return p
}

// unresolved is the failure of a request to ref's registry whose name
// does not resolve, as the client makes one.
func unresolved(ref string) *registry.Failure {
	f := failed(report.ReasonUnreachable, report.CauseNoAnswer, ref)
	f.Silence, f.DNSName = report.SilenceDNS, f.Host
	return f
}
