package promtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

func newAPI(t *testing.T, url string) v1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c)
}

func TestStartBackfilled(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	g := Istio{
		Service: "aleph", Namespace: "games", Start: t0, End: t0.Add(30 * time.Minute), Seed: 1,
		Versions: []IstioVersion{
			{Version: "v03", RPS: 10, ErrorRatio: 0.01, LatencyMedianMs: 50, LatencySigma: 0.3},
			{Version: "we\"ird\\ \n{v}", RPS: 5, LatencyMedianMs: 50, LatencySigma: 0.3},
		},
	}
	fams, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	srv := Start(t, Options{OpenMetrics: om})
	promAPI := newAPI(t, srv.URL())
	at := t0.Add(17 * time.Minute)
	tests := []struct {
		name    string
		version string
		code    string
	}{
		{name: "healthy version 200s", version: "v03", code: "200"},
		{name: "healthy version 503s", version: "v03", code: "503"},
		{name: "label value with quote, backslash, newline and braces", version: "we\"ird\\ \n{v}", code: "200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			match := map[string]string{"reporter": "destination", "destination_version": tc.version, "response_code": tc.code}
			series := Select(fams, "istio_requests_total", match)
			if len(series) != 1 {
				t.Fatalf("generated %d series, want 1", len(series))
			}
			want := valueAt(series[0], at)
			q := fmt.Sprintf(`istio_requests_total{reporter="destination",destination_version=%q,response_code=%q}`, tc.version, tc.code)
			val, _, _, err := promAPI.Query(t.Context(), q, at)
			if err != nil {
				t.Fatal(err)
			}
			vec, ok := val.(model.Vector)
			if !ok || len(vec) != 1 {
				t.Fatalf("got %v, want one sample", val)
			}
			if got := float64(vec[0].Value); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestStartScrapesLiveTarget(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE demo_requests_total counter\ndemo_requests_total{version=\"v1\"} 42\n")
	}))
	t.Cleanup(target.Close)
	srv := Start(t, Options{ScrapeTargets: []string{strings.TrimPrefix(target.URL, "http://")}})
	promAPI := newAPI(t, srv.URL())

	// Wait for the first scrape: this bounds the wait, it asserts no timing.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		val, _, _, err := promAPI.Query(ctx, `demo_requests_total{job="live",version="v1"}`, time.Time{})
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		if vec, ok := val.(model.Vector); ok && len(vec) == 1 {
			if got := float64(vec[0].Value); got != 42 {
				t.Errorf("got %v, want 42", got)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("target never scraped; logs: %s", srv.Logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestStartProcessErrors(t *testing.T) {
	tests := []struct {
		name          string
		opts          Options
		needsPromtool bool
		assertions    func(t *testing.T, err error)
	}{
		{
			name: "missing prometheus",
			opts: Options{Prometheus: "/nonexistent/prometheus"},
			assertions: func(t *testing.T, err error) {
				if !errors.Is(err, ErrMissingBinary) {
					t.Errorf("err = %v, want ErrMissingBinary", err)
				}
			},
		},
		{
			name: "missing promtool when backfilling",
			opts: Options{Promtool: "/nonexistent/promtool", OpenMetrics: []byte("# EOF\n")},
			assertions: func(t *testing.T, err error) {
				if !errors.Is(err, ErrMissingBinary) {
					t.Errorf("err = %v, want ErrMissingBinary", err)
				}
			},
		},
		{
			name:          "OpenMetrics without EOF is rejected by promtool",
			opts:          Options{OpenMetrics: []byte("# TYPE x gauge\nx 1 1704067200\n")},
			needsPromtool: true,
			assertions: func(t *testing.T, err error) {
				if err == nil || errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "backfilling") {
					t.Errorf("err = %v, want a backfill error", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath("promtool"); tc.needsPromtool && err != nil {
				t.Skipf("skipping: %v", err)
			}
			p, err := StartProcess(t.Context(), t.TempDir(), tc.opts)
			if p != nil {
				t.Cleanup(func() { _ = p.Close() })
			}
			tc.assertions(t, err)
		})
	}
}
