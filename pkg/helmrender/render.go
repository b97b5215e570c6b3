// Package helmrender renders a chart the way `helm template` does, with
// Helm's own action package (action.Install, DryRun and ClientOnly: no
// cluster is asked), and splits the result by the template each document
// came from, so checks can name the template file and line.
package helmrender

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// Options are helm template's flags that choose what is rendered.
type Options struct {
	Chart       string // a path, an archive, repo/name, a URL or oci://...
	Version     string // --version
	RepoURL     string // --repo
	ReleaseName string // default "release-name", as helm template
	Namespace   string // -n: .Release.Namespace
	ValueFiles  []string
	Set         []string
	SetString   []string
	SetFile     []string
	// PlainHTTP, CAFile and InsecureSkipTLSVerify are for an OCI chart's
	// registry, as helm template's flags of the same names.
	PlainHTTP             bool
	CAFile                string
	InsecureSkipTLSVerify bool
	// Settings are Helm's environment (HELM_REGISTRY_CONFIG, repository
	// config and cache, ...); nil reads it with cli.New.
	Settings *cli.EnvSettings
	// Log receives Helm's debug lines; nil drops them.
	Log io.Writer
}

// Template is the rendered output of one template file: its documents as
// `helm template --show-only PATH` prints them, less Helm's "# Source:"
// comment line, so a line of it is the template's own line wherever the
// template's directives do not add or remove lines (comments and blank
// lines are kept by the renderer).
type Template struct {
	// Source is the path Helm's "# Source:" comment names:
	// CHART/templates/x.yaml.
	Source string
	// File is where the template is: for a chart rendered from a local
	// directory, that directory's path to it (subcharts in its charts/
	// included), so CI annotations land on the repository's file; else
	// Source.
	File string
	Text []byte
}

// Rendered is a rendered chart.
type Rendered struct {
	Chart     string // name-version
	Templates []Template
}

// sourceRE reads Helm's "# Source: CHART/templates/x.yaml" comment, as
// helm template's --show-only does.
var sourceRE = regexp.MustCompile(`# Source: ([^\n]+)`)

// Render renders opts.Chart as helm template does, hooks included.
func Render(ctx context.Context, opts Options) (*Rendered, error) {
	settings := opts.Settings
	if settings == nil {
		settings = cli.New()
	}
	if opts.Namespace != "" {
		settings.SetNamespace(opts.Namespace)
	}
	rc, err := registryClient(opts, settings)
	if err != nil {
		return nil, fmt.Errorf("building Helm's registry client: %w", err)
	}
	install := action.NewInstall(&action.Configuration{RegistryClient: rc, Log: func(string, ...any) {}})
	install.SetRegistryClient(rc)
	install.DryRun, install.DryRunOption = true, "true"
	install.ClientOnly = true
	install.Replace = true // no name check, as helm template
	install.ReleaseName = opts.ReleaseName
	if install.ReleaseName == "" {
		install.ReleaseName = "release-name"
	}
	install.Namespace = settings.Namespace()
	install.Version = opts.Version
	install.RepoURL = opts.RepoURL
	install.PlainHTTP = opts.PlainHTTP
	install.CaFile = opts.CAFile
	install.InsecureSkipTLSverify = opts.InsecureSkipTLSVerify

	path, err := install.LocateChart(opts.Chart, settings)
	if err != nil {
		return nil, err
	}
	vopts := values.Options{ValueFiles: opts.ValueFiles, Values: opts.Set, StringValues: opts.SetString, FileValues: opts.SetFile}
	vals, err := vopts.MergeValues(getter.All(settings))
	if err != nil {
		return nil, err
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, err
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(ch, req); err != nil {
			return nil, fmt.Errorf("%w (run helm dependency build)", err)
		}
	}
	rel, err := install.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, err
	}
	// helm template's own assembly: the manifest, then each hook.
	var all strings.Builder
	fmt.Fprintln(&all, strings.TrimSpace(rel.Manifest))
	for _, h := range rel.Hooks {
		fmt.Fprintf(&all, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	templates := byTemplate(all.String())
	if st, err := os.Stat(opts.Chart); err == nil && st.IsDir() {
		for i := range templates {
			if _, rest, ok := strings.Cut(templates[i].Source, "/"); ok {
				templates[i].File = filepath.Join(opts.Chart, filepath.FromSlash(rest))
			}
		}
	}
	return &Rendered{Chart: ch.Metadata.Name + "-" + ch.Metadata.Version, Templates: templates}, nil
}

// byTemplate groups the documents of manifest by their "# Source:" path,
// in helm template --show-only's order and format, less the comment line.
func byTemplate(manifest string) []Template {
	split := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(split))
	for k := range split {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []Template
	index := map[string]int{}
	for _, k := range keys {
		doc := split[k]
		path := "rendered"
		if m := sourceRE.FindStringSubmatchIndex(doc); m != nil && m[0] == 0 {
			path = strings.TrimSpace(doc[m[2]:m[3]])
			doc = strings.TrimPrefix(doc[m[1]:], "\n")
		}
		i, ok := index[path]
		if !ok {
			i = len(out)
			index[path] = i
			out = append(out, Template{Source: path, File: path})
		} else {
			out[i].Text = append(out[i].Text, "---\n"...)
		}
		out[i].Text = append(out[i].Text, doc+"\n"...)
	}
	return out
}

// registryClient is Helm's OCI client as helm template builds it, with
// Helm's registry config for credentials.
func registryClient(opts Options, settings *cli.EnvSettings) (*registry.Client, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if opts.CAFile != "" || opts.InsecureSkipTLSVerify {
		return registry.NewRegistryClientWithTLS(log, "", "", opts.CAFile, opts.InsecureSkipTLSVerify, settings.RegistryConfig, false)
	}
	ropts := []registry.ClientOption{
		registry.ClientOptEnableCache(true),
		registry.ClientOptWriter(log),
		registry.ClientOptCredentialsFile(settings.RegistryConfig),
	}
	if opts.PlainHTTP {
		ropts = append(ropts, registry.ClientOptPlainHTTP())
	}
	return registry.NewClient(ropts...)
}
