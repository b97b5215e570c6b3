package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the benchmark end to end at a tiny scale (a real cluster,
// the real registry behind the TLS/plain proxy, real kubectl, regcheck and
// crane and regctl, sequential and in parallel), so `make test` keeps it from rotting. It checks that every figure
// the issue asks for is printed, the TLS row first; it asserts nothing
// about time.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and a registry and builds crane once: not a unit test")
	}
	o, err := parseOptions(flag.NewFlagSet("bench", flag.ContinueOnError), []string{
		"-pods", "12", "-deployments", "6", "-namespaces", "2", "-images", "4", "-repos", "2",
		"-scales", "6", "-delay", "1ms", "-concurrency", "4", "-workers", "4",
		"-crane-parallel", "2", "-pull-failing", "20", "-runs", "2", "-peer-runs", "2",
		"-sweep-batches", "1,2", "-sweep-concurrency", "2,4", "-sweep-repeat", "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, o, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	blocks := strings.Split(strings.TrimSpace(out.String()), "\n\n")
	if len(blocks) != 6 {
		t.Fatalf("want 6 blocks (2 scales × tls, plain-http, the sweep, then serve), got %d:\n%s", len(blocks), out.String())
	}
	sweep, serve := blocks[4], blocks[5]
	blocks = blocks[:4]
	if !strings.HasPrefix(serve, "serve: tls\n") {
		t.Errorf("the serve block does not start with serve: tls:\n%s", serve)
	}
	for _, name := range []string{"serve_first_scan_s", "serve_first_scan_rss_mib", "serve_rescan_s", "serve_rescan_registry_requests",
		"serve_rss_after_10_rescans_mib", "serve_metrics_ms", "serve_metrics_series"} {
		if !strings.Contains(serve, "\n"+name+": ") {
			t.Errorf("the serve block has no %s line:\n%s", name, serve)
		}
	}
	for _, name := range []string{"token_batch_1", "token_batch_2", "token_batch_fastest", "token_batch_default",
		"registry_at_concurrency_2", "registry_at_concurrency_4", "concurrency_fastest", "concurrency_chosen"} {
		if !strings.Contains(sweep, "\n"+name+": ") {
			t.Errorf("the sweep has no %s line:\n%s", name, sweep)
		}
	}
	for i, b := range blocks {
		want := []string{"tls", "plain-http"}[i%2]
		if !strings.HasPrefix(b, "transport: "+want+"\n") {
			t.Errorf("block %d does not start with transport: %s:\n%s", i, want, b)
		}
		for _, name := range []string{"registry_span_ratio", "ratio_to_floor", "speedup_vs_crane", "speedup_vs_crane_parallel",
			"speedup_vs_regctl", "speedup_vs_regctl_parallel", "regctl_requests_per_image", "list_floor_protobuf_s",
			"manifest_requests_per_image", "token_requests", "peak_rss_mib", "regcheck_connections",
			"regcheck_runs_s", "crane_parallel_runs_s", "regctl_parallel_runs_s", "registry_floor_images"} {
			if !strings.Contains(b, "\n"+name+": ") {
				t.Errorf("block %d has no %s line:\n%s", i, name, b)
			}
		}
	}
	// Every connection of regcheck's is TLS in the TLS row, with its
	// requests over HTTP/2, and none in the plain one.
	for i, b := range blocks {
		var conns, tlsConns, h2 int
		at := strings.Index(b, "regcheck_connections: ")
		if at < 0 {
			continue // reported above
		}
		line := b[at:]
		if _, err := fmt.Sscanf(line, "regcheck_connections: %d (tls %d), http2_requests %d", &conns, &tlsConns, &h2); err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if tls := i%2 == 0; conns == 0 || tls && (tlsConns != conns || h2 == 0) || !tls && (tlsConns != 0 || h2 != 0) {
			t.Errorf("block %d: %d connections, %d of them TLS, %d HTTP/2 requests", i, conns, tlsConns, h2)
		}
	}
}
