// Command image builds regcheck's container image without a Docker daemon:
// a multi-arch OCI image index (one image per -platforms entry) whose images
// hold the release binary from scripts/dist.sh's archives, a CA bundle, an
// /etc/passwd naming the non-root user 65532 and nothing else (no shell, no
// package manager). It writes an OCI image layout (-oci-layout DIR) or
// pushes to a registry (-push REF, with the docker config's credentials) and
// prints the index's reference by digest.
//
// go-containerregistry does the image work (layers, configs, the index,
// the layout and the push); what is written by hand here is only the
// image's few files. The output is reproducible: fixed mtimes, owners and
// order in the layers, and the config's creation time from -epoch.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	binary  = "kubectl-regcheck"
	binPath = "usr/local/bin/" + binary
	caPath  = "etc/ssl/certs/ca-certificates.crt"
	uid     = 65532 // the distroless "nonroot" user
)

type options struct {
	dist, platforms, caBundle, ociLayout, push string
	insecure                                   bool
	epoch                                      int64
}

func main() {
	var o options
	flag.StringVar(&o.dist, "dist", "dist", "directory of scripts/dist.sh's archives (kubectl-regcheck_VERSION_linux_ARCH.tar.gz)")
	flag.StringVar(&o.platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated os/arch list, one image each")
	flag.StringVar(&o.caBundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle copied into the image (the build host's, e.g. Debian's ca-certificates)")
	flag.StringVar(&o.ociLayout, "oci-layout", "", "write the index as an OCI image layout in this directory")
	flag.StringVar(&o.push, "push", "", "push the index to this reference (registry/repository:tag)")
	flag.BoolVar(&o.insecure, "insecure", false, "push over plain HTTP")
	flag.Int64Var(&o.epoch, "epoch", 0, "the images' creation time, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	if (o.ociLayout == "") == (o.push == "") {
		return errors.New("give exactly one of -oci-layout DIR and -push REF")
	}
	ca, err := os.ReadFile(o.caBundle)
	if err != nil {
		return fmt.Errorf("reading the CA bundle: %w", err)
	}
	created := time.Unix(o.epoch, 0).UTC()
	base, err := layer(baseFiles(ca), created)
	if err != nil {
		return err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range strings.Split(o.platforms, ",") {
		plat, err := v1.ParsePlatform(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("platform %q: %w", p, err)
		}
		img, err := image(o.dist, *plat, base, created)
		if err != nil {
			return fmt.Errorf("%s: %w", plat, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	if o.ociLayout != "" {
		if _, err := layout.Write(o.ociLayout, idx); err != nil {
			return fmt.Errorf("writing the OCI layout: %w", err)
		}
		fmt.Fprintf(stdout, "%s@%s\n", o.ociLayout, digest)
		return nil
	}
	var opts []name.Option
	if o.insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(o.push, opts...)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("pushing: %w", err)
	}
	fmt.Fprintf(stdout, "%s@%s\n", ref.Context().Name(), digest)
	return nil
}

// image is one platform's image: the shared base layer, then the binary and
// LICENSE from that platform's release archive.
func image(dist string, plat v1.Platform, base v1.Layer, created time.Time) (v1.Image, error) {
	archives, err := filepath.Glob(filepath.Join(dist, fmt.Sprintf("%s_*_%s_%s.tar.gz", binary, plat.OS, plat.Architecture)))
	if err != nil {
		return nil, err
	}
	if len(archives) != 1 {
		return nil, fmt.Errorf("want one %s archive in %s, found %d (run scripts/dist.sh)", plat, dist, len(archives))
	}
	files, err := fromArchive(archives[0], map[string]string{binary: binPath, "LICENSE": "usr/share/doc/regcheck/LICENSE"})
	if err != nil {
		return nil, err
	}
	bin, err := layer(files, created)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), base, bin)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	cf.Created = v1.Time{Time: created}
	cf.Author = "regcheck scripts/image.sh"
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", uid, uid),
		Entrypoint: []string{"/" + binPath},
		Cmd:        []string{"serve"},
		WorkingDir: "/",
		Env: []string{
			"PATH=/usr/local/bin",
			"SSL_CERT_FILE=/" + caPath,
			"HOME=/home/nonroot",
		},
		Labels: map[string]string{
			"org.opencontainers.image.source":      "https://github.com/regcheck/regcheck",
			"org.opencontainers.image.description": "regcheck: kubectl regcheck serve",
		},
	}
	return mutate.ConfigFile(img, cf)
}

type file struct {
	name string
	mode int64
	uid  int
	dir  bool
	data []byte
}

func baseFiles(ca []byte) []file {
	return []file{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", uid))},
		{name: "etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", uid, uid))},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: caPath, mode: 0o644, data: ca},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: uid, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
}

// fromArchive reads the entries of a gzipped tar named in want, renamed to
// want's values, in want's order of appearance in the archive.
func fromArchive(path string, want map[string]string) ([]file, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(zr)
	files := []file{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: "usr/share/", mode: 0o755, dir: true},
		{name: "usr/share/doc/", mode: 0o755, dir: true},
		{name: "usr/share/doc/regcheck/", mode: 0o755, dir: true},
	}
	found := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		to, ok := want[h.Name]
		if !ok {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		mode := int64(0o644)
		if h.Name == binary {
			mode = 0o755
		}
		files = append(files, file{name: to, mode: mode, data: b})
		found++
	}
	if found != len(want) {
		return nil, fmt.Errorf("%s lacks one of %v", path, want)
	}
	return files, nil
}

// layer is an OCI layer of files, owned by root (or the file's uid), with
// one fixed mtime.
func layer(files []file, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: mtime, Format: tar.FormatUSTAR}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}
