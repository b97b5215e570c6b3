package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// ParsePullSecret parses the payload of a kubernetes.io/dockerconfigjson
// secret (legacy false) or a kubernetes.io/dockercfg one (legacy true) and
// predicts what the kubelet does with it.
//
// The kubelet decodes a pull secret as a whole (k8s.io/kubernetes
// pkg/credentialprovider: DockerConfigEntry.UnmarshalJSON and
// decodeDockerConfigFieldAuth, called from secrets.MakeDockerKeyring): an
// "auth" that is not base64 exactly as written (a stray space), one without
// a colon, or a field of the wrong JSON type (an "email" that is a number)
// fails the decoding of the whole payload, and MakeDockerKeyring then fails
// for the pod. The kubelet does not go on without the secret: its image
// manager returns that error before any pull (pkg/kubelet/images
// image_manager.go, makeLookupPullCredentialsFunc), so no image of the pod
// is pulled, from any registry, and its containers wait with the decoding
// error as their reason (seen on the real kubelet 1.37: "illegal base64
// data at input byte 12"). So when the kubelet would reject the payload,
// rejected is true, no entry comes back, and the one problem says why,
// FailsPulls set. Otherwise the entries and problems are
// ParseDockerConfigJSON's or ParseDockerCfg's.
func ParsePullSecret(data []byte, legacy bool, source string) (entries []Entry, problems []Problem, rejected bool) {
	if fault, key := kubeletRejects(data, legacy); fault != "" {
		p := newProblem(Store{Source: source, Origin: OriginCluster}, key, report.ReasonMalformedCredentials, fmt.Sprintf(
			"%s %s; the kubelet decodes a pull secret whole and fails every image pull of a pod that names it, before asking any registry (the pod waits with the decoding error as its reason)",
			source, fault))
		p.FailsPulls = true
		return nil, []Problem{p}, true
	}
	if legacy {
		entries, problems = ParseDockerCfg(data, source)
	} else {
		entries, problems = ParseDockerConfigJSON(data, source)
	}
	return entries, problems, false
}

// kubeletRejects decodes data into the shapes the kubelet uses and, when
// that fails, says why in words that never quote the payload, with the key
// of the entry at fault when one is (so the remedy can name its host).
func kubeletRejects(data []byte, legacy bool) (fault, key string) {
	var err error
	if legacy {
		var cfg map[string]kubeletEntry
		err = json.Unmarshal(data, &cfg)
	} else {
		var cfg struct {
			Auths       map[string]kubeletEntry `json:"auths"`
			HTTPHeaders map[string]string       `json:"HttpHeaders,omitempty"`
		}
		err = json.Unmarshal(data, &cfg)
	}
	if err == nil {
		return "", ""
	}
	// Name the first entry at fault, in a stable order.
	var raw map[string]json.RawMessage
	if !legacy {
		var top struct {
			Auths map[string]json.RawMessage `json:"auths"`
		}
		if json.Unmarshal(data, &top) == nil {
			raw = top.Auths
		}
	} else if json.Unmarshal(data, &raw) != nil {
		raw = nil
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var e kubeletEntry
		if eerr := json.Unmarshal(raw[k], &e); eerr != nil {
			return fmt.Sprintf("has an entry %q the kubelet cannot decode: %s", k, kubeletFault(eerr)), k
		}
	}
	return "is not a Docker config the kubelet can decode: " + kubeletFault(err), ""
}

func kubeletFault(err error) string {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errKubeletBase64):
		return "its \"auth\" is not valid base64 as written"
	case errors.Is(err, errNoColon):
		return "its \"auth\" does not decode to username:password"
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q is %s", typ.Field, jsonFault(err))
	}
	return jsonFault(err)
}

// kubeletEntry decodes one entry as the kubelet's DockerConfigEntry does:
// username, password, email and auth must be strings; auth, when set,
// must decode.
type kubeletEntry struct{}

func (e *kubeletEntry) UnmarshalJSON(data []byte) error {
	var tmp struct {
		Username string `json:"username,omitempty"`
		Password string `json:"password,omitempty"`
		Email    string `json:"email,omitempty"`
		Auth     string `json:"auth,omitempty"`
	}
	if err := json.Unmarshal(data, &tmp); err != nil {
		return err
	}
	if tmp.Auth == "" {
		return nil
	}
	_, _, err := kubeletDecodeAuth(tmp.Auth)
	return err
}

var errKubeletBase64 = errors.New("auth is not valid base64")

// kubeletDecodeAuth decodes an "auth" field as the kubelet's
// decodeDockerConfigFieldAuth does: padded base64 when the field, spaces
// trimmed, ends in "=", unpadded otherwise, decoding the field as written
// (so a space anywhere fails; line breaks are skipped, as Go's decoder
// skips them), and split on the first colon. Errors never carry the input.
func kubeletDecodeAuth(field string) (user, pass string, err error) {
	enc := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimSpace(field), "=") {
		enc = base64.StdEncoding
	}
	decoded, err := enc.DecodeString(field)
	if err != nil {
		return "", "", errKubeletBase64
	}
	user, pass, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", errNoColon
	}
	return user, pass, nil
}
