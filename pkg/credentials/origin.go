package credentials

import "strings"

// Origin is the kind of store a credential source names, for code that
// decides by it (which login fixes it): the source strings are display.
type Origin int

// Origins of a credential.
const (
	OriginAnonymous        Origin = iota
	OriginDockerConfig            // Docker's config.json
	OriginHelmConfig              // Helm's registry config
	OriginHelper                  // a credential helper
	OriginDockerAuthConfig        // the DOCKER_AUTH_CONFIG variable
	OriginFlags                   // --username and --password-stdin
	OriginCluster                 // a pull secret, or a ServiceAccount's
)

// OriginOf says which kind of store source names. The source strings are
// minted in this package; this is the one place that reads them back.
func OriginOf(source string) Origin {
	switch {
	case source == SourceDockerConfig:
		return OriginDockerConfig
	case source == SourceHelmRegistryConfig:
		return OriginHelmConfig
	case source == SourceDockerAuthConfig:
		return OriginDockerAuthConfig
	case source == SourceFlags:
		return OriginFlags
	case strings.HasPrefix(source, helperSourcePrefix):
		return OriginHelper
	case strings.HasPrefix(source, "secret/"), strings.HasPrefix(source, "serviceaccount/"):
		return OriginCluster
	}
	return OriginAnonymous
}
