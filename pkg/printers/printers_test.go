package printers

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
	"github.com/regcheck/regcheck/test/e2e/env"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenHost is the registry the golden files name. The in-process
// registry listens on a random loopback port; the client dials it for
// every host, so output does not depend on the port.
const goldenHost = "registry.example.com"

// fixedImage is an image whose digest is the same on every run: one
// static layer holding content, on an empty config.
func fixedImage(t *testing.T, content string) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer([]byte(content), types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func push(t *testing.T, reg *env.Registry, repo, tag, content string) env.Pushed {
	t.Helper()
	p, err := env.PushImage(reg, repo, tag, "admin", fixedImage(t, content))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// keychain offers the secret's credentials for every image.
type keychain []credentials.Credential

func (k keychain) Lookup(imageref.Reference) []credentials.Credential { return k }

// scanReport is the golden input: what the real scan engine reports for an
// inventory built here, against a real basic-auth registry (distribution,
// in process). web runs its tag's digest (Current), api runs the digest
// :latest pointed to before a later push (Stale, and a mutable tag with
// IfNotPresent), worker is half rolled (Mixed).
func scanReport(t *testing.T) report.Report {
	t.Helper()
	// Basic auth: a token realm would name the registry's real address,
	// which the client rightly refuses to send credentials to.
	reg, err := env.StartRegistry(env.RegistryOptions{Auth: env.AuthBasic, Users: map[string]env.User{
		"admin":  {Password: "admin-pass"},
		"reader": {Password: "reader-pass"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })

	web := push(t, reg, "shop/web", "1.4", "web 1.4")
	oldAPI := push(t, reg, "shop/api", "latest", "api build 1")
	push(t, reg, "shop/api", "latest", "api build 2")
	oldWorker := push(t, reg, "shop/worker", "2.0", "worker build 1")
	worker := push(t, reg, "shop/worker", "2.0", "worker build 2")

	started := time.Date(2026, 11, 25, 17, 19, 23, 0, time.UTC)
	pod := func(name, container, imageID string) kube.Pod {
		return kube.Pod{
			Name: name, NodeName: "node-1", Phase: corev1.PodRunning, StartTime: started,
			Platform: kube.Platform{OS: "linux", Architecture: "amd64"}, PlatformSource: "node",
			Statuses: []kube.ContainerStatus{{Name: container, ImageID: goldenHost + "/" + imageID}},
		}
	}
	deployment := func(name, image string, policy corev1.PullPolicy, pods ...kube.Pod) kube.Workload {
		return kube.Workload{
			Kind: kube.KindDeployment, Name: name, Namespace: "shop", ServiceAccountName: "default",
			ImagePullSecrets: []string{"regcred"},
			Containers:       []kube.Container{{Name: name, Image: goldenHost + "/shop/" + image, PullPolicy: policy}},
			Pods:             pods,
		}
	}
	inv := &kube.Inventory{Workloads: []kube.Workload{
		deployment("api", "api:latest", corev1.PullIfNotPresent, pod("api-7d9c-x2x4z", "api", "shop/api@"+oldAPI.Digest)),
		deployment("web", "web:1.4", corev1.PullIfNotPresent,
			pod("web-5f6b-8kq2p", "web", "shop/web@"+web.Digest), pod("web-5f6b-tr7mn", "web", "shop/web@"+web.Digest)),
		deployment("worker", "worker:2.0", corev1.PullAlways,
			pod("worker-66c4-4jzlm", "worker", "shop/worker@"+oldWorker.Digest), pod("worker-8b1e-q9wfd", "worker", "shop/worker@"+worker.Digest)),
	}}

	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, reg.Host)
	}
	client, err := registry.NewClient(registry.Options{PlainHTTP: true, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	secret := keychain{{Source: "secret/shop/regcred", Username: "reader", Password: "reader-pass"}}
	creds := func(context.Context, string, string, []string) (scan.Keychain, []credentials.Problem, error) {
		return secret, nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return report.New(report.KindScan, scan.Check(ctx, inv, creds, scan.Options{Resolver: client}))
}

func TestPrintGolden(t *testing.T) {
	r := scanReport(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, format, r); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "scan."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/printers -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, buf.String())
			}
		})
	}
}

func TestValidateFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		ok     bool
	}{{"table", true}, {"json", true}, {"markdown", true}, {"xml", false}, {"", false}} {
		if err := ValidateFormat(tc.format); (err == nil) != tc.ok {
			t.Errorf("ValidateFormat(%q) = %v, want ok=%v", tc.format, err, tc.ok)
		}
	}
}

func TestEmptyReportIsValidJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := Print(&buf, "json", report.New(report.KindAuth, nil)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"results": []`)) {
		t.Errorf("empty results must be [], got:\n%s", buf.String())
	}
}
