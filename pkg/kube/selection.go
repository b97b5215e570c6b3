package kube

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Workload kinds regcheck groups pods under.
const (
	KindDeployment            = "Deployment"
	KindStatefulSet           = "StatefulSet"
	KindDaemonSet             = "DaemonSet"
	KindReplicaSet            = "ReplicaSet"
	KindJob                   = "Job"
	KindCronJob               = "CronJob"
	KindReplicationController = "ReplicationController"
	KindPod                   = "Pod"
)

// Selection says which workloads to read, as kubectl's -n, -A, -l and
// positional TYPE[/NAME] arguments do.
type Selection struct {
	// Namespace is used unless AllNamespaces; empty means "default".
	Namespace     string
	AllNamespaces bool
	// LabelSelector is passed to every LIST, as `kubectl get -l` does; nil
	// selects everything. A parsed selector, never the flag's text: a
	// selector that does not parse is the user's to fix (labels.Parse's
	// error), not an API server's 400.
	LabelSelector labels.Selector
	// Targets narrows the result to these workloads; empty means all.
	Targets []Target
}

// Target is one positional TYPE[/NAME] argument.
type Target struct {
	Kind string // one of the Kind constants
	Name string // empty: every workload of Kind
}

func (t Target) String() string {
	if t.Name == "" {
		return t.Kind
	}
	return t.Kind + "/" + t.Name
}

// notFound is the API server's NotFound for a named target, as `kubectl
// get deploy/web` meets it: deployments.apps "web" not found.
func (t Target) notFound() error {
	k, _ := LookupKind(t.Kind)
	return apierrors.NewNotFound(schema.GroupResource{Group: k.Group, Resource: k.Resource}, t.Name)
}

// missingTargets are the named targets no workload in ws answers to, among
// those whose resource inv could read: a target that could not be looked
// for is a cluster.read skip, not a missing workload.
func missingTargets(targets []Target, ws []Workload, inv *Inventory) []error {
	var out []error
	for _, t := range targets {
		k, _ := LookupKind(t.Kind)
		if t.Name == "" || !inv.Readable(k.Resource) {
			continue
		}
		found := false
		for i := range ws {
			if t.matches(&ws[i]) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, t.notFound())
		}
	}
	return out
}

// ParseTarget parses TYPE or TYPE/NAME as kubectl does: short names
// (deploy, sts, ds, rs, cj, rc, po), singulars, plurals, kind names in any
// case and an optional API group suffix (deployments.apps/web).
func ParseTarget(s string) (Target, error) {
	typ, name, hasName := strings.Cut(s, "/")
	if hasName && (name == "" || strings.Contains(name, "/")) {
		return Target{}, fmt.Errorf("invalid workload %q: want TYPE or TYPE/NAME", s)
	}
	typ = strings.ToLower(typ)
	group := ""
	if resource, g, ok := strings.Cut(typ, "."); ok {
		typ, group = resource, g
	}
	k, ok := kindsByName[typ]
	if !ok {
		return Target{}, fmt.Errorf("unsupported workload type %q in %q: want deploy, sts, ds, rs, job, cronjob, rc or pod", typ, s)
	}
	if group != "" && group != k.Group && !(group == "core" && k.Group == "") {
		return Target{}, fmt.Errorf("unsupported workload type %q: %s is not in API group %q", s, k.Kind, group)
	}
	return Target{Kind: k.Kind, Name: name}, nil
}

// ParseTargets parses each positional argument with ParseTarget.
func ParseTargets(args []string) ([]Target, error) {
	targets := make([]Target, 0, len(args))
	for _, a := range args {
		t, err := ParseTarget(a)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// matches reports whether w (or, for a pod target, one of its pods) is
// selected by t.
func (t Target) matches(w *Workload) bool {
	if t.Kind == KindPod && w.Kind != KindPod {
		for _, p := range w.Pods {
			if t.Name == "" || p.Name == t.Name {
				return true
			}
		}
		return false
	}
	return t.Kind == w.Kind && (t.Name == "" || t.Name == w.Name)
}
