package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// The errors client-go returns when the API server fails, as a LIST
// sees them after client-go's own retries.
func refused(resource string) error {
	return &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/namespaces/prod/" + resource, Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED),
	}}
}

func eof(resource string) error {
	return &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/namespaces/prod/" + resource, Err: io.EOF}
}

func unavailable(resource string) error {
	return apierrors.NewServiceUnavailable("the server is currently unable to handle the request")
}

func deadline(string) error {
	return &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/apis/batch/v1/namespaces/prod/cronjobs", Err: context.DeadlineExceeded}
}

func fail(client *fake.Clientset, resource string, err error) {
	client.PrependReactor("list", resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, err
	})
}

func TestCollectFaults(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		err      error
		reason   report.Reason
		status   int
		message  string
	}{
		{"503 on one kind", "daemonsets", unavailable("daemonsets"), report.ReasonServerError, 503,
			"daemonsets in namespace prod could not be listed: the API server answered 503 (ServiceUnavailable): the server is currently unable to handle the request; results are partial"},
		{"500 on one kind", "statefulsets", apierrors.NewInternalError(errors.New("etcd down")), report.ReasonServerError, 500,
			"statefulsets in namespace prod could not be listed: the API server answered 500 (InternalError): Internal error occurred: etcd down; results are partial"},
		{"429 after client-go's retries", "jobs", apierrors.NewTooManyRequests("too many requests, please try again later", 1), report.ReasonRateLimited, 429,
			"jobs in namespace prod could not be listed: the API server answered 429 (too many requests)"},
		{"gone mid-run: connection refused", "deployments", refused("deployments"), report.ReasonUnreachable, 0,
			"deployments in namespace prod could not be listed: the API server at 127.0.0.1:6443 is not answering (connection refused); results are partial"},
		{"gone mid-run: connection closed", "replicasets", eof("replicasets"), report.ReasonUnreachable, 0,
			"replicasets in namespace prod could not be listed: the API server closed the connection before answering (EOF)"},
		{"slow: no answer in time", "cronjobs", deadline("cronjobs"), report.ReasonUnreachable, 0,
			"cronjobs in namespace prod could not be listed: the API server did not answer within"},
		{"not served", "cronjobs", apierrors.NewNotFound(schema.GroupResource{Group: "batch", Resource: "cronjobs"}, ""), report.ReasonNotServed, 404,
			"cronjobs in namespace prod are not served by this cluster; results are partial"},
		{"forbidden", "replicationcontrollers", apierrors.NewForbidden(schema.GroupResource{Resource: "replicationcontrollers"}, "", errors.New("RBAC")), report.ReasonForbidden, 403,
			"replicationcontrollers in namespace prod may not be listed (forbidden); results are partial"},
		{"nodes answer 503", "nodes", unavailable("nodes"), report.ReasonServerError, 503,
			"nodes could not be listed: the API server answered 503 (ServiceUnavailable): the server is currently unable to handle the request; pod platforms come from nodeSelector hints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(cluster()...)
			fail(client, tt.resource, tt.err)
			inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
			if err != nil {
				t.Fatalf("err = %v, want partial results", err)
			}
			if !slices.Equal(inv.Unread, []string{tt.resource}) || len(inv.Notes) != 1 {
				t.Fatalf("unread = %v, notes = %+v, want %s alone", inv.Unread, inv.Notes, tt.resource)
			}
			n := inv.Notes[0]
			if n.Resource != tt.resource || n.Reason != tt.reason || n.HTTPStatus != tt.status || n.Remedy == "" {
				t.Errorf("note = %+v, want %s, %s, HTTP %d and a remedy", n, tt.resource, tt.reason, tt.status)
			}
			if !strings.HasPrefix(n.Message, tt.message) {
				t.Errorf("message = %q\\nwant prefix %q", n.Message, tt.message)
			}
			if tt.resource != "pods" && tt.resource != "nodes" && len(inv.Workloads) < 5 {
				t.Errorf("workloads = %v, want the rest of the namespace", summary(inv))
			}
		})
	}
}

// pagedPods serves objs in pages as the API server does, and calls page
// (1-based) before each page so a test can fail one.
func pagedPods(t *testing.T, client *fake.Clientset, n int, page func(i int, opts metav1.ListOptions) error) *int {
	t.Helper()
	var objs []corev1.Pod
	for i := range n {
		objs = append(objs, *pod(fmt.Sprintf("p%04d", i), "", "", "", ""))
	}
	calls := 0
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		opts := a.(k8stesting.ListActionImpl).ListOptions
		if err := page(calls, opts); err != nil {
			return true, nil, err
		}
		start, _ := strconv.Atoi(opts.Continue)
		end := len(objs)
		if opts.Limit > 0 {
			end = min(start+int(opts.Limit), len(objs))
		}
		list := &corev1.PodList{Items: objs[start:end]}
		if end < len(objs) {
			list.Continue = strconv.Itoa(end)
		}
		return true, list, nil
	})
	return &calls
}

