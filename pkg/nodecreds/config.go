// Package nodecreds knows which images a node pulls with its own identity:
// the kubelet's credential providers (CredentialProviderConfig,
// matchImages) and the cloud registries a node of EKS, GKE or AKS serves
// by default. It matches images as the kubelet does and never asks a
// registry or a cluster itself.
package nodecreds

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	serializerjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	"sigs.k8s.io/yaml"
)

// ConfigReason names why a CredentialProviderConfig was refused.
type ConfigReason string

// Reasons a config file is refused.
const (
	// ConfigUnreadable: the file could not be read.
	ConfigUnreadable ConfigReason = "Unreadable"
	// ConfigMalformed: not YAML or JSON, or a field of the wrong type.
	ConfigMalformed ConfigReason = "Malformed"
	// ConfigUnknownField: a field the API type does not have (strict
	// decoding, as the kubelet decodes it).
	ConfigUnknownField ConfigReason = "UnknownField"
	// ConfigWrongKind: another kind, group or version than
	// kubelet.config.k8s.io/v1 CredentialProviderConfig.
	ConfigWrongKind ConfigReason = "WrongKind"
	// ConfigInvalid: decoded, but the kubelet would refuse it (no
	// providers, a provider without a name or matchImages, a name used
	// twice, a matchImages entry that does not parse).
	ConfigInvalid ConfigReason = "Invalid"
)

// ConfigError is a CredentialProviderConfig regcheck (and the kubelet)
// would not use.
type ConfigError struct {
	Path   string
	Reason ConfigReason
	Err    error
}

func (e *ConfigError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("credential provider config: %s: %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("credential provider config %s: %s: %v", e.Path, e.Reason, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// codecs decode strictly, as the kubelet's credential provider plugin
// manager does (serializer.EnableStrict): an unknown or duplicated field
// is an error, not a silent default.
var codecs = func() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	if err := kubeletconfigv1.AddToScheme(scheme); err != nil {
		panic(err) // a registration of static types cannot fail
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}()

// LoadConfig reads the kubelet's CredentialProviderConfig from path.
func LoadConfig(path string) ([]Provider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Path: path, Reason: ConfigUnreadable, Err: err}
	}
	providers, err := ParseConfig(data)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	for i := range providers {
		providers[i].From = path
	}
	return providers, nil
}

// ParseConfig decodes a CredentialProviderConfig (YAML or JSON) with the
// published kubelet.config.k8s.io/v1 types and validates what the kubelet
// validates for matching: providers, names and matchImages. Fields that
// only the kubelet's exec of the plugin needs (apiVersion of the request,
// defaultCacheDuration, args, env, tokenAttributes) are not checked.
func ParseConfig(data []byte) ([]Provider, error) {
	obj, gvk, err := codecs.UniversalDeserializer().Decode(data, nil, nil)
	want := kubeletconfigv1.SchemeGroupVersion.WithKind("CredentialProviderConfig")
	switch {
	case err != nil && runtime.IsStrictDecodingError(err):
		return nil, &ConfigError{Reason: ConfigUnknownField, Err: err}
	case err != nil && (runtime.IsMissingKind(err) || runtime.IsMissingVersion(err)):
		return nil, &ConfigError{Reason: ConfigWrongKind, Err: fmt.Errorf("no apiVersion and kind; want apiVersion: %s, kind: %s", want.GroupVersion(), want.Kind)}
	case err != nil && runtime.IsNotRegisteredError(err):
		written := writtenKind(data)
		hint := ""
		if written != nil && written.Group == want.Group && written.Kind == want.Kind {
			hint = " (the kubelet's v1alpha1 and v1beta1 have the fields regcheck reads: change apiVersion to " + want.GroupVersion().String() + ")"
		}
		return nil, &ConfigError{Reason: ConfigWrongKind, Err: fmt.Errorf("got %s, want apiVersion: %s, kind: %s%s", gvkString(written), want.GroupVersion(), want.Kind, hint)}
	case err != nil:
		return nil, &ConfigError{Reason: ConfigMalformed, Err: err}
	case gvk == nil || *gvk != want:
		return nil, &ConfigError{Reason: ConfigWrongKind, Err: fmt.Errorf("got %s, want apiVersion: %s, kind: %s", gvkString(gvk), want.GroupVersion(), want.Kind)}
	}
	cfg, ok := obj.(*kubeletconfigv1.CredentialProviderConfig)
	if !ok {
		return nil, &ConfigError{Reason: ConfigWrongKind, Err: fmt.Errorf("decoded %T", obj)}
	}
	if errs := validate(cfg); len(errs) > 0 {
		return nil, &ConfigError{Reason: ConfigInvalid, Err: errors.Join(errs...)}
	}
	out := make([]Provider, 0, len(cfg.Providers))
	for _, p := range cfg.Providers {
		out = append(out, Provider{Name: p.Name, MatchImages: append([]string(nil), p.MatchImages...)})
	}
	return out, nil
}

// writtenKind reads the apiVersion and kind as written, for a refusal.
func writtenKind(data []byte) *schema.GroupVersionKind {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil
	}
	gvk, err := serializerjson.DefaultMetaFactory.Interpret(js)
	if err != nil {
		return nil
	}
	return gvk
}

func gvkString(gvk *schema.GroupVersionKind) string {
	if gvk == nil {
		return "no apiVersion and kind"
	}
	return fmt.Sprintf("apiVersion: %s, kind: %s", gvk.GroupVersion(), gvk.Kind)
}

// validate follows the kubelet's validateCredentialProviderConfig
// (k8s.io/kubernetes pkg/credentialprovider/plugin/config.go) where it
// decides which providers exist and what they match.
func validate(cfg *kubeletconfigv1.CredentialProviderConfig) []error {
	var errs []error
	if len(cfg.Providers) == 0 {
		errs = append(errs, errors.New("providers: at least 1 provider is required"))
	}
	seen := map[string]bool{}
	for i, p := range cfg.Providers {
		field := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", field))
		case strings.ContainsAny(p.Name, "/ "), p.Name == ".", p.Name == "..":
			errs = append(errs, fmt.Errorf("%s.name: %q: the name of an executable, without '/', spaces, '.' or '..'", field, p.Name))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q: duplicate", field, p.Name))
		}
		seen[p.Name] = true
		if len(p.MatchImages) == 0 {
			errs = append(errs, fmt.Errorf("%s.matchImages: at least 1 item is required", field))
		}
		for j, m := range p.MatchImages {
			if _, err := parseSchemeless(m); err != nil {
				errs = append(errs, fmt.Errorf("%s.matchImages[%d]: %q: %v", field, j, m, err))
			}
		}
	}
	return errs
}
