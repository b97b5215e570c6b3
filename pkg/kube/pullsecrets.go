package kube

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
}

// NewPullSecretReader returns a reader over src.
func NewPullSecretReader(src Source) *PullSecretReader {
	return &PullSecretReader{src: src, namespaces: map[string]*namespaceSecrets{}}
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
		accounts, err := ns.serviceAccounts(ctx, r.src, namespace)
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

	secrets, err := ns.secrets(ctx, r.src, namespace)
	if err != nil && !apierrors.IsForbidden(err) {
		return out, unlisted(ctx, err, "secrets", namespace)
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
		accounts, err := ns.serviceAccounts(ctx, r.src, namespace)
		if err != nil {
			return nil
		}
		named = accounts[serviceAccount]
	}
	secrets, err := ns.secrets(ctx, r.src, namespace)
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

// secrets lists the namespace's secrets once. No field selector: one LIST
// answers for every type (a wrong type is a finding), and nothing is
// logged here; client-go logs bodies only above -v=7, which regcheck never
// sets.
func (n *namespaceSecrets) secrets(ctx context.Context, src Source, ns string) (map[string]secretPayload, error) {
	n.secretsOnce.Do(func() {
		m := map[string]secretPayload{}
		n.secretsErr = each(ctx, src, "secrets", ns, metav1.ListOptions{}, func(s *corev1.Secret) {
			p := secretPayload{typ: s.Type}
			switch s.Type {
			case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
				p.data = s.Data[dataKey(s.Type)]
			}
			m[s.Name] = p
		})
		n.secretsMap = m
	})
	return n.secretsMap, n.secretsErr
}

func (n *namespaceSecrets) serviceAccounts(ctx context.Context, src Source, ns string) (map[string][]string, error) {
	n.accountsOnce.Do(func() {
		m := map[string][]string{}
		n.accountsErr = each(ctx, src, "serviceaccounts", ns, metav1.ListOptions{}, func(sa *corev1.ServiceAccount) { m[sa.Name] = secretNames(sa.ImagePullSecrets) })
		n.accountsMap = m
	})
	return n.accountsMap, n.accountsErr
}
