package credentials

// Origin is the kind of store a credential came from, for code that decides
// by it (which login fixes it). It is set where each credential and each
// Store is made; the source strings are display only and never read back.
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

// Store is a place credentials were looked up: Source names it for a
// person (see the Source constants), Origin says what kind it is, and
// Helper names the credential helper (docker-credential-NAME) when it is
// one.
type Store struct {
	Source string
	Origin Origin
	Helper string
}

// helperStore is the credential helper docker-credential-NAME.
func helperStore(name string) Store {
	return Store{Source: helperSource(name), Origin: OriginHelper, Helper: name}
}

// SecretRef names a pull secret: its namespace and name.
type SecretRef struct {
	Namespace string
	Name      string
}

// ClusterStores are the pull secrets (and ServiceAccounts) refs names, as
// stores a lookup consulted.
func ClusterStores(refs []string) []Store {
	out := make([]Store, len(refs))
	for i, r := range refs {
		out[i] = Store{Source: r, Origin: OriginCluster}
	}
	return out
}

// Sources are the stores' names, for display.
func Sources(stores []Store) []string {
	if stores == nil {
		return nil
	}
	out := make([]string, len(stores))
	for i, s := range stores {
		out[i] = s.Source
	}
	return out
}

// The stores that are one of a kind.
var (
	flagsStore            = Store{Source: SourceFlags, Origin: OriginFlags}
	dockerAuthConfigStore = Store{Source: SourceDockerAuthConfig, Origin: OriginDockerAuthConfig}
)
