package nodecreds

import (
	"net"
	"net/url"
	"path"
	"strings"

	"github.com/regcheck/regcheck/pkg/imageref"
)

// MatchImage reports whether image matches pattern, one matchImages entry
// of a credential provider, by the kubelet's rules: the same number of
// DNS labels, each matching its glob ("*" stays within one label, so
// "*.io" does not match "a.k8s.io", while "app*.k8s.io" matches
// "app1.k8s.io"); the same port, or none on both; the pattern's path a
// string prefix of the image's. Neither has a scheme.
//
// image is what the kubelet hands its credential providers: the
// normalised repository without tag or digest ("docker.io/library/nginx",
// "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app"); see
// KubeletImage.
//
// Written by hand, line by line after the kubelet's URLsMatchStr,
// ParseSchemelessURL and SplitURL (k8s.io/kubernetes
// pkg/credentialprovider/keyring.go, v1.37.2): that package lives in
// k8s.io/kubernetes, which is not meant to be imported as a library and
// would bring most of the kubelet's dependency tree into the plugin. The
// kubelet matches each label with filepath.Match, which on the Linux
// kubelet is path.Match (labels hold no '/'); a pattern that does not
// parse or has a bad glob matches nothing, as there.
func MatchImage(pattern, image string) bool {
	glob, err := parseSchemeless(pattern)
	if err != nil {
		return false
	}
	target, err := parseSchemeless(image)
	if err != nil {
		return false
	}
	globLabels, globPort := splitURL(glob)
	targetLabels, targetPort := splitURL(target)
	if globPort != targetPort || len(globLabels) != len(targetLabels) {
		return false
	}
	if !strings.HasPrefix(target.Path, glob.Path) {
		return false
	}
	for i, g := range globLabels {
		if ok, err := path.Match(g, targetLabels[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// parseSchemeless parses a URL written without a scheme, as the kubelet's
// ParseSchemelessURL does: with "https://" in front, the scheme then
// cleared.
func parseSchemeless(s string) (*url.URL, error) {
	u, err := url.Parse("https://" + s)
	if err != nil {
		return nil, err
	}
	u.Scheme = ""
	return u, nil
}

// splitURL is the kubelet's SplitURL: the host's DNS labels and the port
// ("" when there is none or it does not split).
func splitURL(u *url.URL) ([]string, string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

// KubeletImage is the string the kubelet matches against matchImages for
// a container image: the repository, normalised as the kubelet's image
// puller parses it (docker.io/library/ added), without tag or digest.
func KubeletImage(image string) (string, bool) {
	ref, err := imageref.ParseAsKubelet(image)
	if err != nil {
		return "", false
	}
	return ref.Name(), true
}
