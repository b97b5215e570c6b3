package nodecreds

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// SourcePrefix starts the credential source of a provider:
// "credential-provider/NAME".
const SourcePrefix = "credential-provider/"

// Cloud is the cloud a node's spec.providerID names.
type Cloud string

// Clouds with a built-in provider.
const (
	CloudAWS   Cloud = "aws"
	CloudGCE   Cloud = "gce"
	CloudAzure Cloud = "azure"
)

// CloudOf reads the cloud from a node's spec.providerID
// ("aws:///us-east-1a/i-0abc", "gce://project/zone/name",
// "azure:///subscriptions/…"); "" for none, kind's "kind://…" or any other.
func CloudOf(providerID string) Cloud {
	scheme, _, ok := strings.Cut(providerID, "://")
	if !ok {
		return ""
	}
	switch c := Cloud(strings.ToLower(scheme)); c {
	case CloudAWS, CloudGCE, CloudAzure:
		return c
	}
	return ""
}

// builtIn are the providers the clouds' node images configure, with
// SPEC's patterns. The names are those of the providers' executables on
// EKS (ecr-credential-provider), GKE (auth-provider-gcp) and AKS
// (acr-credential-provider).
var builtIn = map[Cloud]Provider{
	CloudAWS: {Name: "ecr-credential-provider", Cloud: CloudAWS, MatchImages: []string{
		"*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr.ecr-fips.*.amazonaws.com",
	}},
	CloudGCE: {Name: "auth-provider-gcp", Cloud: CloudGCE, MatchImages: []string{
		"*-docker.pkg.dev", "gcr.io", "*.gcr.io",
	}},
	CloudAzure: {Name: "acr-credential-provider", Cloud: CloudAzure, MatchImages: []string{
		"*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us",
	}},
}

// BuiltIn is the built-in provider of cloud.
func BuiltIn(cloud Cloud) (Provider, bool) {
	p, ok := builtIn[cloud]
	p.MatchImages = slices.Clone(p.MatchImages)
	return p, ok
}

// Provider is one credential provider the kubelet may call.
type Provider struct {
	// Name is the provider's name (its executable).
	Name string
	// MatchImages are its patterns, in the config's order.
	MatchImages []string
	// Cloud is set on a built-in provider.
	Cloud Cloud
	// From says where it was learnt: the config file's path, or
	// "nodes' spec.providerID".
	From string
	// Nodes are the nodes that run it (built-in providers); nil means
	// every node (a config file given by flag, or an assumed provider).
	Nodes []string
	// Assumed marks a built-in provider taken from the image's registry
	// alone, because the nodes could not be read (see Assumed).
	Assumed bool
}

// Source is the credential source results name: "credential-provider/NAME".
func (p Provider) Source() string { return SourcePrefix + p.Name }

// Matches reports whether the kubelet would call p for kubeletImage (see
// KubeletImage), and the first pattern that matched.
func (p Provider) Matches(kubeletImage string) (string, bool) {
	for _, m := range p.MatchImages {
		if MatchImage(m, kubeletImage) {
			return m, true
		}
	}
	return "", false
}

// FromNodesSource is Provider.From for built-in providers.
const FromNodesSource = "nodes' spec.providerID"

// FromRegistrySource is Provider.From for an assumed built-in provider
// (see Assumed).
const FromRegistrySource = "the registry's cloud: the nodes could not be read to confirm it"

// Node is what the built-in patterns need of a node.
type Node struct {
	Name       string
	ProviderID string
}

// Set is the providers that apply in a cluster.
type Set struct {
	providers []Provider
	// nodeCloud maps every node read to its cloud ("" for none), when the
	// providers come from the nodes.
	nodeCloud map[string]Cloud
}

// FromConfig is a Set of a config file's providers: every node runs them
// (the flag describes the kubelets' one config).
func FromConfig(providers []Provider) *Set { return &Set{providers: providers} }

