package kube

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// PullSecretReader finds the pull secrets the kubelet would use. It reads
// each namespace's Secrets and ServiceAccounts with one LIST each, cached
// for its lifetime (never a GET per secret), and keeps only the payload of
// dockerconfig secrets. Safe for concurrent use.
type PullSecretReader struct {
	src Source

	mu         sync.Mutex
	namespaces map[string]*namespaceSecrets

	// everywhere: read every namespace's with one LIST (AllNamespaces).
	everywhere bool
	all        allNamespaces
}

// NewPullSecretReader returns a reader over src.
func NewPullSecretReader(src Source) *PullSecretReader {
	return &PullSecretReader{src: src, namespaces: map[string]*namespaceSecrets{}}
}

// AllNamespaces makes r read the Secrets and the ServiceAccounts of every
// namespace with one LIST each, the first time any namespace's are needed,
// instead of a LIST per namespace: a scan of all namespaces reads most of
// them anyway, and at 50 namespaces the 50 LISTs (8 at a time) were
// about 100 ms before the first registry request could go out. A LIST
// across namespaces that fails (a user allowed to list them namespace by
// namespace only) falls back to a LIST per namespace, as without it.
// Call it before the first read.
func (r *PullSecretReader) AllNamespaces() { r.everywhere = true }

// ReadAhead lists the Secrets across namespaces now, when r reads all
// namespaces at once (AllNamespaces): that LIST needs nothing from the
// workloads, so a scan starts it beside the workloads' LISTs instead of
// after them, and the first credentials asked for are already in. The
// ServiceAccounts are left to the first read that needs them (a pod that
// names no pull secret). Safe to call beside the reads; a no-op otherwise.
func (r *PullSecretReader) ReadAhead(ctx context.Context) {
	if r.everywhere {
		a := &r.all
		a.secretsOnce.Do(func() { a.secrets, a.secretsErr = listSecrets(ctx, r.src, metav1.NamespaceAll) })
	}
}

// allNamespaces holds the LISTs across namespaces, errors included.
type allNamespaces struct {
	secretsOnce sync.Once
	secrets     map[string]map[string]secretPayload // by namespace
	secretsErr  error

	accountsOnce sync.Once
	accounts     map[string]map[string][]string // by namespace
	accountsErr  error
}

// PullSecrets is what the kubelet would use for a pod.
type PullSecrets struct {
	// Refs are the secrets consulted, in the kubelet's order, as
	// "secret/NAMESPACE/NAME".
	Refs []string
	// Via is "serviceaccount/NAMESPACE/NAME" when the refs came from the
	// ServiceAccount, empty when the pod template named them.
	Via string
	// Entries of every readable secret, in Refs order.
	Entries []credentials.Entry
	// Problems: missing, wrong type, malformed, incomplete, unreadable.
	Problems []credentials.Problem
}

// Lookup is what the kubelet does for an image of ref with these secrets:
// the matching credentials in the order it tries them, the secrets
// consulted and their problems; Halted when a secret it cannot decode
// fails the pull before any registry is asked (credentials.Problem
// FailsPulls), so a probe goes on neither anonymously nor to the node's
// credentials.
func (ps PullSecrets) Lookup(ref imageref.Reference) credentials.Lookup {
	l := credentials.Lookup{Tried: credentials.ClusterStores(ps.Refs), Problems: ps.Problems}
	for _, p := range ps.Problems {
		l.Halted = l.Halted || p.FailsPulls
	}
	if !l.Halted {
		l.Credentials = credentials.NewKeyring(ps.Entries...).Lookup(ref)
	}
	return l
}

// Credentials returns the keyring the kubelet would build for a pod of
// namespace running as serviceAccount with podPullSecrets, and the
// problems met. RBAC denials are problems (CredentialsUnreadable), not
// errors: the scan goes on anonymously.
func (r *PullSecretReader) Credentials(ctx context.Context, namespace, serviceAccount string, podPullSecrets []string) (*credentials.Keyring, []credentials.Problem, error) {
	ps, err := r.PullSecrets(ctx, namespace, serviceAccount, podPullSecrets)
	if err != nil {
		return nil, nil, err
	}
	return credentials.NewKeyring(ps.Entries...), ps.Problems, nil
}

