package cmd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/printers"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// CommonOptions are the flags every command shares (SPEC "Common flags"),
// plus what Complete derives from them and from Helm's environment.
type CommonOptions struct {
	genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	Getenv      func(string) string

	Output                string
	Timeout               time.Duration
	Concurrency           int
	PlainHTTP             bool
	InsecureSkipTLSVerify bool
	CAFile                string
	DockerConfig          string
	RegistryConfig        string
	Username              string
	PasswordStdin         bool
	FailOn                string
	Debug                 bool
	Color                 string

	// HelmMode is true when Helm runs regcheck as a plugin: defaults then
	// come from Helm's environment (HELM_NAMESPACE, HELM_KUBECONTEXT, ...).
	HelmMode bool
	password string

	// ImageCredentialProviderConfig is --image-credential-provider-config
	// (scan, release, doctor, creds); nodeProviders its providers once read.
	ImageCredentialProviderConfig string
	nodeProviders                 []nodecreds.Provider

	// newer is --newer (scan, release, doctor).
	newer newerFlags
	// contexts is --contexts and --all-contexts (scan, doctor).
	contexts contextFlags
}

// NewCommonOptions returns the defaults. The kube flags come from
// cli-runtime, less the three whose names SPEC gives to the registry:
// --insecure-skip-tls-verify, --username and --password.
func NewCommonOptions(streams genericiooptions.IOStreams, getenv func(string) string) *CommonOptions {
	cf := genericclioptions.NewConfigFlags(true)
	cf.Insecure = nil
	cf.Username = nil
	cf.Password = nil
	return &CommonOptions{
		IOStreams:   streams,
		ConfigFlags: cf,
		Getenv:      getenv,
		Output:      "table",
		Timeout:     60 * time.Second,
		// --concurrency: 32, the most requests in flight that kept a
		// manifest request within 20% of its time at 8 (make bench's
		// sweep, concurrency_chosen) both on the idle machine (55.8 ms
		// against 53.6, 2026-11-30 10:45 UTC) and on the loaded one
		// (60.8 against 52.7 at load 8-10, 13:27). 64 kept it only on
		// the idle machine (60.1 ms there, 72.6 loaded): its gain (0.63 s
		// against 0.99 s for 478 images) needs a registry with CPU to
		// spare, and a default must hold on a busy one.
		Concurrency: 32,
		FailOn:      "fail",
		Color:       "auto",
		HelmMode:    getenv("HELM_BIN") != "" || getenv("HELM_PLUGIN_NAME") != "",
	}
}

// AddFlags binds the common flags.
func (o *CommonOptions) AddFlags(flags *pflag.FlagSet) {
	o.ConfigFlags.AddFlags(flags)
	flags.StringVarP(&o.Output, "output", "o", o.Output, "output format: "+strings.Join(printers.Formats, "|"))
	flags.DurationVar(&o.Timeout, "timeout", o.Timeout, "time limit for the whole run; every network call is bounded by it")
	flags.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "registry requests in flight")
	flags.BoolVar(&o.PlainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to the registry (as helm push --plain-http)")
	flags.BoolVar(&o.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "do not verify the registry's TLS certificate")
	flags.StringVar(&o.CAFile, "ca-file", "", "PEM file of CA certificates to trust for the registry")
	flags.StringVar(&o.DockerConfig, "docker-config", "", "Docker config: a directory holding config.json, or the file (default $DOCKER_CONFIG or ~/.docker)")
	flags.StringVar(&o.RegistryConfig, "registry-config", "", "Helm's registry config file (default $HELM_REGISTRY_CONFIG or Helm's default path)")
	flags.StringVar(&o.Username, "username", "", "registry username (use with --password-stdin)")
	flags.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the registry password from stdin")
	flags.StringVar(&o.FailOn, "fail-on", o.FailOn, "exit 1 on: fail|warn")
	flags.StringVar(&o.Color, "color", o.Color, "colour statuses: auto (only on a terminal, honouring NO_COLOR and TERM=dumb), always or never")
	flags.BoolVarP(&o.Debug, "debug", "v", false, "trace every registry exchange on stderr (redacted: no password, token or Authorization header)")
}

// Complete fills what flags left to the environment: Helm's variables
// under Helm, and the password from stdin.
func (o *CommonOptions) Complete(flags *pflag.FlagSet) error {
	if o.HelmMode {
		o.fromHelmEnv(flags)
	}
	if o.PasswordStdin {
		pw, err := readPassword(o.In)
		if err != nil {
			return cannotRun("reading the password from stdin: %v", err)
		}
		o.password = pw
	}
	return nil
}

