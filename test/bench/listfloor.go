package main

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// listPods times one client-go LIST of every pod in the cluster, in pages
// of 500 as kubectl asks for them, with the given content type: JSON or
// application/vnd.kubernetes.protobuf. It runs in the bench's own process
// (a fresh client, no process start-up), so the two floors differ only in
// the encoding; kubectl's list_floor_s also pays for printing JSON.
func listPods(ctx context.Context, cfg *rest.Config, contentType string) (time.Duration, int, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = contentType
	cfg.AcceptContentTypes = contentType
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	n := 0
	opts := metav1.ListOptions{Limit: 500}
	for {
		list, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			return 0, 0, err
		}
		n += len(list.Items)
		if opts.Continue = list.Continue; opts.Continue == "" {
			return time.Since(start), n, nil
		}
	}
}