// PullSecrets resolves the secret references as the ServiceAccount
// admission plugin and the kubelet do: the pod's imagePullSecrets; when it
// names none, its ServiceAccount's (admission copies them into the pod
// only then). Each secret must be of type kubernetes.io/dockerconfigjson
// or kubernetes.io/dockercfg; the kubelet ignores any other.
func (r *PullSecretReader) PullSecrets(ctx context.Context, namespace, serviceAccount string, podPullSecrets []string) (PullSecrets, error) {
	var out PullSecrets
	ns := r.namespace(namespace)
	names := podPullSecrets
	if len(names) == 0 {
		if serviceAccount == "" {
			serviceAccount = "default"
		}
		out.Via = "serviceaccount/" + namespace + "/" + serviceAccount
		accounts, err := r.serviceAccounts(ctx, ns, namespace)
		switch {
		case apierrors.IsForbidden(err):
			out.Problems = append(out.Problems, unreadable(out.Via, credentials.SecretRef{}, "serviceaccounts", namespace))
			return out, nil
		case err != nil:
			return out, unlisted(ctx, err, "serviceaccounts", namespace)
		}
		names = accounts[serviceAccount]
	}
	if len(names) == 0 {
		return out, nil
	}

	secrets, err := r.secrets(ctx, ns, namespace)
	if err != nil && !apierrors.IsForbidden(err) {
		return out, unlisted(ctx, err, "secrets", namespace)
	}
	if err == nil {
		secrets = ns.withReleases(ctx, r.src, namespace, secrets, names)
	}
	kubeletFails := false
	for _, name := range names {
		source := "secret/" + namespace + "/" + name
		out.Refs = append(out.Refs, source)
		if err != nil {
			out.Problems = append(out.Problems, unreadable(source, credentials.SecretRef{Namespace: namespace, Name: name}, "secrets", namespace))
			continue
		}
		entries, problems, rejected := parseSecret(secrets, namespace, name, out.Via)
		out.Entries = append(out.Entries, entries...)
		out.Problems = append(out.Problems, problems...)
		kubeletFails = kubeletFails || rejected
	}
	if kubeletFails {
		// The kubelet's MakeDockerKeyring fails on one undecodable secret,
		// and with it every pull of the pod, before any registry is
		// asked (the problem's FailsPulls): no secret is used.
		out.Entries = nil
	}
	return out, nil
}

// parseSecret turns one referenced secret into entries, or says why the
// kubelet would not use it; rejected when the kubelet cannot decode it,
// which costs the pod every pull secret.
func parseSecret(secrets map[string]secretPayload, namespace, name, via string) ([]credentials.Entry, []credentials.Problem, bool) {
	source := "secret/" + namespace + "/" + name
	ref := credentials.SecretRef{Namespace: namespace, Name: name}
	referrer := "the pod template"
	if via != "" {
		referrer = via
	}
	s, ok := secrets[name]
	switch {
	case !ok:
		return nil, []credentials.Problem{{
			Origin:  credentials.OriginCluster,
			Secret:  ref,
			Source:  source,
			Reason:  report.ReasonIncompleteCredentials,
			Message: fmt.Sprintf("%s names imagePullSecret %q, which does not exist: the kubelet pulls without it", referrer, name),
			Remedy:  remedy.PullSecret(report.ReasonIncompleteCredentials, name, namespace, ""),
		}}, false
	case s.typ != corev1.SecretTypeDockerConfigJson && s.typ != corev1.SecretTypeDockercfg:
		return nil, []credentials.Problem{{
			Origin:  credentials.OriginCluster,
			Secret:  ref,
			Source:  source,
			Reason:  report.ReasonMalformedCredentials,
			Message: fmt.Sprintf("%s has type %s; the kubelet only reads %s and %s secrets and ignores this one", source, s.typ, corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg),
			Remedy:  remedy.PullSecret(report.ReasonMalformedCredentials, name, namespace, ""),
		}}, false
	case len(s.data) == 0:
		return nil, []credentials.Problem{{
			Origin:  credentials.OriginCluster,
			Secret:  ref,
			Source:  source,
			Reason:  report.ReasonIncompleteCredentials,
			Message: fmt.Sprintf("%s has no %s data: the kubelet ignores it", source, dataKey(s.typ)),
			Remedy:  remedy.PullSecret(report.ReasonMalformedCredentials, name, namespace, ""),
		}}, false
	default:
		entries, problems, rejected := credentials.ParsePullSecret(s.data, s.typ == corev1.SecretTypeDockercfg, source)
		for i := range problems {
			problems[i].Secret = ref
			// Whatever is wrong inside the secret, it is fixed by
			// re-creating it, for the host of the entry at fault.
			problems[i].Remedy = remedy.PullSecret(report.ReasonMalformedCredentials, name, namespace, credentials.NormalizeHost(problems[i].Host))
		}
		return entries, problems, rejected
	}
}