func TestCollectPaginationFaults(t *testing.T) {
	t.Run("a LIST that fails on page 2 counts none of its pods", func(t *testing.T) {
		client := fake.NewClientset(deployment("web", "example.com/app:1"))
		pagedPods(t, client, 1200, func(i int, _ metav1.ListOptions) error {
			if i == 2 {
				return unavailable("pods")
			}
			return nil
		})
		inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(inv); !slices.Equal(got, []string{"Deployment/web: "}) {
			t.Errorf("workloads = %q, want the Deployment without a single pod of the half-read LIST", got)
		}
		if inv.Readable("pods") || len(inv.Notes) != 1 || inv.Notes[0].Reason != report.ReasonServerError {
			t.Errorf("unread = %v, notes = %+v, want pods skipped as ServerError", inv.Unread, inv.Notes)
		}
	})
	t.Run("an expired continue token lists again in one request", func(t *testing.T) {
		client := fake.NewClientset()
		calls := pagedPods(t, client, 1200, func(i int, opts metav1.ListOptions) error {
			if i == 2 {
				return apierrors.NewResourceExpired("The provided continue parameter is too old")
			}
			if i == 3 && (opts.Limit != 0 || opts.Continue != "") {
				t.Errorf("after 410: limit=%d continue=%q, want a full list", opts.Limit, opts.Continue)
			}
			return nil
		})
		inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Workloads) != 1200 || len(inv.Notes) != 0 {
			t.Errorf("workloads = %d, notes = %v; want 1200 pods, once each, and no note", len(inv.Workloads), inv.Notes)
		}
		if *calls != 3 {
			t.Errorf("pod LIST calls = %d, want 3 (page, expired page, full list)", *calls)
		}
	})
}

var workloadResources = []string{"pods", "replicasets", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers"}

func TestCollectNothingRead(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*fake.Clientset)
		ctx     func() (context.Context, context.CancelFunc)
		reason  report.Reason
		message string
	}{
		{
			name: "gone from the start",
			setup: func(c *fake.Clientset) {
				for _, r := range workloadResources {
					fail(c, r, refused(r))
				}
			},
			reason:  report.ReasonUnreachable,
			message: "no workload could be read in namespace prod: pods, replicasets, deployments, statefulsets, daemonsets, jobs, cronjobs, replicationcontrollers could not be listed: the API server at 127.0.0.1:6443 is not answering (connection refused)",
		},
		{
			name: "mixed causes name each resource",
			setup: func(c *fake.Clientset) {
				for _, r := range workloadResources {
					fail(c, r, refused(r))
				}
				fail(c, "pods", unavailable("pods"))
			},
			reason:  report.ReasonServerError,
			message: "no workload could be read in namespace prod: pods could not be listed: the API server answered 503 (ServiceUnavailable): the server is currently unable to handle the request; replicasets could not be listed: the API server at 127.0.0.1:6443 is not answering (connection refused);",
		},
		{
			name:    "credentials rejected on one resource",
			setup:   func(c *fake.Clientset) { fail(c, "jobs", apierrors.NewUnauthorized("Unauthorized")) },
			reason:  report.ReasonInvalidCredentials,
			message: "no workload could be read in namespace prod: jobs could not be listed: the API server rejected the kubeconfig's credentials (401 Unauthorized)",
		},
		{
			name: "an API server that never answers",
			setup: func(c *fake.Clientset) {
				for _, r := range workloadResources {
					c.PrependReactor("list", r, func(a k8stesting.Action) (bool, runtime.Object, error) {
						time.Sleep(20 * time.Millisecond)
						return true, nil, fmt.Errorf("Get %q: %w", r, context.DeadlineExceeded)
					})
				}
			},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			reason:  report.ReasonUnreachable,
			message: "no workload could be read in namespace prod: pods, replicasets, deployments, statefulsets, daemonsets, jobs, cronjobs, replicationcontrollers could not be listed: the API server did not answer within",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(cluster()...)
			tt.setup(client)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			_, err := Collect(ctx, Direct(client), Selection{Namespace: ns})
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Fatalf("err = %v (%T), want a *kube.Error", err, err)
			}
			if kerr.Reason != tt.reason || kerr.Remedy == "" || !strings.HasPrefix(kerr.Message, tt.message) {
				t.Errorf("error = %s: %s (remedy %q)\nwant %s: %s...", kerr.Reason, kerr.Message, kerr.Remedy, tt.reason, tt.message)
			}
		})
	}
}

// TestNoKubeconfigSaysSo: with no kubeconfig client-go falls back to
// localhost:8080, as kubectl does; refused there, the hint is to point
// regcheck at a cluster, not to check an API server the user never named.
func TestNoKubeconfigSaysSo(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "http://localhost:8080/api/v1/namespaces/default/pods", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED),
	}}
	c := classify(context.Background(), err, "pods", "default", 0)
	if !strings.Contains(c.why, "no kubeconfig was found") || !strings.Contains(c.remedy, "set KUBECONFIG") {
		t.Errorf("why %q remedy %q", c.why, c.remedy)
	}
}

// TestNodesForbiddenWithoutPods: a namespace-scoped user may not list
// nodes; with no pod at all (a Deployment scaled to zero) the refusal is
// still a skip, since the nodes' credential providers are then unknown,
// and Readable("nodes") says so to the scan.
func TestNodesForbiddenWithoutPods(t *testing.T) {
	client := fake.NewClientset(deployment("web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1"))
	fail(client, "nodes", apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("RBAC")))
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Readable("nodes") || len(inv.Notes) != 1 {
		t.Fatalf("unread = %v, notes = %+v, want nodes alone", inv.Unread, inv.Notes)
	}
	n := inv.Notes[0]
	if n.Reason != report.ReasonForbidden || !strings.Contains(n.Message, "credential providers the nodes run are unknown") || strings.Contains(n.Message, "nodeSelector") {
		t.Errorf("note = %+v", n)
	}
	if len(inv.Workloads) != 1 {
		t.Errorf("workloads = %v", summary(inv))
	}
}