// ForCluster is the Set that applies: a config's providers (the
// --image-credential-provider-config flag) when given; else, when the
// nodes could be read (nodesRead), the built-in ones of the clouds their
// spec.providerID (node name → ID) name; else every cloud's, assumed.
func ForCluster(config []Provider, providerIDs map[string]string, nodesRead bool) *Set {
	if config != nil {
		return FromConfig(config)
	}
	if !nodesRead {
		return Assumed()
	}
	nodes := make([]Node, 0, len(providerIDs))
	for name, id := range providerIDs {
		nodes = append(nodes, Node{Name: name, ProviderID: id})
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return FromNodes(nodes)
}

// Assumed is every cloud's built-in provider, for a cluster whose nodes
// could not be read (a namespace-scoped user may not list them) and no
// config was given: an image on ECR, Artifact Registry or ACR that no
// pull secret serves is then most likely pulled with the node's identity
// (why else would its pods run?), so it is a NodeCredentials skip that
// says it is assumed, never a false CredentialsRequired.
func Assumed() *Set {
	s := &Set{}
	for _, c := range []Cloud{CloudAWS, CloudGCE, CloudAzure} {
		p, _ := BuiltIn(c)
		p.From, p.Assumed = FromRegistrySource, true
		s.providers = append(s.providers, p)
	}
	return s
}

// FromNodes turns each cloud named by some node's spec.providerID into
// its built-in provider, run by those nodes. Nil when no node names a
// cloud.
func FromNodes(nodes []Node) *Set {
	s := &Set{nodeCloud: map[string]Cloud{}}
	byCloud := map[Cloud][]string{}
	for _, n := range nodes {
		c := CloudOf(n.ProviderID)
		s.nodeCloud[n.Name] = c
		if c != "" {
			byCloud[c] = append(byCloud[c], n.Name)
		}
	}
	clouds := make([]string, 0, len(byCloud))
	for c := range byCloud {
		clouds = append(clouds, string(c))
	}
	sort.Strings(clouds)
	for _, c := range clouds {
		p, _ := BuiltIn(Cloud(c))
		p.From = FromNodesSource
		p.Nodes = byCloud[Cloud(c)]
		sort.Strings(p.Nodes)
		s.providers = append(s.providers, p)
	}
	if len(s.providers) == 0 {
		return nil
	}
	return s
}

// Providers are the set's providers, in order.
func (s *Set) Providers() []Provider {
	if s == nil {
		return nil
	}
	return s.providers
}

// Match is a provider that serves an image for a workload's pods.
type Match struct {
	Provider Provider
	// Pattern is the matchImages entry that matched.
	Pattern string
	// Nodes are the pods' nodes that run the provider (built-in
	// providers only); Without are the pods' nodes that do not: their
	// pulls get no node credentials for this image.
	Nodes, Without []string
}

// Message says, for a person, which provider serves the image and, when
// the pods' nodes differ, on which nodes.
func (m Match) Message() string {
	serves := "serves"
	if m.Provider.Assumed {
		serves = "most likely serves"
	}
	msg := fmt.Sprintf("the kubelet's credential provider %s %s it (matchImages %q", m.Provider.Name, serves, m.Pattern)
	if m.Provider.From != "" {
		msg += ", from " + m.Provider.From
	}
	msg += ")"
	if len(m.Without) > 0 {
		msg += fmt.Sprintf(" on node %s; pods on node %s (%s) get no node credentials for it",
			strings.Join(m.Nodes, ", "), strings.Join(m.Without, ", "), m.withoutWhy())
	}
	return msg
}

func (m Match) withoutWhy() string {
	if m.Provider.Cloud != "" {
		return "not on " + string(m.Provider.Cloud)
	}
	return "no such provider"
}

// For finds the first provider (in the config's order, as the kubelet
// asks them) that serves image for pods on podNodes (the nodes the
// workload's pods run on; empty when none is scheduled, then any node
// counts). false when none serves it, or the pods run only on nodes that
// do not run it.
func (s *Set) For(image string, podNodes []string) (Match, bool) {
	if s == nil {
		return Match{}, false
	}
	target, ok := KubeletImage(image)
	if !ok {
		return Match{}, false
	}
	for _, p := range s.providers {
		pattern, ok := p.Matches(target)
		if !ok {
			continue
		}
		m := Match{Provider: p, Pattern: pattern}
		if p.Nodes == nil || len(podNodes) == 0 {
			return m, true
		}
		for _, n := range podNodes {
			if slices.Contains(p.Nodes, n) {
				m.Nodes = append(m.Nodes, n)
			} else {
				m.Without = append(m.Without, n)
			}
		}
		if len(m.Nodes) > 0 {
			return m, true
		}
	}
	return Match{}, false
}
