package doctor

import (
	"context"
	"errors"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// pinnedByDigest reports a reference pinned by digest with a path
// (host/repo@sha256:…), as pkg/imageref parses it: no digest pattern of
// its own.
func pinnedByDigest(value string) bool {
	name, _, _ := strings.Cut(value, "@")
	ref, err := imageref.Parse(value)
	return err == nil && ref.Digest != "" && strings.Contains(name, "/")
}

// settingKind says what a workload setting names.
type settingKind int

const (
	notRegistry settingKind = iota
	imageSetting
	registrySetting
)

// classify decides whether an env var (or ConfigMap key) names an image
// or a registry: by its name (*REGISTRY*, *_IMAGE) or by its value
// (oci://…, host/repo@sha256:…, a bare sha256 digest).
func classify(name, value string) settingKind {
	value = strings.TrimSpace(value)
	if value == "" {
		return notRegistry
	}
	upper := strings.ToUpper(name)
	_, bare := bareDigest(value)
	switch {
	case strings.HasPrefix(value, "oci://"), pinnedByDigest(value):
		return imageSetting
	case strings.HasSuffix(upper, "_IMAGE") || upper == "IMAGE":
		return imageSetting
	case bare && (strings.Contains(upper, "DIGEST") || strings.Contains(upper, "IMAGE") || strings.Contains(upper, "BUNDLE")):
		return imageSetting
	case strings.Contains(upper, "REGISTRY") && !strings.ContainsAny(value, " \t"):
		if strings.Contains(strings.TrimPrefix(strings.TrimPrefix(value, "https://"), "http://"), "/") && !strings.HasPrefix(value, "http") {
			return imageSetting // REGISTRY=host/repo names a repository
		}
		return registrySetting
	}
	return notRegistry
}

// readSettings returns the references the workloads' env vars and
// referenced ConfigMap keys name. It reads specs only (never a pod's
// process environment, never a Secret) and files what it could not read.
func (d *run) readSettings(ctx context.Context, inv *kube.Inventory) []subject {
	cms := &configMaps{d: d, byNS: map[namespace]map[string]map[string]string{}}
	var out []subject
	for i := range inv.Workloads {
		w := &inv.Workloads[i]
		// The template's env travels in the inventory: no GET per workload.
		for _, c := range w.Containers {
			base := report.Result{Context: w.Context, Namespace: w.Namespace, Workload: w.ID(), Container: c.Name}
			for _, s := range envSettings(ctx, c, namespace{w.Context, w.Namespace}, cms) {
				switch classify(s.name, s.value) {
				case imageSetting:
					out = append(out, d.settingSubject(base, s))
				case registrySetting:
					if d.cfg.Checks.Enabled(Reachable) || d.cfg.Checks.Enabled(Credentials) {
						d.cfg.Registries = append(d.cfg.Registries, s.value)
					}
				}
			}
		}
	}
	return out
}

func (d *run) settingSubject(base report.Result, s setting) subject {
	base.Evidence = report.Evidence{"setting": s.name, "from": s.from}
	value := strings.TrimSpace(s.value)
	return subject{input: value, check: WorkloadSettings, base: base, implicitTag: !hasTagOrDigest(value)}
}

// setting is one name/value a container is configured with.
type setting struct{ name, value, from string }

func envSettings(ctx context.Context, c kube.Container, ns namespace, cms *configMaps) []setting {
	var out []setting
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue // Secrets are never read for settings
		}
		data := cms.get(ctx, ns, ef.ConfigMapRef.Name)
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, setting{name: ef.Prefix + k, value: data[k], from: "configmap/" + ef.ConfigMapRef.Name + " (envFrom)"})
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			out = append(out, setting{name: e.Name, value: e.Value, from: "env"})
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if v, ok := cms.get(ctx, ns, ref.Name)[ref.Key]; ok {
				out = append(out, setting{name: e.Name, value: v, from: "configmap/" + ref.Name + " key " + ref.Key})
			}
		}
	}
	return out
}

// namespace is a namespace of one cluster: its kubeconfig context ("" when
// the run reads one) and name.
type namespace struct{ context, name string }

// configMaps lists each namespace's ConfigMaps once.
type configMaps struct {
	d    *run
	byNS map[namespace]map[string]map[string]string
}

func (c *configMaps) get(ctx context.Context, loc namespace, name string) map[string]string {
	ns := loc.name
	m, ok := c.byNS[loc]
	if !ok {
		m = map[string]map[string]string{}
		var data map[string]map[string]string
		err := errors.New("no cluster to read ConfigMaps from")
		if c.d.deps.ConfigMaps != nil {
			data, err = c.d.deps.ConfigMaps(ctx, loc.context, ns)
		}
		if err != nil {
			c.d.add(WorkloadSettings, report.Result{Check: report.CheckImageReference, Context: loc.context, Namespace: ns, Status: report.StatusSkip, Reason: report.ReasonCredentialsUnreadable,
				Message:  "ConfigMaps in " + ns + " could not be listed, so settings read from them were not checked: " + shortErr(err),
				Remedy:   "grant list on configmaps in " + ns + " (kubectl auth can-i list configmaps -n " + ns + ")",
				Evidence: report.Evidence{"forbidden": apierrors.IsForbidden(err)}})
		} else {
			m = data
		}
		c.byNS[loc] = m
	}
	return m[name]
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
