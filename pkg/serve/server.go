package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ShutdownGrace bounds how long a shutdown waits for scrapes in flight.
const ShutdownGrace = 5 * time.Second

// Handler serves /metrics from c through a registry of its own (no Go
// runtime or process collectors: what regcheck found, nothing else),
// /healthz (200 while the process serves) and /readyz (200 once a scan
// has completed, 503 before).
func Handler(c *Collector) (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("registering the metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.Ready() {
			http.Error(w, "no scan has completed yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux, nil
}

// Run serves the loop's collector on l and runs the loop until ctx ends
// (SIGTERM), then shuts the server down gracefully. It returns nil after
// a shutdown asked for by ctx; an error when the server fails.
func Run(ctx context.Context, l net.Listener, loop *Loop) error {
	h, err := Handler(loop.Collector)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	looped := make(chan struct{})
	go func() {
		defer close(looped)
		_ = loop.Run(loopCtx)
	}()

	select {
	case <-ctx.Done():
	case err = <-served:
		// The server stopped on its own: end the loop too.
	}
	stopLoop()
	<-looped
	if err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
