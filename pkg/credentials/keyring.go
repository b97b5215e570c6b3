package credentials

import (
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/imageref"
)

// Entry is one auth entry of a dockerconfig: the key it is filed under and
// the credential it holds.
type Entry struct {
	Key        string
	Credential Credential
}

// Keyring matches image references to entries as the kubelet does
// (k8s.io/kubernetes pkg/credentialprovider BasicDockerKeyring).
type Keyring struct {
	entries []Entry
}

// NewKeyring builds a keyring from entries in the order the kubelet would
// add them (the pod's imagePullSecrets first, then its ServiceAccount's).
func NewKeyring(entries ...Entry) *Keyring { return &Keyring{entries: entries} }

// kubeletDockerHubKey is the only key the kubelet falls back to for Docker
// Hub images that no other key matched.
const kubeletDockerHubKey = "index.docker.io"

// Lookup returns every credential whose key matches image (a reference
// such as "registry.example.com:5000/team/app:1.0"), most specific key
// first, then in insertion order, as the kubelet tries them: it pulls with
// each in turn until one works, and never falls back to anonymous.
//
// "Most specific" is the kubelet's order: distinct keys sorted in reverse
// byte order, so "host/a/b" comes before "host/a" and a literal host before
// a "*." glob of the same length. Entries under the same key keep their
// insertion order. Docker Hub images use an "index.docker.io" key only when
// no other key matched, as in the kubelet; "Docker Hub images" in the
// kubelet's sense, which includes "localhost/app".
//
// The kubelet hands the runtime only a username and password from a pull
// secret (it ignores identitytoken and registrytoken), so the returned
// credentials carry nothing else; an entry holding only a token comes back
// anonymous, which is how the kubelet pulls with it.
//
// ref is parsed once, where the image is read (imageref.Parse, or
// imageref.ParseAsKubelet to predict the kubelet for an image Parse
// refuses); the keyring looks credentials up by its normalised name.
func (k *Keyring) Lookup(ref imageref.Reference) []Credential {
	if k == nil {
		return nil
	}
	if ref.Repository == "" {
		return nil
	}
	target := ref.Name()
	byKey := map[string][]Credential{}
	var keys []string
	for _, e := range k.entries {
		key, ok := kubeletKey(e.Key)
		if !ok {
			continue
		}
		if _, seen := byKey[key]; !seen {
			keys = append(keys, key)
		}
		c := e.Credential
		c.IdentityToken, c.RegistryToken = "", ""
		byKey[key] = append(byKey[key], c)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))

	var out []Credential
	for _, key := range keys {
		if kubeletMatch(key, target) {
			out = append(out, byKey[key]...)
		}
	}
	if len(out) == 0 && kubeletDefaultRegistryMatch(target) {
		out = append(out, byKey[kubeletDockerHubKey]...)
	}
	return out
}

// kubeletDefaultRegistryMatch reports whether the kubelet treats the
// repository as a Docker Hub image for its "index.docker.io" fallback
// (isDefaultRegistryMatch): docker.io or index.docker.io, or a first part
// with neither "." nor ":". So "localhost/app" and "LOCALDOMAIN/app",
// which distribution/reference files under their own hosts, still get
// Docker Hub's credentials from the kubelet.
func kubeletDefaultRegistryMatch(repository string) bool {
	first, _, found := strings.Cut(repository, "/")
	switch {
	case first == "":
		return false
	case !found, first == dockerHubHost, first == "index.docker.io":
		return true
	}
	return !strings.ContainsAny(first, ".:")
}

// kubeletKey reduces a config key as the kubelet's keyring does: the scheme
// is dropped, a leading /v1/ or /v2/ is ignored, and what remains of the
// path is kept for prefix matching.
func kubeletKey(key string) (string, bool) {
	if !strings.HasPrefix(key, "https://") && !strings.HasPrefix(key, "http://") {
		key = "https://" + key
	}
	u, err := url.Parse(key)
	if err != nil {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host, true
	}
	return u.Host + p, true
}

// kubeletMatch reports whether the key matches the repository: the same
// port, the same number of DNS labels each matching its glob ("*" never
// spans a dot), and the key's path a prefix of the repository's. The
// prefix is a plain string prefix, as in the kubelet, so "host/team"
// matches "host/team-b/app" too.
func kubeletMatch(key, repository string) bool {
	k, err := url.Parse("https://" + key)
	if err != nil {
		return false
	}
	r, err := url.Parse("https://" + repository)
	if err != nil {
		return false
	}
	kLabels, kPort := splitHost(k.Host)
	rLabels, rPort := splitHost(r.Host)
	if kPort != rPort || len(kLabels) != len(rLabels) || !strings.HasPrefix(r.Path, k.Path) {
		return false
	}
	for i, glob := range kLabels {
		if ok, err := path.Match(glob, rLabels[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// splitHost splits host[:port] into DNS labels and the port.
func splitHost(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}
