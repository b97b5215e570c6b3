package scan

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// NodeCredentials are the kubelet's credential providers (SPEC "Node
// credentials"): images no pull secret serves but a provider does are
// pulled with the node's identity, which regcheck cannot act as.
type NodeCredentials struct {
	// Providers say which images the nodes serve; nil for none.
	Providers *nodecreds.Set
	// Local returns the user's own credentials for a registry host, in
	// the order Docker and Helm try them, to compare digests with; nil
	// compares anonymously.
	Local func(ctx context.Context, host string) []credentials.Credential
}

// nodeChain walks the kubelet's chain for one run: pull secrets that
// match first, then a provider; the user's own credentials per host are
// looked up once (a credential helper is a process per call).
type nodeChain struct {
	nc    *NodeCredentials
	mu    sync.Mutex
	local map[string][]credentials.Credential
}

func newNodeChain(nc *NodeCredentials) *nodeChain {
	if nc == nil || nc.Providers == nil {
		return nil
	}
	return &nodeChain{nc: nc, local: map[string][]credentials.Credential{}}
}

// match is the provider that serves container c of w when none of its
// pull secrets match (secrets), as the kubelet walks it; nil otherwise.
func (n *nodeChain) match(ref imageref.Reference, w *kube.Workload, secrets []credentials.Credential) *nodecreds.Match {
	if len(secrets) > 0 {
		return nil
	}
	return n.provider(ref, w)
}

// provider is the provider that serves ref for w's pods, whatever its
// pull secrets: the kubelet falls back to it when they fail.
func (n *nodeChain) provider(ref imageref.Reference, w *kube.Workload) *nodecreds.Match {
	if n == nil {
		return nil
	}
	var nodes []string
	for _, p := range w.Pods {
		if p.NodeName != "" && !slices.Contains(nodes, p.NodeName) {
			nodes = append(nodes, p.NodeName)
		}
	}
	slices.Sort(nodes)
	m, ok := n.nc.Providers.For(ref.Input, nodes)
	if !ok {
		return nil
	}
	return &m
}

// localFor is the user's own credentials for host, looked up once.
func (n *nodeChain) localFor(ctx context.Context, host string) []credentials.Credential {
	if n.nc.Local == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.local[host]; ok {
		return c
	}
	c := n.nc.Local(ctx, host)
	n.local[host] = c
	return c
}

// nodePull is the registry.pull result of an image only a provider
// serves: skip, NodeCredentials, never CredentialsRequired.
func (ch *check) nodePull() report.Result {
	m := ch.node
	r := ch.base
	r.Check, r.Status, r.Reason = report.CheckRegistryPull, report.StatusSkip, report.ReasonNodeCredentials
	r.CredentialSource = m.Provider.Source()
	r.Message = fmt.Sprintf("no pull secret matches %s; %s, with the node's identity, which regcheck cannot act as", ch.ref.Registry, m.Message())
	r.Remedy = nodecreds.NodeRemedy(m.Provider, ch.ref.Registry, ch.ref.Repository)
	r.Evidence = nodeEvidence(m)
	return r
}

func nodeEvidence(m *nodecreds.Match) report.Evidence {
	ev := report.Evidence{"provider": m.Provider.Name, "matchImage": m.Pattern}
	if m.Provider.From != "" {
		ev["providerFrom"] = m.Provider.From
	}
	if len(m.Nodes) > 0 {
		ev["providerNodes"] = m.Nodes
	}
	if len(m.Without) > 0 {
		ev["nodesWithoutProvider"] = m.Without
	}
	return ev
}

