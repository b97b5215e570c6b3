package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// ClusterCredentials are the credentials the kubelet would pull with once
// the manifests are applied: the template's imagePullSecrets, else its
// ServiceAccount's, read from the target namespace with the scan's own
// reader; then, for an image no pull secret matches, a credential
// provider of nodes (nil for none) serves it with the node's identity.
// Missing, malformed or unreadable secrets are Problems (credentials.secret
// results).
func ClusterCredentials(r *kube.PullSecretReader, nodes *nodecreds.Set) CredentialFunc {
	return func(ctx context.Context, m *Manifest, ref imageref.Reference) Credentials {
		who := &remedy.Workload{
			Kind: m.Kind, Restarts: kube.RestartStyleOf(m.Kind), Name: m.Name, Namespace: m.Namespace,
			ServiceAccount: m.ServiceAccountName, PullSecrets: m.ImagePullSecrets,
			Undeployed: true, // verify runs before the deploy: nothing to restart
		}
		out := Credentials{
			Key:      "cluster\x00" + m.Namespace + "\x00" + m.ServiceAccountName + "\x00" + strings.Join(m.ImagePullSecrets, "\x00"),
			Workload: who,
		}
		ps, err := r.PullSecrets(ctx, m.Namespace, m.ServiceAccountName, m.ImagePullSecrets)
		if err != nil {
			out.Problems = append(out.Problems, credentials.Problem{
				Origin:  credentials.OriginCluster,
				Source:  "serviceaccount/" + m.Namespace + "/" + m.ServiceAccountName,
				Reason:  report.ReasonCredentialsUnreadable,
				Message: "pull secrets could not be read: " + err.Error() + "; registries are checked anonymously and the kubelet's verdict may differ",
				Remedy:  "check access to the cluster and retry",
			})
		}
		out.Problems = append(out.Problems, ps.Problems...)
		out.Lookup = ps.Lookup(ref)
		if len(out.Lookup.Credentials) == 0 && !out.Lookup.Halted {
			// A secret for the host may be there, just not attached.
			who.Unreferenced = r.Unreferenced(ctx, m.Namespace, m.ServiceAccountName, m.ImagePullSecrets, ref)
		}
		if !out.Lookup.Halted {
			// The problems are credentials.secret results above; a halted
			// lookup keeps the one that halts it, so the image's own
			// result says why the kubelet would not pull.
			out.Lookup.Problems = nil
		}
		if len(out.Lookup.Credentials) == 0 && !out.Lookup.Halted {
			if match, ok := nodes.For(ref.Input, nil); ok {
				out.Node = &match
			}
		}
		return out
	}
}

// secretResult is a pull secret problem as a credentials.secret result,
// as the scan reports it: a fail, but a warn when it is the user's RBAC.
func secretResult(m *Manifest, p credentials.Problem) report.Result {
	status := report.StatusFail
	if p.Reason == report.ReasonCredentialsUnreadable {
		status = report.StatusWarn
	}
	r := report.Result{
		Check: report.CheckCredentialsSecret, Status: status, Reason: p.Reason,
		Message: p.Message, Remedy: p.Remedy,
		Namespace: m.Namespace, Workload: m.ID(), CredentialSource: p.Source,
	}
	if p.Host != "" {
		r.Registry = p.Host
		r.Evidence = report.Evidence{"host": p.Host}
	}
	return r
}

// nodePull is the registry.pull result of an image only a node's
// credential provider serves: skip, as the scan says it.
func nodePull(base report.Result, ref imageref.Reference, m *nodecreds.Match) report.Result {
	r := base
	r.Check, r.Status, r.Reason = report.CheckRegistryPull, report.StatusSkip, report.ReasonNodeCredentials
	r.CredentialSource = m.Provider.Source()
	r.Message = fmt.Sprintf("no pull secret matches %s; %s, with the node's identity, which regcheck cannot act as", ref.Registry, m.Message())
	r.Remedy = nodecreds.NodeRemedy(m.Provider, ref.Registry, ref.Repository)
	r.Evidence = report.Evidence{"provider": m.Provider.Name, "matchImage": m.Pattern}
	return r
}

// platformResult checks an index against the cluster's node platforms:
// every platform some node runs must have an image in it, or pods
// scheduled there cannot start. children are the index's platforms.
func platformResult(base report.Result, ref imageref.Reference, children []kube.Platform, nodes []kube.Platform) report.Result {
	r := base
	r.Check = report.CheckImagePlatform
	var have, missing []string
	for _, c := range children {
		have = append(have, c.String())
	}
	for _, n := range nodes {
		if !slices.ContainsFunc(children, func(c kube.Platform) bool {
			return c.OS == n.OS && c.Architecture == n.Architecture && (n.Variant == "" || c.Variant == n.Variant)
		}) {
			missing = append(missing, n.String())
		}
	}
	var want []string
	for _, n := range nodes {
		want = append(want, n.String())
	}
	r.Evidence = report.Evidence{"index": have, "nodes": want}
	if len(missing) == 0 {
		r.Status, r.Reason = report.StatusPass, report.ReasonOk
		r.Message = fmt.Sprintf("%s serves every platform the cluster's nodes run (%s)", ref.String(), strings.Join(want, ", "))
		return r
	}
	r.Status, r.Reason = report.StatusFail, report.ReasonPlatformNotInIndex
	r.Message = fmt.Sprintf("%s has no image for %s, which some of the cluster's nodes run (the index holds %s): pods scheduled there cannot pull it",
		ref.String(), strings.Join(missing, ", "), strings.Join(have, ", "))
	r.Remedy = fmt.Sprintf("build and push %s for %s too (docker buildx build --platform %s), or keep the pods off those nodes with a nodeSelector on kubernetes.io/arch",
		ref.String(), strings.Join(missing, ","), strings.Join(append(have, missing...), ","))
	return r
}
