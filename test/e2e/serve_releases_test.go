package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestServeHelmReleasePullSecret: serve's Secrets informer leaves Helm's
// release records on the API server, as the one-shot scan's LISTs do
// (type!=helm.sh/release.v1), and a release named as a pull secret is
// still reported for its type (found among the releases' metadata, which
// a metadata-only informer watches), a missing one as missing, beside a
// good secret the image is checked with. Rescans read nothing from the
// API server, the names looked up included. On the real API server (its
// audit log says what serve listed and watched) and token registry.
func TestServeHelmReleasePullSecret(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns, name = "serve-releases-e2e", "web"
	deployWithReleasePullSecret(ctx, t, c, reg, ns, name)

	srv := startServe(ctx, t, s, "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	scanned := regexp.MustCompile(`scan: \d+ results`)
	_, err := srv.log.await(ctx, scanned)
	must(t, err)
	code, metrics := srv.get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d\n%s", code, metrics)
	}
	for _, want := range []string{
		`check="credentials.secret",[^}]*reason="MalformedCredentials",status="fail"`,  // the release: a type the kubelet ignores
		`check="credentials.secret",[^}]*reason="IncompleteCredentials",status="fail"`, // gone
		`check="workload.digest",[^}]*reason="Current",status="pass",workload="Deployment/` + name + `"`,
	} {
		if !regexp.MustCompile(`regcheck_result\{` + want).MatchString(metrics) {
			t.Errorf("/metrics lacks a regcheck_result matching %s\n%s", want, metrics)
		}
	}

	// What serve read of the namespace's Secrets, from the audit log: the
	// Secrets but Helm's, and Helm's releases' metadata; never a Secrets
	// read without a type selector, nor one by name.
	secretReads := func() (n int, uris []string) {
		t.Helper()
		read := regcheckReads(t, c, ns)
		for _, e := range read {
			if e.ObjectRef.Resource == "secrets" {
				uris = append(uris, e.Verb+" "+e.RequestURI)
			}
		}
		return len(read), uris
	}
	firstReads, uris := secretReads()
	var filtered, releases int
	for _, u := range uris {
		switch {
		case strings.Contains(u, "fieldSelector=type%21%3Dhelm.sh%2Frelease.v1"):
			filtered++
		case strings.Contains(u, "fieldSelector=type%3Dhelm.sh%2Frelease.v1"):
			releases++
		default:
			t.Errorf("serve read Secrets without leaving Helm's releases out or asking only their metadata: %s", u)
		}
	}
	if filtered == 0 || releases == 0 {
		t.Errorf("Secrets reads %v: want the Secrets but Helm's and the releases' metadata", uris)
	}

	// Two scans more: the same results, and no read of the namespace.
	_, err = srv.log.awaitN(ctx, scanned, countScans(srv.log.text())+2)
	must(t, err)
	_, again := srv.get("/metrics")
	for _, want := range []string{`reason="MalformedCredentials"`, `reason="IncompleteCredentials"`} {
		if !strings.Contains(again, want) {
			t.Errorf("a rescan lost %s\n%s", want, again)
		}
	}
	if n, _ := secretReads(); n != firstReads {
		t.Errorf("serve read the namespace %d more times after its first scan (%d, then %d): rescans read from the watch, the names looked up included", n-firstReads, firstReads, n)
	}
	if strings.Contains(srv.log.text(), readerPass) || strings.Contains(again, readerPass) {
		t.Error("a password reached /metrics or the log")
	}
	srv.stop()
}
