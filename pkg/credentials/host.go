package credentials

import "strings"

// Docker Hub answers to several names. Docker and Helm file its
// credentials under dockerHubServerAddress; images name it docker.io.
const (
	dockerHubServerAddress = "https://index.docker.io/v1/"
	dockerHubHost          = "docker.io"
)

// NormalizeHost reduces a credential key or registry name to the host[:port]
// it applies to, as Docker matches them: the scheme and any path are
// dropped, case is folded, and Docker Hub's aliases (index.docker.io,
// registry-1.docker.io, https://index.docker.io/v1/) become "docker.io".
// A port is kept: "host:5000" and "host" are different registries.
func NormalizeHost(key string) string {
	h := strings.TrimSpace(key)
	if _, rest, ok := strings.Cut(h, "://"); ok {
		h = rest
	}
	h, _, _ = strings.Cut(h, "/")
	h = strings.ToLower(h)
	switch h {
	case "index.docker.io", "registry-1.docker.io", dockerHubHost:
		return dockerHubHost
	}
	return h
}

// serverAddress is the key Docker and Helm file a host's credentials under
// in a credential helper: the v1 URL for Docker Hub, the host otherwise.
func serverAddress(host string) string {
	if NormalizeHost(host) == dockerHubHost {
		return dockerHubServerAddress
	}
	return host
}
