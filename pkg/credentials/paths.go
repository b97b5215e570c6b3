package credentials

import (
	"os"
	"path/filepath"
	"runtime"
)

// dockerConfigPath finds Docker's config.json: --docker-config (a
// directory, as for docker --config, or the file itself), else
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json. explicit is true
// when the user named it, so a missing file is worth saying.
func (l *Local) dockerConfigPath() (path string, explicit bool) {
	if p := l.opts.DockerConfig; p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "config.json")
		}
		return p, true
	}
	if dir := l.getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json"), false
	}
	if home := l.homeDir(); home != "" {
		return filepath.Join(home, ".docker", "config.json"), false
	}
	return "", false
}

// helmRegistryConfigPath finds Helm's registry config as Helm v3 does:
// --registry-config, else $HELM_REGISTRY_CONFIG, else
// helmpath.ConfigPath("registry/config.json"). helm's helmpath package is
// not imported: it pulls in client-go and reads the process environment.
//
// Helm sets HELM_REGISTRY_CONFIG for every plugin: to its default path,
// which does not exist until `helm registry login`, or to the path of
// `helm --registry-config PATH` (Helm strips that flag from a plugin's
// arguments and passes it this way). So under Helm it is explicit only
// when it is not Helm's default; outside Helm it is an environment
// default, as DOCKER_CONFIG is.
func (l *Local) helmRegistryConfigPath() (path string, explicit bool) {
	if p := l.opts.RegistryConfig; p != "" {
		return p, true
	}
	var def string
	if base := l.helmConfigHome(); base != "" {
		def = filepath.Join(base, "registry", "config.json")
	}
	if p := l.getenv("HELM_REGISTRY_CONFIG"); p != "" {
		return p, l.opts.HelmMode && filepath.Clean(p) != filepath.Clean(def)
	}
	return def, false
}

// helmConfigHome is $HELM_CONFIG_HOME, else $XDG_CONFIG_HOME/helm, else
// the platform default (helm's pkg/helmpath lazypath).
func (l *Local) helmConfigHome() string {
	if dir := l.getenv("HELM_CONFIG_HOME"); dir != "" {
		return dir
	}
	base := l.getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := l.homeDir()
		switch runtime.GOOS {
		case "windows":
			base = l.getenv("APPDATA")
		case "darwin":
			if home != "" {
				base = filepath.Join(home, "Library", "Preferences")
			}
		default:
			if home != "" {
				base = filepath.Join(home, ".config")
			}
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "helm")
}