// fromHelmEnv applies Helm's plugin environment where no flag was given:
// Helm strips its own global flags before running a plugin and passes
// them as HELM_* variables instead. HELM_REGISTRY_CONFIG is not one of
// them here: Helm sets it for every plugin, to its default path when the
// user gave none, so it is no --registry-config. Package credentials reads
// it and tells Helm's default (a missing file means "not logged in") from
// a path the user named.
func (o *CommonOptions) fromHelmEnv(flags *pflag.FlagSet) {
	set := func(name string, target *string, env string) {
		if v := o.Getenv(env); v != "" && !flags.Changed(name) && target != nil {
			*target = v
		}
	}
	set("namespace", o.ConfigFlags.Namespace, "HELM_NAMESPACE")
	if !o.manyContexts() {
		set("context", o.ConfigFlags.Context, "HELM_KUBECONTEXT")
	}
	if d := o.Getenv("HELM_DEBUG"); (d == "1" || d == "true") && !flags.Changed("debug") {
		o.Debug = true
	}
}

// readPassword reads one line, as docker login --password-stdin does.
func readPassword(in io.Reader) (string, error) {
	if in == nil {
		return "", fmt.Errorf("no stdin")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("stdin is empty")
	}
	return line, nil
}

// Validate checks the common flags.
func (o *CommonOptions) Validate() error {
	if err := printers.ValidateFormat(o.Output); err != nil {
		return cannotRun("%v", err)
	}
	if o.FailOn != "fail" && o.FailOn != "warn" {
		return cannotRun("--fail-on must be fail or warn, not %q", o.FailOn)
	}
	if o.Color != "auto" && o.Color != "always" && o.Color != "never" {
		return cannotRun("--color must be auto, always or never, not %q", o.Color)
	}
	if o.Timeout <= 0 {
		return cannotRun("--timeout must be positive")
	}
	if o.Concurrency < 1 {
		return cannotRun("--concurrency must be at least 1")
	}
	if o.PasswordStdin && o.Username == "" {
		return cannotRun("--password-stdin needs --username")
	}
	if o.PlainHTTP && (o.CAFile != "" || o.InsecureSkipTLSVerify) {
		return cannotRun("--plain-http cannot be combined with --ca-file or --insecure-skip-tls-verify")
	}
	return nil
}

// Context bounds the whole run by --timeout.
func (o *CommonOptions) Context(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, o.Timeout)
}

// RegistryClient builds the registry client from the flags.
func (o *CommonOptions) RegistryClient() (*registry.Client, error) {
	return o.registryClient(func(*registry.Options) {})
}

// registryClient is RegistryClient with options a command adds (serve's
// rate limit and request counter).
func (o *CommonOptions) registryClient(more func(*registry.Options)) (*registry.Client, error) {
	opts := registry.Options{
		PlainHTTP:             o.PlainHTTP,
		InsecureSkipTLSVerify: o.InsecureSkipTLSVerify,
		CAFile:                o.CAFile,
		RequestTimeout:        requestTimeout(o.Timeout),
		UserAgent:             "regcheck",
	}
	if o.Debug {
		opts.Trace = o.ErrOut
	}
	more(&opts)
	c, err := registry.NewClient(opts)
	if err != nil {
		f := registry.AsFailure(err) // the CA file: every error NewClient returns is a *Failure
		return nil, cannotRun("%s", remedy.Line(f.Reason, f.Fault))
	}
	return c, nil
}

// requestTimeout keeps one request from eating the whole run: a server
// that never answers must end as Unreachable with time left to report it.
func requestTimeout(run time.Duration) time.Duration {
	if t := run / 3; t < 20*time.Second {
		return t
	}
	return 20 * time.Second
}

// LocalCredentials builds the local credential sources from the flags.
// audience is who reads registry faults' fixes: a Helm user when Helm
// runs regcheck, else a kubectl user.
func (o *CommonOptions) audience() remedy.Audience {
	if o.HelmMode {
		return remedy.ForHelm
	}
	return remedy.ForKubectl
}

func (o *CommonOptions) LocalCredentials() *credentials.Local {
	return credentials.NewLocal(credentials.LocalOptions{
		DockerConfig:   o.DockerConfig,
		RegistryConfig: o.RegistryConfig,
		Username:       o.Username,
		Password:       o.password,
		HelmMode:       o.HelmMode,
		Getenv:         o.Getenv,
	})
}

// Print writes the report and turns its verdict into the exit code.
func (o *CommonOptions) Print(r report.Report) error {
	if err := printers.PrintWith(o.Out, o.Output, r, printers.Options{Color: o.useColor()}); err != nil {
		return cannotRun("writing output: %v", err)
	}
	return o.exitFor(r)
}

// exitFor turns a printed report's verdict into the exit code (--fail-on).
func (o *CommonOptions) exitFor(r report.Report) error {
	failOn := report.StatusFail
	if o.FailOn == "warn" {
		failOn = report.StatusWarn
	}
	if code := r.ExitCode(failOn); code != report.ExitOK {
		return &ExitError{Code: code}
	}
	return nil
}

// useColor decides --color auto as kind does: colour only on a terminal,
// never with NO_COLOR set or TERM=dumb.
func (o *CommonOptions) useColor() bool {
	switch o.Color {
	case "always":
		return true
	case "never":
		return false
	}
	if o.Getenv("NO_COLOR") != "" || o.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := o.Out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
