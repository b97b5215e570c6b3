package verify

import (
	"bytes"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/regcheck/regcheck/pkg/kube"
)

// Manifest is one workload object of the input: its pod template as the
// scan reads one from a cluster, where it was written, and the line of
// each container's image.
type Manifest struct {
	kube.Workload
	// File is the input it came from (a path, or STDIN).
	File string
	// Line is the line of the object itself (its first key); 0 when the
	// position pass could not read the file.
	Line int
	// ImageLines maps a container to the line of its image: (list, name),
	// list being containers, initContainers or ephemeralContainers.
	ImageLines map[ContainerKey]int
	// SecretLines maps an imagePullSecrets name to its line.
	SecretLines map[string]int
	// Source is set for rendered charts: the template file Helm's
	// "# Source:" comment names; File is then the chart.
	Source string
}

// ContainerKey names a container within one pod template.
type ContainerKey struct {
	List string // containers, initContainers, ephemeralContainers
	Name string
}

// keyOf is the key of c in its template.
func keyOf(c kube.Container) ContainerKey {
	switch {
	case c.Init:
		return ContainerKey{"initContainers", c.Name}
	case c.Ephemeral:
		return ContainerKey{"ephemeralContainers", c.Name}
	}
	return ContainerKey{"containers", c.Name}
}

// Decoded is what Decode found.
type Decoded struct {
	Manifests []Manifest
	// Objects counts every object read (Lists flattened), workloads or not.
	Objects int
	// Notes say what was read but not checked (a workload kind in an
	// apiVersion no longer served).
	Notes []string
}

// Decode reads every object of inputs with cli-runtime's local Builder
// (multi-document YAML and JSON, Lists flattened, no server asked) and
// turns the built-in workload kinds into typed objects with client-go's
// scheme. Objects without a namespace get namespace ("default" when
// empty), as kubectl apply -n would place them. Objects of other kinds
// (Services, ConfigMaps, custom resources) are counted and passed over.
func Decode(inputs []Input, namespace string) (*Decoded, error) {
	if namespace == "" {
		namespace = "default"
	}
	if len(inputs) == 0 {
		return &Decoded{}, nil
	}
	b := resource.NewLocalBuilder().Unstructured().ContinueOnError().Flatten()
	positions := map[string]*positions{}
	for _, in := range inputs {
		b = b.Stream(bytes.NewReader(in.Data), in.Name)
		positions[in.Name] = readPositions(in.Data)
	}
	infos, err := b.Do().Infos()
	if err != nil {
		return nil, err
	}
	out := &Decoded{}
	for _, info := range infos {
		out.Objects++
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		gvk := u.GroupVersionKind()
		ns := u.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		pos := positions[info.Source].take(u)
		if _, ok := kube.KindOf(gvk.GroupKind()); !ok {
			if kube.IsWorkloadKindName(gvk.Kind) {
				out.Notes = append(out.Notes, notServed(info.Source, pos, gvk.Kind, ns, u.GetName(), gvk.GroupVersion().String()))
			}
			continue
		}
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			out.Notes = append(out.Notes, notServed(info.Source, pos, gvk.Kind, ns, u.GetName(), gvk.GroupVersion().String()))
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
			return nil, fmt.Errorf("%s: decoding %s %s: %w", where(info.Source, pos), gvk.Kind, u.GetName(), err)
		}
		typed.GetObjectKind().SetGroupVersionKind(gvk)
		w, ok := kube.WorkloadOf(typed, u.GetName(), ns)
		if !ok {
			out.Notes = append(out.Notes, notServed(info.Source, pos, gvk.Kind, ns, u.GetName(), gvk.GroupVersion().String()))
			continue
		}
		m := Manifest{Workload: w, File: info.Source}
		if pos != nil {
			m.Line, m.ImageLines, m.SecretLines = pos.line, pos.images, pos.secrets
		}
		out.Manifests = append(out.Manifests, m)
	}
	return out, nil
}

// notServed says a workload in an apiVersion no longer served is not checked.
func notServed(file string, pos *object, kind, ns, name, gv string) string {
	return fmt.Sprintf("%s: %s %s/%s is not checked: Kubernetes no longer serves %s in %s (the API server would refuse it)", where(file, pos), kind, ns, name, kind, gv)
}

// where is "file:line", or the file when the line is unknown.
func where(file string, pos *object) string {
	if pos == nil || pos.line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, pos.line)
}
