package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestImage builds the image with scripts/image.sh (no Docker daemon: the
// dist binaries for linux/amd64 and linux/arm64, pushed by
// go-containerregistry) to a real token-auth registry, reads the index back
// (two platforms, the non-root user, the CA bundle's path), and has
// regcheck itself verify the chart with that image: the image the chart
// would deploy is pullable.
func TestImage(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	writeDockerConfig(t, filepath.Join(s.Dir, ".docker", "config.json"), reg, "admin")
	reader := filepath.Join(s.Dir, "reader", "config.json")
	writeDockerConfig(t, reader, reg, "reader")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	repo := reg.Host + "/regcheck/regcheck"
	cmd := exec.CommandContext(ctx, filepath.Join(s.Root, "scripts", "image.sh"), "--push", repo+":e2e", "--insecure")
	// The test's own environment (its Go build cache), the sandbox's
	// docker config; a fixed version and commit keep the binaries dist.sh
	// stages under .cache/dist valid from one run to the next: no relink.
	cmd.Dir, cmd.Env = s.Root, append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(s.Dir, ".docker"),
		"VERSION=e2e", "COMMIT=e2e", "SOURCE_DATE_EPOCH=0", "DIST_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("scripts/image.sh: %v\n%s", err, msg)
	}
	pushed := strings.TrimSpace(string(out))
	if !strings.HasPrefix(pushed, repo+"@sha256:") {
		t.Fatalf("scripts/image.sh printed %q, want %s@sha256:...", pushed, repo)
	}

	// Read it back as a client would.
	ref, err := name.ParseReference(repo+":e2e", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: "reader", Password: readerPass})}
	idx, err := remote.Index(ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, m := range im.Manifests {
		platforms = append(platforms, m.Platform.String())
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || cf.Config.Entrypoint[0] != "/usr/local/bin/kubectl-regcheck" ||
			!slices.Contains(cf.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
			t.Errorf("%s: config %+v", m.Platform, cf.Config)
		}
		if cf.Architecture != m.Platform.Architecture {
			t.Errorf("%s: the config says %s", m.Platform, cf.Architecture)
		}
	}
	sort.Strings(platforms)
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("the index holds %v", platforms)
	}

	// regcheck verifies the chart with this image: pullable.
	r, res := runJSON(t, s, "", "helm", "regcheck", "verify", chartDir(s), "--set", "image.repository="+repo+",image.tag=e2e",
		"--no-cluster", "--plain-http", "--docker-config", reader)
	pulls := 0
	for _, x := range r.Results {
		if x.Status == report.StatusFail {
			t.Errorf("verify failed: %s %s %s", x.Check, x.Reason, x.Message)
		}
		if x.Check == report.CheckRegistryPull && x.Status == report.StatusPass && x.Image == repo+":e2e" {
			pulls++
		}
	}
	if pulls != 1 || res.Code != 0 {
		t.Errorf("verify: exit %d, %d passing pulls of %s:e2e, want 1\n%s", res.Code, pulls, repo, dump(r))
	}
}
