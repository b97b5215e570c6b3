package printers

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
	"github.com/regcheck/regcheck/pkg/versions"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// newerReport is what the real scan engine reports with --newer against a
// real registry (distribution, in process): web runs 1.4 of a repository
// that has 1.5 and 2.0 (twice: the markdown names it once), db runs its
// newest 16-alpine, api runs latest (not a version).
func newerReport(t *testing.T) report.Report {
	t.Helper()
	reg, err := env.StartRegistry(env.RegistryOptions{Auth: env.AuthBasic, Users: map[string]env.User{"admin": {Password: "admin-pass"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	digests := map[string]string{}
	for _, ref := range [][2]string{{"shop/web", "1.4"}, {"shop/web", "1.5"}, {"shop/web", "2.0"}, {"shop/web", "2.1-alpine"},
		{"shop/db", "16-alpine"}, {"shop/db", "16"}, {"shop/db", "17"}, {"shop/api", "latest"}} {
		digests[ref[0]+":"+ref[1]] = push(t, reg, ref[0], ref[1], ref[0]+":"+ref[1]).Digest
	}
	deployment := func(name, image string) kube.Workload {
		repo, _, _ := strings.Cut(image, ":")
		return kube.Workload{
			Kind: kube.KindDeployment, Name: name, Namespace: "shop", ServiceAccountName: "default",
			Containers: []kube.Container{{Name: "app", Image: goldenHost + "/shop/" + image, PullPolicy: corev1.PullAlways}},
			Pods: []kube.Pod{{Name: name + "-1", NodeName: "node-1", Phase: corev1.PodRunning,
				Statuses: []kube.ContainerStatus{{Name: "app", ImageID: goldenHost + "/shop/" + repo + "@" + digests["shop/"+image]}}}},
		}
	}
	inv := &kube.Inventory{Workloads: []kube.Workload{
		deployment("web", "web:1.4"), deployment("web-canary", "web:1.4"), deployment("db", "db:16-alpine"), deployment("api", "api:latest"),
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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var results []report.Result
	secret := keychain{{Source: "secret/shop/regcred", Username: "admin", Password: "admin-pass"}}
	creds := func(context.Context, string, string, []string) (scan.Keychain, []credentials.Problem, error) {
		return secret, nil, nil
	}
	for _, r := range scan.Check(ctx, inv, creds, scan.Options{Resolver: client, Newer: &scan.Newer{Scope: versions.ScopeMajor, Tags: registry.TagsOptions{PageSize: 2}}}) {
		if r.Check == report.CheckWorkloadVersion {
			results = append(results, r)
		}
	}
	return report.New(report.KindScan, results)
}

func TestPrintNewerGolden(t *testing.T) {
	r := newerReport(t)
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, format, r); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "scan-newer."+format+".golden")
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
