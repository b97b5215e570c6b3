package helmrelease

import (
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	"github.com/regcheck/regcheck/pkg/kube"
)

// Resource is one workload of a release's manifest.
type Resource struct {
	Kind      string // one of kube's Kind constants
	Name      string
	Namespace string // the document's metadata.namespace, else the release's
}

// String is "Kind/name", as scan results name workloads.
func (r Resource) String() string { return r.Kind + "/" + r.Name }

// Target is the scan target that selects this resource.
func (r Resource) Target() kube.Target { return kube.Target{Kind: r.Kind, Name: r.Name} }

// header is all regcheck reads of a manifest document. Parsing nothing
// more keeps a chart's odd resources (CRDs, big ConfigMaps) from mattering.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// Workloads returns the workload resources of a rendered manifest (as
// `helm get manifest` prints it), sorted by namespace, kind and name.
// Other kinds are ignored; a resource without a namespace is in
// defaultNamespace, as Helm installs it.
func Workloads(manifest, defaultNamespace string) ([]Resource, error) {
	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))

	seen := map[Resource]bool{}
	var out []Resource
	for _, k := range keys {
		var h header
		if err := yaml.Unmarshal([]byte(docs[k]), &h); err != nil {
			return nil, fmt.Errorf("parsing document %s of the manifest: %w", strings.TrimPrefix(k, "manifest-"), err)
		}
		if !isWorkload(h.APIVersion, h.Kind) || h.Metadata.Name == "" {
			continue
		}
		r := Resource{Kind: h.Kind, Name: h.Metadata.Name, Namespace: h.Metadata.Namespace}
		if r.Namespace == "" {
			r.Namespace = defaultNamespace
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return out, nil
}

func isWorkload(apiVersion, kind string) bool {
	group := ""
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		group = g
	}
	// kube's table of kinds says which API groups each kind lives in: a
	// custom resource called "Deployment" in another group is not one.
	k, ok := kube.LookupKind(kind)
	return ok && k.InManifestGroup(group)
}
