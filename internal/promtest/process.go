package promtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
)

// Options configures a Prometheus process. The zero value starts an empty
// server that scrapes nothing.
type Options struct {
	// OpenMetrics is backfilled into the TSDB before the server starts; it
	// must end with "# EOF" and carry timestamps in seconds (see
	// WriteOpenMetrics). Nil means an empty TSDB.
	OpenMetrics []byte
	// ScrapeTargets are host:port addresses scraped at /metrics every
	// ScrapeInterval (job "live"). Nil means no scrape job.
	ScrapeTargets []string
	// ScrapeInterval is the scrape (and evaluation) interval; zero means 1s.
	ScrapeInterval time.Duration
	// Prometheus and Promtool are the executables; "" means "prometheus" and
	// "promtool" looked up in PATH.
	Prometheus, Promtool string
}

// startupTimeout bounds how long StartProcess waits for /-/ready.
const startupTimeout = 60 * time.Second

// stopTimeout is how long Close waits after SIGTERM before it kills.
const stopTimeout = 10 * time.Second

// Process is a running Prometheus server. Its methods are safe for
// concurrent use.
type Process struct {
	url     string
	cmd     *exec.Cmd
	logs    *tailBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	once    sync.Once
	stopErr error
}

// StartProcess backfills opts.OpenMetrics into dir/data, writes
// dir/prometheus.yml and starts Prometheus on a free 127.0.0.1 port, returning
// once /-/ready answers 200. ctx bounds the backfill and the startup only; the
// server runs until Close. dir must exist and be writable; the caller owns it.
// It returns an error wrapping ErrMissingBinary if an executable is absent.
// Prometheus 2.42 applies new scrape targets on its 5s discovery-reload tick,
// so the first scrape of opts.ScrapeTargets lands up to about 6s after start.
func StartProcess(ctx context.Context, dir string, opts Options) (*Process, error) {
	promBin, toolBin, err := binaries(opts)
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	if len(opts.OpenMetrics) > 0 {
		if err := backfill(ctx, toolBin, dir, dataDir, opts.OpenMetrics); err != nil {
			return nil, err
		}
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := writeConfig(cfgPath, opts); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	// A port picked by listening on :0 can be taken again before Prometheus
	// binds it; retry a few times when that happens.
	for attempt := 0; ; attempt++ {
		p, err := launch(ctx, promBin, cfgPath, dataDir)
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "address already in use") {
			return p, err
		}
	}
}

func binaries(opts Options) (prom, tool string, err error) {
	prom, tool = opts.Prometheus, opts.Promtool
	if prom == "" {
		prom = "prometheus"
	}
	if tool == "" {
		tool = "promtool"
	}
	if prom, err = exec.LookPath(prom); err != nil {
		return "", "", fmt.Errorf("error finding prometheus: %w: %w", ErrMissingBinary, err)
	}
	if len(opts.OpenMetrics) > 0 {
		if tool, err = exec.LookPath(tool); err != nil {
			return "", "", fmt.Errorf("error finding promtool: %w: %w", ErrMissingBinary, err)
		}
	}
	return prom, tool, nil
}

// backfill writes the OpenMetrics text to dir and turns it into TSDB blocks
// in dataDir with promtool.
func backfill(ctx context.Context, promtool, dir, dataDir string, om []byte) error {
	src := filepath.Join(dir, "backfill.om")
	if err := os.WriteFile(src, om, 0o600); err != nil {
		return fmt.Errorf("error writing %s: %w", src, err)
	}
	cmd := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", src, dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("error backfilling %s: %w: %s", src, err, tail(out, 2048))
	}
	return nil
}

// promConfig is the subset of the Prometheus configuration file we write.
// JSON is valid YAML, so encoding/json produces a valid prometheus.yml.
type promConfig struct {
	Global        map[string]string `json:"global"`
	ScrapeConfigs []scrapeConfig    `json:"scrape_configs,omitempty"`
}

type scrapeConfig struct {
	JobName       string         `json:"job_name"`
	StaticConfigs []staticConfig `json:"static_configs"`
}

type staticConfig struct {
	Targets []string `json:"targets"`
}

func writeConfig(path string, opts Options) error {
	interval := opts.ScrapeInterval
	if interval <= 0 {
		interval = time.Second
	}
	iv := model.Duration(interval).String()
	cfg := promConfig{Global: map[string]string{
		"scrape_interval": iv, "scrape_timeout": iv, "evaluation_interval": iv,
	}}
	if len(opts.ScrapeTargets) > 0 {
		cfg.ScrapeConfigs = []scrapeConfig{{
			JobName:       "live",
			StaticConfigs: []staticConfig{{Targets: opts.ScrapeTargets}},
		}}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("error encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("error writing %s: %w", path, err)
	}
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("error finding a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("error releasing %s: %w", addr, err)
	}
	return addr, nil
}

// launch starts one Prometheus process and waits until it is ready.
func launch(ctx context.Context, bin, cfgPath, dataDir string) (*Process, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Process{url: "http://" + addr, logs: &tailBuffer{max: 16 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+dataDir,
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
	)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("error starting %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("error waiting for prometheus at %s: %w; logs: %s", addr, err, p.Logs())
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/-/ready", nil)
		if err != nil {
			return fmt.Errorf("error building readiness request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("prometheus exited early: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// URL returns the server's base URL, for example http://127.0.0.1:41234.
func (p *Process) URL() string { return p.url }

// Logs returns the last 16 KiB of the server's output.
func (p *Process) Logs() string { return p.logs.String() }

// Close stops the server with SIGTERM, kills it if it has not exited after
// 10s, and waits for it. Calling Close again returns the first result.
func (p *Process) Close() error {
	p.once.Do(func() {
		select {
		case <-p.done:
			return // exited on its own
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = fmt.Errorf("error signalling prometheus: %w", err)
		}
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			p.stopErr = errors.Join(p.stopErr, fmt.Errorf("prometheus did not stop within %s; killed", stopTimeout))
		}
	})
	return p.stopErr
}

// tailBuffer is an io.Writer that keeps only the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
