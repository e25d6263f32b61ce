package metrics_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/internal/servertest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// counterSeries is one generated counter: its labels and its samples.
type counterSeries struct {
	version, code string
	times         []time.Time
	values        []float64
}

// generateCounters makes request counters for two versions, scraped every
// 15s: bursts of traffic (a gamma-Poisson mix, so errors cluster) with v2
// failing ten times as often as v1.
func generateCounters(seed uint64, start, end time.Time) []counterSeries {
	rng := rand.New(rand.NewPCG(seed, 19))
	var out []counterSeries
	for _, v := range []struct {
		version string
		errRate float64
	}{{"v1", 0.005}, {"v2", 0.05}} {
		ok := counterSeries{version: v.version, code: "200"}
		bad := counterSeries{version: v.version, code: "500"}
		var okN, badN float64
		for ts := start; !ts.After(end); ts = ts.Add(15 * time.Second) {
			n := float64(rng.IntN(60) + 20)
			b := 0.0
			for range int(n) {
				if rng.Float64() < v.errRate*(0.5+rng.ExpFloat64()*0.5) {
					b++
				}
			}
			okN += n - b
			badN += b
			ok.times, ok.values = append(ok.times, ts), append(ok.values, okN)
			bad.times, bad.values = append(bad.times, ts), append(bad.values, badN)
		}
		out = append(out, ok, bad)
	}
	return out
}

// valueAt is the last sample at or before t (0 before the first).
func (s counterSeries) valueAt(t time.Time) float64 {
	v := 0.0
	for i, ts := range s.times {
		if ts.After(t) {
			break
		}
		v = s.values[i]
	}
	return v
}

// referenceIncrease is what a window's count must be, computed from the
// written samples: the counter at the window's end minus the counter at its
// start (MetricsQL's increase, which does not extrapolate), summed over the
// version's series with the code filter.
func referenceIncrease(series []counterSeries, version string, onlyErrors bool, end time.Time, window time.Duration) float64 {
	sum := 0.0
	for _, s := range series {
		if s.version == version && (!onlyErrors || s.code == "500") {
			sum += s.valueAt(end) - s.valueAt(end.Add(-window))
		}
	}
	return sum
}

// startVictoriaMetrics runs Debian's victoria-metrics with the series
// written through its Prometheus import API, behind a gateway that wants a
// bearer token and a tenant header (as Grafana Cloud or Mimir do).
func startVictoriaMetrics(t *testing.T, series []counterSeries) (gateway string) {
	bin := servertest.Binary(t, "victoria-metrics", "victoria-metrics")
	dir := t.TempDir()
	addr := servertest.FreeAddr(t)
	servertest.Start(t, dir, bin, "http://"+addr+"/health", "-storageDataPath="+dir+"/data", "-httpListenAddr="+addr,
		"-retentionPeriod=100y", "-search.disableCache", "-search.latencyOffset=0s", "-loggerLevel=ERROR")
	var b strings.Builder
	for _, s := range series {
		for i, ts := range s.times {
			fmt.Fprintf(&b, "http_requests_total{service=\"aleph\",version=%q,code=%q} %g %d\n", s.version, s.code, s.values[i], ts.UnixMilli())
		}
	}
	servertest.Post(t, "http://"+addr+"/api/v1/import/prometheus", "text/plain", b.String())
	resp, err := http.Get("http://" + addr + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	target, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer vm-t0ken" || r.Header.Get("X-Scope-OrgID") != "games" {
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gw.Close)
	return gw.URL
}

var countsTemplate = templates.Template{Name: "http-errors", Unit: "percent",
	Errors:   `sum(increase(http_requests_total{service="{{ .Service }}",version="{{ .Version }}",code=~"5.."}[{{ .Window }}]))`,
	Requests: `sum(increase(http_requests_total{service="{{ .Service }}",version="{{ .Version }}"}[{{ .Window }}]))`}

// TestVictoriaMetrics measures counts with the Prometheus provider against
// a real VictoriaMetrics behind an authenticating gateway and checks them
// against the counts computed from the samples the test wrote.
func TestVictoriaMetrics(t *testing.T) {
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute).UTC()
	series := generateCounters(7, end.Add(-time.Hour), end)
	gw := startVictoriaMetrics(t, series)
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: gw, BearerToken: "vm-t0ken",
		Headers: map[string]string{"X-Scope-OrgID": "games"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	window := 10 * time.Minute
	for _, version := range []string{"v1", "v2"} {
		m, err := metrics.Measure(t.Context(), p, countsTemplate, metrics.Vars{Service: "aleph", Version: version, Window: window}, end)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		wantBad := referenceIncrease(series, version, true, end, window)
		wantTotal := referenceIncrease(series, version, false, end, window)
		if !m.HasCounts || m.Errors != wantBad || m.Requests != wantTotal {
			t.Errorf("%s: measured %g of %g, the written samples say %g of %g", version, m.Errors, m.Requests, wantBad, wantTotal)
		}
	}

	r := metrics.Range{Start: end.Add(-20 * time.Minute), End: end, Step: time.Minute}
	rm, err := metrics.MeasureRange(t.Context(), p, countsTemplate, metrics.Vars{Service: "aleph", Version: "v2"}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Requests) != 21 {
		t.Fatalf("range: %d points, want 21", len(rm.Requests))
	}
	for _, pt := range rm.Requests {
		if want := referenceIncrease(series, "v2", false, pt.T, time.Minute); pt.V != want {
			t.Errorf("range at %s: %g requests, the samples say %g", pt.T.Format(time.TimeOnly), pt.V, want)
		}
	}

	noToken, _ := metrics.NewPrometheus(metrics.PrometheusConfig{URL: gw, Headers: map[string]string{"X-Scope-OrgID": "games"}, Attempts: 1})
	if _, err := metrics.Measure(t.Context(), noToken, countsTemplate, metrics.Vars{Service: "aleph", Version: "v1", Window: window}, end); !errors.Is(err, metrics.ErrQuery) {
		t.Errorf("without the token: %v, want the gateway's refusal as ErrQuery", err)
	}
}
