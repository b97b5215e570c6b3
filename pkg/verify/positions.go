package verify

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The scheme's decoders (cli-runtime's Builder, apimachinery's YAML and
// JSON serializers) turn YAML into JSON before decoding and keep no
// position, so results could not say where an image is written. This
// second pass reads the same bytes as yaml.v3 nodes, which carry lines,
// and only for positions: what is checked is always what the scheme
// decoded. JSON is YAML, so the same pass serves both.

// object is one object's position: its own line and its images' lines.
type object struct {
	line    int
	images  map[ContainerKey]int
	secrets map[string]int // imagePullSecrets names
}

// positions are the objects of one input in document order, by identity,
// so each decoded object takes the next position with its identity.
type positions struct {
	byID map[string][]*object
}

// identity names an object as both passes see it.
func identity(apiVersion, kind, namespace, name string) string {
	return apiVersion + "\x00" + kind + "\x00" + namespace + "\x00" + name
}

// readPositions reads data's documents. What yaml.v3 cannot read gets no
// positions (nil), never an error: the scheme's decoder is the judge of
// the input.
func readPositions(data []byte) *positions {
	p := &positions{byID: map[string][]*object{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return p
		}
		if err != nil {
			return p // positions for what came before
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		p.add(doc.Content[0])
	}
}

// add records m, a mapping, and the items of a List.
func (p *positions) add(m *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return
	}
	kind := scalar(get(m, "kind"))
	if items := get(m, "items"); items != nil && items.Kind == yaml.SequenceNode && strings.HasSuffix(kind, "List") {
		for _, it := range items.Content {
			p.add(it)
		}
		return
	}
	meta := get(m, "metadata")
	id := identity(scalar(get(m, "apiVersion")), kind, scalar(get(meta, "namespace")), scalar(get(meta, "name")))
	o := &object{line: m.Line, images: map[ContainerKey]int{}, secrets: map[string]int{}}
	containers(m, o)
	p.byID[id] = append(p.byID[id], o)
}

// take returns the position of u, the next one with its identity.
func (p *positions) take(u *unstructured.Unstructured) *object {
	if p == nil {
		return nil
	}
	id := identity(u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
	q := p.byID[id]
	if len(q) == 0 {
		return nil
	}
	p.byID[id] = q[1:]
	return q[0]
}

// containers finds the container lists anywhere under n (a workload has
// one pod template, wherever its kind keeps it) and records the line of
// each container's image, and of each imagePullSecrets name.
func containers(n *yaml.Node, into *object) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "containers", "initContainers", "ephemeralContainers":
				if v.Kind == yaml.SequenceNode {
					for _, c := range v.Content {
						if img := get(c, "image"); img != nil {
							into.images[ContainerKey{k.Value, scalar(get(c, "name"))}] = img.Line
						}
					}
					continue
				}
			case "imagePullSecrets":
				if v.Kind == yaml.SequenceNode {
					for _, ref := range v.Content {
						if name := get(ref, "name"); name != nil {
							into.secrets[name.Value] = name.Line
						}
					}
					continue
				}
			}
			containers(v, into)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			containers(c, into)
		}
	}
}

// get is the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalar is n's value when n is a scalar, else "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