// nodeDigest is the workload.digest result of an image only a provider
// serves: the digests compared with the user's own credentials for the
// host, which evidence.digestCredentialSource names; skip NodeCredentials
// with the local login to set up when they do not work.
func (ch *check) nodeDigest(podsReadable bool) report.Result {
	m := ch.node
	r := ch.base
	if ch.lookup.err != nil {
		f := registry.AsFailure(ch.lookup.err)
		host := ch.ref.Registry
		r.Check, r.Status, r.Reason = report.CheckWorkloadDigest, report.StatusSkip, report.ReasonNodeCredentials
		r.CredentialSource = m.Provider.Source()
		ev := nodeEvidence(m)
		ev["digestCredentialSource"] = credentialSources(ch.creds)
		ev["digestLookup"] = string(f.Reason)
		r.Evidence = ev
		mine := "you have none for it here (searched Docker's config, its credential helpers and Helm's registry config)"
		r.Remedy = "to compare digests from here, log in locally: " + nodecreds.LocalLogin(host)
		if len(ch.creds) > 0 {
			mine = fmt.Sprintf("yours (%s) met %s: %s", credentialSources(ch.creds), f.Reason, remedy.Message(f.Fault))
			if f.Reason == report.ReasonInvalidCredentials {
				r.Remedy = "your local login for " + host + " was refused or has expired; log in again: " + nodecreds.LocalLogin(host)
			}
		} else if f.Reason != report.ReasonCredentialsRequired {
			mine += fmt.Sprintf(", and the anonymous lookup met %s: %s", f.Reason, remedy.Message(f.Fault))
		}
		r.Message = fmt.Sprintf("the nodes pull %s with their own identity (credential provider %s); regcheck compares its digest with your own credentials for %s, and %s", ch.ref.Short(), m.Provider.Name, host, mine)
		if runs := runningDigests(ch.w, ch.c, registry.Resolution{}, nil); len(runs) > 0 {
			r.Digests = digestsOf("", runs)
		}
		return r
	}
	r = digestVerdict(r, ch.w, ch.c, ch.ref, ch.lookup.res, ch.foreignConfigs(), podsReadable)
	r.CredentialSource = m.Provider.Source()
	for k, v := range nodeEvidence(m) {
		r.Evidence[k] = v
	}
	r.Evidence["digestCredentialSource"] = ch.localSource()
	return r
}

// localSource names the user's own credential that read the digest, as
// usedSource does; all of them when the answer names none of them.
func (ch *check) localSource() string {
	if len(ch.creds) == 0 {
		return ch.lookup.res.CredentialSource
	}
	return ch.usedSource(ch.lookup.res.Used, "")
}

// refusedSecret reports whether a failure is the registry refusing the
// credentials presented, which makes the kubelet try the next ones.
func refusedSecret(reason report.Reason) bool {
	switch reason {
	case report.ReasonInvalidCredentials, report.ReasonForbidden, report.ReasonScopeNotGranted, report.ReasonCredentialsRequired:
		return true
	}
	return false
}

// fallbackNote softens a pull secret's refusal when a credential provider
// also serves the image: the kubelet tries the matching pull secrets
// first, then the provider, so the pods may still pull with the node's
// identity. The secret's fault stays visible, as a warn.
func (ch *check) fallbackNote(r report.Result) report.Result {
	if ch.fallback == nil || r.Status != report.StatusFail || !refusedSecret(r.Reason) {
		return r
	}
	m := ch.fallback
	r.Status = report.StatusWarn
	r.Message += fmt.Sprintf("; the kubelet then falls back to the node's credentials: %s, so pulls may still work, and the digest is not compared", m.Message())
	r.Remedy += "; or drop the pull secret and let the node's identity pull: " + nodecreds.NodeRemedy(m.Provider, ch.ref.Registry, ch.ref.Repository)
	for k, v := range nodeEvidence(m) {
		r.Evidence[k] = v
	}
	return r
}

// nodePullReason: a pod that cannot pull an image only a provider serves
// presented the node's identity; a refusal is that identity's, not a
// missing pull secret.
func nodePullReason(reason report.Reason) report.Reason {
	switch reason {
	case report.ReasonCredentialsRequired, report.ReasonInvalidCredentials:
		return report.ReasonForbidden
	}
	return reason
}
