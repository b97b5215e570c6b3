package scan

import (
	"context"
	"slices"
	"strings"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// Keychain finds the credentials that apply to an image, in the order the
// kubelet tries them. *credentials.Keyring is one.
type Keychain interface {
	Lookup(ref imageref.Reference) []credentials.Credential
}

// CredentialFunc returns the pull credentials for pods of namespace
// running as serviceAccount with pullSecrets (the template's), and the
// problems found in them. A nil Keychain means anonymous.
type CredentialFunc func(ctx context.Context, namespace, serviceAccount string, pullSecrets []string) (Keychain, []credentials.Problem, error)

// FromPullSecrets reads credentials from the cluster, as the kubelet would.
func FromPullSecrets(r *kube.PullSecretReader) CredentialFunc {
	return func(ctx context.Context, namespace, serviceAccount string, pullSecrets []string) (Keychain, []credentials.Problem, error) {
		kr, problems, err := r.Credentials(ctx, namespace, serviceAccount, pullSecrets)
		if err != nil || kr == nil {
			// A nil *Keyring in a Keychain would not be a nil interface.
			return nil, problems, err
		}
		return kr, problems, nil
	}
}

// pullCreds is what a workload's template gets from its CredentialFunc.
type pullCreds struct {
	keychain   Keychain
	unreadable bool // some secret could not be read: the kubelet may know better
	// missingSecret: a secret named in imagePullSecrets is missing or empty.
	missingSecret bool
	// missing names those secrets, as the kubelet's event does.
	missing []string
	// malformedSecret: a secret it names cannot be used as it is.
	malformedSecret bool
	// undecodable: the secrets it names that the kubelet cannot decode,
	// so it fails every pull of the pod (credentials.Problem.FailsPulls).
	undecodable []credentials.Problem
}

func (p pullCreds) lookup(ref imageref.Reference) []credentials.Credential {
	if p.keychain == nil {
		return nil
	}
	return p.keychain.Lookup(ref)
}

// credentialCache calls the CredentialFunc once per (namespace, service
// account, pull secrets) and reports each problem once per run.
type credentialCache struct {
	fn       CredentialFunc
	byKey    map[string]pullCreds
	fetched  map[string]fetched // read ahead by prefetch, not yet turned into pullCreds
	reported map[credentials.Problem]bool
	results  []report.Result
}

// fetched is one CredentialFunc answer.
type fetched struct {
	kc       Keychain
	problems []credentials.Problem
	err      error
}

func credentialKey(w *kube.Workload) string {
	return w.Namespace + "\x00" + w.ServiceAccountName + "\x00" + strings.Join(w.ImagePullSecrets, "\x00")
}

// prefetch calls the CredentialFunc for every distinct key of workloads,
// at most concurrency at a time: each call LISTs a namespace's secrets and
// service accounts, and a cluster of hundreds of namespaces would spend
// seconds on them one after the other. get then turns the answers into
// results in workload order, so the report does not depend on timing.
func (c *credentialCache) prefetch(ctx context.Context, workloads []kube.Workload, concurrency int) {
	if c.fn == nil {
		return
	}
	var keys []string
	first := map[string]*kube.Workload{}
	for i := range workloads {
		k := credentialKey(&workloads[i])
		if _, done := c.fetched[k]; done {
			continue // a Warmer read it already
		}
		if _, ok := first[k]; !ok {
			first[k] = &workloads[i]
			keys = append(keys, k)
		}
	}
	answers := make([]fetched, len(keys))
	read := func(i int) {
		w := first[keys[i]]
		kc, problems, err := c.fn(ctx, w.Namespace, w.ServiceAccountName, w.ImagePullSecrets)
		answers[i] = fetched{kc, problems, err}
	}
	bounded.ForEach(ctx, len(keys), concurrency, read, func(i int) { answers[i] = fetched{err: ctx.Err()} })
	if c.fetched == nil {
		c.fetched = make(map[string]fetched, len(keys))
	}
	for i, k := range keys {
		c.fetched[k] = answers[i]
	}
}

func newCredentialCache(fn CredentialFunc) *credentialCache {
	return &credentialCache{fn: fn, byKey: map[string]pullCreds{}, reported: map[credentials.Problem]bool{}}
}

func (c *credentialCache) get(ctx context.Context, w *kube.Workload) pullCreds {
	if c.fn == nil {
		return pullCreds{}
	}
	key := credentialKey(w)
	if pc, ok := c.byKey[key]; ok {
		return pc
	}
	f, ok := c.fetched[key]
	if !ok {
		f.kc, f.problems, f.err = c.fn(ctx, w.Namespace, w.ServiceAccountName, w.ImagePullSecrets)
	}
	kc, problems, err := f.kc, f.problems, f.err
	if err != nil {
		problems = append(problems, credentials.Problem{
			Origin:  credentials.OriginCluster,
			Source:  "serviceaccount/" + w.Namespace + "/" + w.ServiceAccountName,
			Reason:  report.ReasonCredentialsUnreadable,
			Message: "pull secrets could not be read: " + err.Error() + "; registries are checked anonymously and the kubelet's verdict may differ",
			Remedy:  "check access to the cluster and retry",
		})
	}
	pc := pullCreds{keychain: kc}
	for _, p := range problems {
		switch p.Reason {
		case report.ReasonCredentialsUnreadable:
			pc.unreadable = true
		case report.ReasonIncompleteCredentials:
			pc.missingSecret = true
			if s := p.Secret; s.Name != "" && s.Namespace == w.Namespace && !slices.Contains(pc.missing, s.Name) {
				pc.missing = append(pc.missing, s.Name)
			}
		case report.ReasonMalformedCredentials:
			pc.malformedSecret = true
			if p.FailsPulls {
				pc.undecodable = append(pc.undecodable, p)
			}
		}
		c.report(w.Namespace, p)
	}
	c.byKey[key] = pc
	return pc
}

func (c *credentialCache) report(namespace string, p credentials.Problem) {
	if c.reported[p] {
		return
	}
	c.reported[p] = true
	status := report.StatusFail
	if p.Reason == report.ReasonCredentialsUnreadable {
		// The user's RBAC, not a fault of the workload.
		status = report.StatusWarn
	}
	r := report.Result{
		Check:            report.CheckCredentialsSecret,
		Status:           status,
		Reason:           p.Reason,
		Message:          p.Message,
		Remedy:           p.Remedy,
		Namespace:        namespace,
		CredentialSource: p.Source,
	}
	if p.Host != "" {
		r.Registry = p.Host
		r.Evidence = report.Evidence{"host": p.Host}
	}
	c.results = append(c.results, r)
}

// credentialSources names the credentials tried, for a failed lookup.
func credentialSources(creds []credentials.Credential) string {
	if len(creds) == 0 {
		return credentials.SourceAnonymous
	}
	var sources []string
	seen := map[string]bool{}
	for _, c := range creds {
		if !seen[c.Source] {
			seen[c.Source] = true
			sources = append(sources, c.Source)
		}
	}
	return strings.Join(sources, ",")
}