// unlisted says in words why resource could not be listed in namespace:
// the API server failing, too slow or gone.
func unlisted(ctx context.Context, err error, resource, namespace string) error {
	c := classify(ctx, err, resource, namespace, 0)
	return &Error{Reason: c.reason, Message: resource + inNamespace(namespace) + " " + c.why, Remedy: c.remedy, Err: err}
}

// unreadable is the problem of a store (a ServiceAccount, or the secret
// ref) in namespace that the user may not list resource to read.
func unreadable(source string, ref credentials.SecretRef, resource, namespace string) credentials.Problem {
	return credentials.Problem{
		Origin: credentials.OriginCluster,
		Secret: ref,
		Source: source,
		Reason: report.ReasonCredentialsUnreadable,
		Message: fmt.Sprintf("you may not list %s in namespace %s, so %s could not be read; registries are checked anonymously and the kubelet's verdict may differ",
			resource, namespace, source),
		Remedy: fmt.Sprintf("run as a user allowed to list %s in %s (kubectl auth can-i list %s -n %s)", resource, namespace, resource, namespace),
	}
}

func dataKey(t corev1.SecretType) string {
	if t == corev1.SecretTypeDockercfg {
		return corev1.DockerConfigKey
	}
	return corev1.DockerConfigJsonKey
}

