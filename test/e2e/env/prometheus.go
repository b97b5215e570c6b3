package env

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Prometheus is a real Prometheus server on loopback (test/tools/prometheus),
// with its data in a directory of its own.
type Prometheus struct {
	URL  string // http://127.0.0.1:PORT
	Proc *Process
}

// StartPrometheus writes config (prometheus.yml) and any more files (name to
// content, e.g. rule files the config names) into dir, starts bin on a free
// port and waits until it answers /-/ready, bounded by ctx.
func StartPrometheus(ctx context.Context, dir, bin, config string, files map[string]string) (*Prometheus, error) {
	files["prometheus.yml"] = config
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := StartProcess("prometheus", dir, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	if err != nil {
		return nil, err
	}
	prom := &Prometheus{URL: "http://" + addr, Proc: p}
	if err := waitForProcess(ctx, p, "prometheus", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, prom.URL+"/-/ready", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	}); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return prom, nil
}

// Stop ends Prometheus (SIGTERM, then SIGKILL after grace).
func (p *Prometheus) Stop() error { return p.Proc.Stop(10 * time.Second) }
