package e2e

import (
	"strings"
	"testing"
)

// TestReadOnlyByAudit reads the API server's audit log after every other
// test of the package (Go runs files in name order; this one is last) and
// proves that regcheck — every request whose user agent is
// kubectl-regcheck — only ever got, listed or watched.
func TestReadOnlyByAudit(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t).With("KUBECONFIG=" + c.Kubeconfig)
	// At least one scan of everything, so the log is never empty.
	run(t, s, "", "kubectl", "regcheck", "-A", "--plain-http", "--timeout", "20s")
	events, err := c.AuditEvents("")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range events {
		if !strings.HasPrefix(e.UserAgent, "kubectl-regcheck") {
			continue
		}
		seen++
		switch e.Verb {
		case "get", "list", "watch":
		default:
			t.Errorf("regcheck sent %s %s", e.Verb, e.RequestURI)
		}
	}
	if seen == 0 {
		t.Fatal("no request from regcheck in the audit log")
	}
	t.Logf("%d requests from regcheck in the audit log, all get, list or watch", seen)
}