// Unreferenced names the pull secrets of namespace that hold credentials
// the kubelet would send for ref but that the pods do not name (their
// podPullSecrets, else their ServiceAccount's): the commonest cause of "no
// credentials" is a secret created and never attached. It reads the
// namespace's Secrets and ServiceAccounts with the same cached LISTs;
// nothing when they cannot be listed.
func (r *PullSecretReader) Unreferenced(ctx context.Context, namespace, serviceAccount string, podPullSecrets []string, ref imageref.Reference) []string {
	ns := r.namespace(namespace)
	named := podPullSecrets
	if len(named) == 0 {
		if serviceAccount == "" {
			serviceAccount = "default"
		}
		accounts, err := r.serviceAccounts(ctx, ns, namespace)
		if err != nil {
			return nil
		}
		named = accounts[serviceAccount]
	}
	secrets, err := r.secrets(ctx, ns, namespace)
	if err != nil {
		return nil
	}
	var out []string
	for name, p := range secrets {
		if p.data == nil || slices.Contains(named, name) {
			continue
		}
		entries, _, rejected := parseSecret(secrets, namespace, name, "")
		if !rejected && len(credentials.NewKeyring(entries...).Lookup(ref)) > 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// secretPayload is all that is kept of a secret: its type, and the
// dockerconfig payload for the two types the kubelet reads.
type secretPayload struct {
	typ  corev1.SecretType
	data []byte
}

// namespaceSecrets caches one namespace's LISTs, errors included.
type namespaceSecrets struct {
	secretsOnce sync.Once
	secretsMap  map[string]secretPayload
	secretsErr  error

	accountsOnce sync.Once
	accountsMap  map[string][]string // ServiceAccount → imagePullSecrets
	accountsErr  error

	// releases are the Secrets named as pull secrets that the LIST left
	// out (notPullSecrets) and a LIST by name found: their type is a
	// finding. Guarded by releasesMu.
	releasesMu sync.Mutex
	releases   map[string]*namedSecret
}

// namedSecret is one LIST by name of a Secret the type-filtered LIST did
// not return.
type namedSecret struct {
	once  sync.Once
	found bool
	typ   corev1.SecretType
}

// notPullSecrets is the field selector of the Secrets LISTs: every type
// but Helm's release records, which the kubelet never reads and which are
// most of the bytes of a namespace's Secrets (a release's every revision,
// each up to a MiB), so they stay on the API server. A pull secret named
// and not found by this LIST is looked for by name (withReleases), so a
// Helm release named as a pull secret is still reported with its type.
var notPullSecrets = fields.OneTermNotEqualSelector("type", helmReleaseType).String()

// helmReleaseType is the type of the Secrets Helm 3 keeps its releases in
// (helm.sh/helm/v3/pkg/storage/driver; not imported for one string).
const helmReleaseType = "helm.sh/release.v1"

// secrets is namespace ns's Secrets: from the LIST across namespaces when
// r reads all namespaces at once and it succeeded, else from ns's own.
func (r *PullSecretReader) secrets(ctx context.Context, n *namespaceSecrets, ns string) (map[string]secretPayload, error) {
	if r.everywhere {
		a := &r.all
		r.ReadAhead(ctx)
		if a.secretsErr == nil {
			return a.secrets[ns], nil // nil: none but Helm's; reads as empty
		}
	}
	return n.secrets(ctx, r.src, ns)
}

// serviceAccounts is secrets for the ServiceAccounts.
func (r *PullSecretReader) serviceAccounts(ctx context.Context, n *namespaceSecrets, ns string) (map[string][]string, error) {
	if r.everywhere {
		a := &r.all
		a.accountsOnce.Do(func() { a.accounts, a.accountsErr = listServiceAccounts(ctx, r.src, metav1.NamespaceAll) })
		if a.accountsErr == nil {
			return a.accounts[ns], nil
		}
	}
	return n.serviceAccounts(ctx, r.src, ns)
}

// listSecrets lists the Secrets of ns (or every namespace) but Helm's
// releases, keeping each one's type and a pull secret's payload, by
// namespace and name.
func listSecrets(ctx context.Context, src Source, ns string) (map[string]map[string]secretPayload, error) {
	m := map[string]map[string]secretPayload{}
	err := each(ctx, src, "secrets", ns, metav1.ListOptions{FieldSelector: notPullSecrets}, func(s *corev1.Secret) {
		p := secretPayload{typ: s.Type}
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
			p.data = s.Data[dataKey(s.Type)]
		}
		key := namespaceOf(s.Namespace, ns)
		if m[key] == nil {
			m[key] = map[string]secretPayload{}
		}
		m[key][s.Name] = p
	})
	return m, err
}

// listServiceAccounts lists the ServiceAccounts of ns (or every
// namespace) and the pull secrets each names, by namespace and name.
func listServiceAccounts(ctx context.Context, src Source, ns string) (map[string]map[string][]string, error) {
	m := map[string]map[string][]string{}
	err := each(ctx, src, "serviceaccounts", ns, metav1.ListOptions{}, func(sa *corev1.ServiceAccount) {
		key := namespaceOf(sa.Namespace, ns)
		if m[key] == nil {
			m[key] = map[string][]string{}
		}
		m[key][sa.Name] = secretNames(sa.ImagePullSecrets)
	})
	return m, err
}

// namespaceOf files an object of a LIST of ns under ns, or under its own
// namespace for a LIST across namespaces.
func namespaceOf(own, listed string) string {
	if listed != metav1.NamespaceAll {
		return listed
	}
	return own
}

// withReleases is secrets with those of names it lacks that a LIST by name
// finds (a Helm release: the type-filtered LIST leaves them out), so the
// kubelet's verdict on them (a type it ignores) is reported as before
// the filter; secrets itself is shared and not written. A name not found,
// or a LIST by name that fails, leaves it missing, as the LIST said.
func (n *namespaceSecrets) withReleases(ctx context.Context, src Source, ns string, secrets map[string]secretPayload, names []string) map[string]secretPayload {
	var out map[string]secretPayload
	for _, name := range names {
		if _, ok := secrets[name]; ok {
			continue
		}
		n.releasesMu.Lock()
		if n.releases == nil {
			n.releases = map[string]*namedSecret{}
		}
		e := n.releases[name]
		if e == nil {
			e = &namedSecret{}
			n.releases[name] = e
		}
		n.releasesMu.Unlock()
		e.once.Do(func() {
			opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
			_ = each(ctx, src, "secrets", ns, opts, func(s *corev1.Secret) {
				if s.Name == name {
					e.found, e.typ = true, s.Type
				}
			})
		})
		if !e.found {
			continue
		}
		if out == nil {
			out = maps.Clone(secrets)
			if out == nil {
				out = map[string]secretPayload{}
			}
		}
		out[name] = secretPayload{typ: e.typ}
	}
	if out == nil {
		return secrets
	}
	return out
}

func (r *PullSecretReader) namespace(ns string) *namespaceSecrets {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.namespaces[ns]
	if !ok {
		n = &namespaceSecrets{}
		r.namespaces[ns] = n
	}
	return n
}

// secrets lists the namespace's secrets once, every type but Helm's
// releases (notPullSecrets): a wrong type is a finding. Nothing is logged
// here; client-go logs bodies only above -v=7, which regcheck never sets.
func (n *namespaceSecrets) secrets(ctx context.Context, src Source, ns string) (map[string]secretPayload, error) {
	n.secretsOnce.Do(func() {
		var m map[string]map[string]secretPayload
		m, n.secretsErr = listSecrets(ctx, src, ns)
		n.secretsMap = m[ns]
	})
	return n.secretsMap, n.secretsErr
}

func (n *namespaceSecrets) serviceAccounts(ctx context.Context, src Source, ns string) (map[string][]string, error) {
	n.accountsOnce.Do(func() {
		var m map[string]map[string][]string
		m, n.accountsErr = listServiceAccounts(ctx, src, ns)
		n.accountsMap = m[ns]
	})
	return n.accountsMap, n.accountsErr
}
