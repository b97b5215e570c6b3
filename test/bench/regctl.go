package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// writeRegctlConfig writes a regctl configuration file for the proxy at
// host: the bench user's credentials and, over TLS, the test CA as the
// registry's certificate authority (regctl's regcert), or TLS disabled for
// the plain-HTTP row. Docker's credentials and certificates are not
// imported, so regctl uses exactly these. The file is the credentials'
// only copy for regctl: they are never on a command line or printed.
func writeRegctlConfig(path, host, user, password, caPEM string) error {
	h := map[string]any{"user": user, "pass": password}
	if caPEM != "" {
		h["tls"], h["regcert"] = "enabled", caPEM
	} else {
		h["tls"] = "disabled"
	}
	no := false
	b, err := json.Marshal(map[string]any{
		"version":       1,
		"hosts":         map[string]any{host: h},
		"incDockerCert": &no,
		"incDockerCred": &no,
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// regctlParallel runs `regctl image digest` once per reference, n at a
// time (1: a shell loop; 16: `xargs -P 16`), with envv's REGCTL_CONFIG.
func regctlParallel(ctx context.Context, regctl string, envv []string, refs, want []string, n int) (time.Duration, error) {
	return digestParallel(ctx, []string{regctl, "image", "digest"}, envv, refs, want, n)
}
