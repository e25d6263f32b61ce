package core

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// dataEnd is the end of the backfilled metrics; the tests' clock runs in
// the two hours before it.
var dataEnd = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// startPrometheus backfills Istio metrics for aleph: v03 (stable, healthy,
// 100 rps), v04 (50% 503s, 20 rps), v05 (healthy, 20 rps), v06 (no traffic).
func startPrometheus(t *testing.T) string {
	t.Helper()
	return startPrometheusWith(t, 3, []promtest.IstioVersion{
		{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v04", RPS: 20, ErrorRatio: 0.5, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v05", RPS: 20, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
		{Version: "v06", RPS: 0, LatencyMedianMs: 40, LatencySigma: 0.3},
	})
}

// startPrometheusWith starts a real Prometheus holding two hours of
// generated Istio metrics of service aleph for versions, ending at dataEnd.
func startPrometheusWith(t *testing.T, seed uint64, versions []promtest.IstioVersion) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: dataEnd.Add(-2 * time.Hour), End: dataEnd,
		Step: 10 * time.Second, Seed: seed, Versions: versions}
	fams, err := gen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	return promtest.Start(t, promtest.Options{OpenMetrics: om}).URL()
}

// testSpec is the aleph canary with a one-minute interval and two weights.
const testSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/games/aleph/virtualservice.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - analyze: 3m
    - setWeight: 50
    - analyze: 3m
  analysis:
    interval: 1m
    judge: threshold
    minRequests: 100
    failureLimit: 1
    inconclusiveLimit: 2
    metrics:
      - name: error-rate
        template: istio-error-rate
        critical: true
        max: 1
      - name: latency-p99
        template: istio-latency-p99
        max: 500
      - name: requests
        query: 'sum(increase(istio_requests_total{reporter="destination",destination_version="{{ .Version }}"}[{{ .Window }}]))'
        unit: requests
        min: 1
  promote:
    - file: apps/games/aleph/destinationrule.yaml
      path: spec.subsets[name=production].labels.version
      value: "{{ .Canary }}"
`

// newFleet creates a fleet repo with the aleph example's manifests and spec (canary set to canary).
func newFleet(t *testing.T, spec string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = spec
	r, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time                    { return c.now }
func (c *clock) advance(d time.Duration)           { c.now = c.now.Add(d) }
func newClock(at time.Time) *clock                 { return &clock{now: at} }
func openRepo(t *testing.T, url string) *repo.Repo { return openRepoIn(t, url, t.TempDir()) }

func openRepoIn(t *testing.T, url, cache string) *repo.Repo {
	t.Helper()
	r, err := repo.Open(t.Context(), repo.Options{URL: url, Branch: "main", CacheDir: filepath.Join(cache, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// newEngine wires an engine like the binary does, on a test clock, with a
// status key: every test of the loop runs with seals written and checked.
func newEngine(t testing.TB, r Repository, promURL string, c *clock) *Engine {
	t.Helper()
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: promURL, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Repo: r, Metrics: p, Judges: map[string]judge.Judge{"threshold": judge.Threshold{}},
		Sync: sync.Engines{"none": sync.None{}}, Now: c.Now, StatusKey: statusKey}
}

// runOnce runs the loop and fails the test on any error.
func runOnce(t *testing.T, e *Engine) Outcome {
	t.Helper()
	out, err := e.Run(context.Background(), Request{Trigger: "test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("got %d outcomes", len(out))
	}
	if out[0].Err != nil {
		t.Fatalf("outcome error: %v", out[0].Err)
	}
	return out[0]
}
