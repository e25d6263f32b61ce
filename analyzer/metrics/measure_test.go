package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// t0 is the start of the generated data; a fixed past time keeps the data
// identical on every run (TSDB retention is relative to the newest block).
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	hostile        = `v1"} or vector(1) #`
	hostileAbsent  = `v9"} or vector(1) #`
	hostileNewline = "line\nbreak\\"
)

// istioData is one hour of Istio metrics for service games/aleph: v03
// healthy, v04 with 50% 503s, slower latency, a counter reset at 40m and a
// scrape gap from 50m to 52m, v02 without any 5xx series, v05 deployed but
// without traffic, and versions whose names try to inject PromQL.
func istioData(t testing.TB) ([]promtest.Family, []byte) {
	t.Helper()
	g := promtest.Istio{
		Service: "aleph", Namespace: "games", Start: t0, End: t0.Add(time.Hour), Seed: 42,
		Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 20, ErrorRatio: 0.002, LatencyMedianMs: 80, LatencySigma: 0.4},
			{
				Version: "v04", RPS: 20, ErrorRatio: 0.5, LatencyMedianMs: 160, LatencySigma: 0.6,
				Resets: []time.Time{t0.Add(40*time.Minute + 5*time.Second)},
				Gaps:   []promtest.Gap{{From: t0.Add(50 * time.Minute), To: t0.Add(52 * time.Minute)}},
			},
			{Version: "v02", RPS: 10, LatencyMedianMs: 60, LatencySigma: 0.3},
			{Version: "v05", LatencyMedianMs: 60, LatencySigma: 0.3},
			{Version: "v1", RPS: 5, ErrorRatio: 0.9, LatencyMedianMs: 50, LatencySigma: 0.2},
			{Version: hostile, RPS: 5, ErrorRatio: 0.1, LatencyMedianMs: 50, LatencySigma: 0.2},
			{Version: hostileNewline, RPS: 5, ErrorRatio: 0.3, LatencyMedianMs: 50, LatencySigma: 0.2},
		},
	}
	fams, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	return fams, om
}

func mustMetric(t testing.TB, name string) templates.Template {
	t.Helper()
	tmpl, err := templates.Metric(name)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// expected computes what Measure (raw: counts from raw samples) or a
// range query (increase() as written) should return for the shipped Istio
// templates, from the generated samples (see reference_test.go). ok is false
// when Prometheus should return no data.
func expected(t *testing.T, fams []promtest.Family, tmpl string, v Vars, at time.Time, raw bool) (m Measurement, ok bool) {
	t.Helper()
	count := func(series []promtest.Series, at time.Time, window time.Duration) (float64, bool) {
		return refCount(raw, series, at, window)
	}
	sel := func(name string, extra map[string]string) []promtest.Series {
		match := map[string]string{"reporter": "destination", "destination_service_name": v.Service,
			"destination_workload_namespace": v.Namespace, "destination_version": v.Version}
		for k, val := range extra {
			match[k] = val
		}
		return promtest.Select(fams, name, match)
	}
	reqSeries := sel("istio_requests_total", nil)
	switch tmpl {
	case "istio-error-rate":
		var fivexx []promtest.Series
		for _, s := range reqSeries {
			if strings.HasPrefix(s.Label("response_code"), "5") {
				fivexx = append(fivexx, s)
			}
		}
		m.Errors, _ = count(fivexx, at, v.Window) // "or vector(0)"
		m.Requests, ok = count(reqSeries, at, v.Window)
		m.Value = 100 * m.Errors / m.Requests
	case "istio-latency-p50", "istio-latency-p95", "istio-latency-p99":
		q := map[string]float64{"istio-latency-p50": 0.5, "istio-latency-p95": 0.95, "istio-latency-p99": 0.99}[tmpl]
		m.Requests, ok = count(reqSeries, at, v.Window)
		var qok bool
		m.Value, qok = refQuantile(t, q, sel("istio_request_duration_milliseconds_bucket", nil), at, v.Window)
		ok = ok && qok
	case "istio-request-rate":
		m.Requests, ok = count(reqSeries, at, v.Window)
		rate, _ := refSumIncrease(reqSeries, at, v.Window)
		m.Value = rate / v.Window.Seconds() // rate() is increase() over the window's length
	case "istio-slow-requests":
		all, cok := count(sel("istio_request_duration_milliseconds_count", nil), at, v.Window)
		fast, fok := count(sel("istio_request_duration_milliseconds_bucket", map[string]string{"le": v.Args["le"]}), at, v.Window)
		m.Requests, m.Errors, ok = all, all-fast, cok && fok
		m.Value = 100 * m.Errors / m.Requests
	default:
		t.Fatalf("no reference for template %s", tmpl)
	}
	if m.Requests == 0 && !strings.HasPrefix(tmpl, "istio-latency-") && tmpl != "istio-request-rate" {
		m.Value = math.NaN()
	}
	return m, ok
}

type measureCase struct {
	name    string
	tmpl    string // embedded template name; "" uses inline
	inline  templates.Template
	version string
	args    map[string]string
	at      time.Time
	window  time.Duration
	wantErr error
	// refVersion, if set, is the version whose data the result must equal.
	refVersion string
	extra      func(t *testing.T, m Measurement)
}

func valueBelow(limit float64) func(*testing.T, Measurement) {
	return func(t *testing.T, m Measurement) {
		if !(m.Value < limit) {
			t.Errorf("value %v, want below %v", m.Value, limit)
		}
	}
}

func valueAbove(limit float64) func(*testing.T, Measurement) {
	return func(t *testing.T, m Measurement) {
		if !(m.Value > limit) {
			t.Errorf("value %v, want above %v", m.Value, limit)
		}
	}
}

func measureCases() []measureCase {
	at30 := t0.Add(30 * time.Minute)
	regex := templates.Template{Name: "regex", Unit: "count",
		Query: `sum(increase(istio_requests_total{reporter="destination",destination_version=~"{{ .Version }}"}[{{ .Window }}]))`}
	return []measureCase{
		{name: "error rate of healthy v03", tmpl: "istio-error-rate", version: "v03", at: at30, window: 5 * time.Minute, extra: valueBelow(1)},
		{name: "error rate of failing v04", tmpl: "istio-error-rate", version: "v04", at: at30, window: 5 * time.Minute, extra: valueAbove(40)},
		{name: "p99 of healthy v03", tmpl: "istio-latency-p99", version: "v03", at: at30, window: 5 * time.Minute, extra: valueBelow(250)},
		{name: "p99 of slow v04", tmpl: "istio-latency-p99", version: "v04", at: at30, window: 5 * time.Minute, extra: valueAbove(250)},
		{name: "p50 of healthy v03", tmpl: "istio-latency-p50", version: "v03", at: at30, window: 5 * time.Minute},
		{name: "p95 of slow v04", tmpl: "istio-latency-p95", version: "v04", at: at30, window: 5 * time.Minute},
		{name: "request rate of v03", tmpl: "istio-request-rate", version: "v03", at: at30, window: 5 * time.Minute},
		{name: "request rate over v04's counter reset", tmpl: "istio-request-rate", version: "v04", at: t0.Add(45 * time.Minute), window: 10 * time.Minute},
		{name: "error rate over v04's counter reset", tmpl: "istio-error-rate", version: "v04", at: t0.Add(45 * time.Minute), window: 10 * time.Minute, extra: valueAbove(40)},
		{name: "p99 over v04's counter reset", tmpl: "istio-latency-p99", version: "v04", at: t0.Add(45 * time.Minute), window: 10 * time.Minute},
		{name: "window starting inside v04's scrape gap", tmpl: "istio-error-rate", version: "v04", at: t0.Add(55 * time.Minute), window: 4 * time.Minute},
		{name: "window ending inside v04's scrape gap", tmpl: "istio-error-rate", version: "v04", at: t0.Add(51 * time.Minute), window: 5 * time.Minute},
		{name: "p99 with window ending in the gap", tmpl: "istio-latency-p99", version: "v04", at: t0.Add(51 * time.Minute), window: 5 * time.Minute},
		{name: "unaligned 90s window", tmpl: "istio-error-rate", version: "v03", at: t0.Add(20*time.Minute + 3*time.Second), window: 90 * time.Second},
		{name: "version without any 5xx series is 0%", tmpl: "istio-error-rate", version: "v02", at: at30, window: 5 * time.Minute,
			extra: func(t *testing.T, m Measurement) {
				if m.Value != 0 || m.Errors != 0 {
					t.Errorf("got %v%% (%v errors), want 0", m.Value, m.Errors)
				}
			}},
		{name: "version with no traffic is NaN, not an error", tmpl: "istio-error-rate", version: "v05", at: at30, window: 5 * time.Minute,
			extra: func(t *testing.T, m Measurement) {
				if !math.IsNaN(m.Value) || m.Requests != 0 {
					t.Errorf("got %v with %v requests, want NaN with 0", m.Value, m.Requests)
				}
			}},
		{name: "p99 with no traffic is NaN", tmpl: "istio-latency-p99", version: "v05", at: at30, window: 5 * time.Minute,
			extra: func(t *testing.T, m Measurement) {
				if !math.IsNaN(m.Value) {
					t.Errorf("got %v, want NaN", m.Value)
				}
			}},
		{name: "slow requests of v04 above 250ms", tmpl: "istio-slow-requests", args: map[string]string{"le": "250"}, version: "v04", at: at30, window: 10 * time.Minute, extra: valueAbove(10)},
		{name: "slow requests of v03 above 250ms", tmpl: "istio-slow-requests", args: map[string]string{"le": "250"}, version: "v03", at: at30, window: 10 * time.Minute, extra: valueBelow(5)},
		{name: "slow requests with a bound that is no bucket", tmpl: "istio-slow-requests", args: map[string]string{"le": "251"}, version: "v03", at: at30, window: 10 * time.Minute, wantErr: ErrNoData},
		{name: "version not deployed: error rate", tmpl: "istio-error-rate", version: "v06", at: at30, window: 5 * time.Minute, wantErr: ErrNoData},
		{name: "version not deployed: p99", tmpl: "istio-latency-p99", version: "v06", at: at30, window: 5 * time.Minute, wantErr: ErrNoData},
		{name: "before any data", tmpl: "istio-error-rate", version: "v03", at: t0.Add(-time.Hour), window: 5 * time.Minute, wantErr: ErrNoData},
		{name: "injection-shaped version measures exactly its own series", tmpl: "istio-error-rate", version: hostile, at: at30, window: 5 * time.Minute, extra: valueBelow(50)},
		{name: "injection-shaped version with no series is no data", tmpl: "istio-error-rate", version: hostileAbsent, at: at30, window: 5 * time.Minute, wantErr: ErrNoData},
		{name: "newline and backslash in the version", tmpl: "istio-latency-p99", version: hostileNewline, at: at30, window: 5 * time.Minute},
		{name: "regex matcher: metacharacters match literally", inline: regex, version: "v0.", at: at30, window: 5 * time.Minute, wantErr: ErrNoData},
		{name: "regex matcher: plain version matches itself only", inline: regex, version: "v03", at: at30, window: 5 * time.Minute, refVersion: "v03"},
		{name: "empty version is rejected before querying", tmpl: "istio-error-rate", version: "", at: at30, window: 5 * time.Minute, wantErr: ErrInvalidValue},
		{name: "invalid template", inline: templates.Template{Name: "bad", Unit: "x", Query: `x{v={{ .Version }}}`}, version: "v03", at: at30, window: time.Minute, wantErr: ErrTemplate},
	}
}

func TestMeasurePrometheus(t *testing.T) {
	fams, om := istioData(t)
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range measureCases() {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := tc.inline
			if tc.tmpl != "" {
				tmpl = mustMetric(t, tc.tmpl)
			}
			v := Vars{Service: "aleph", Namespace: "games", Version: tc.version, Stable: "v03", Canary: "v04",
				Interval: time.Minute, Window: tc.window, Args: tc.args}
			got, err := Measure(t.Context(), p, tmpl, v, tc.at)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Measure() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Measure() error = %v", err)
			}
			assertMeasurement(t, fams, tc, tmpl, v, got)
		})
	}
}

func assertMeasurement(t *testing.T, fams []promtest.Family, tc measureCase, tmpl templates.Template, v Vars, got Measurement) {
	t.Helper()
	if tc.refVersion != "" { // inline regex template: a plain sum over the version
		want, ok := refRawCount(promtest.Select(fams, "istio_requests_total",
			map[string]string{"reporter": "destination", "destination_version": tc.refVersion}), tc.at, tc.window)
		if !ok || !closeTo(got.Value, want, 1e-9) {
			t.Errorf("value = %v, want %v (ok %v)", got.Value, want, ok)
		}
		return
	}
	want, ok := expected(t, fams, tc.tmpl, v, tc.at, true)
	if !ok {
		t.Fatalf("reference says no data, Measure returned %+v", got)
	}
	if !closeTo(got.Value, want.Value, 1e-9) || !closeTo(got.Requests, want.Requests, 1e-9) || !closeTo(got.Errors, want.Errors, 1e-9) {
		t.Errorf("got value %v, errors %v, requests %v; want %v, %v, %v\nqueries: %q",
			got.Value, got.Errors, got.Requests, want.Value, want.Errors, want.Requests, got.Queries)
	}
	wantQueries := 0
	for _, q := range []string{tmpl.Query, tmpl.Errors, tmpl.Requests} {
		if q != "" {
			wantQueries++
		}
	}
	if len(got.Queries) != wantQueries || got.HasRequests != (tmpl.Requests != "") || got.HasCounts != (tmpl.Errors != "") {
		t.Errorf("queries %d, HasRequests %v, HasCounts %v do not fit template %s", len(got.Queries), got.HasRequests, got.HasCounts, tmpl.Name)
	}
	if tc.extra != nil {
		tc.extra(t, got)
	}
}

// BenchmarkMeasure measures 2 versions x 2 templates (error rate, p99)
// against a local Prometheus, 8 instant queries per op.
func BenchmarkMeasure(b *testing.B) {
	_, om := istioData(b)
	srv := promtest.Start(b, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	tmpls := []templates.Template{mustMetric(b, "istio-error-rate"), mustMetric(b, "istio-latency-p99")}
	at := t0.Add(30 * time.Minute)
	b.ResetTimer()
	for b.Loop() {
		for _, version := range []string{"v03", "v04"} {
			v := Vars{Service: "aleph", Namespace: "games", Version: version, Window: 5 * time.Minute}
			for _, tmpl := range tmpls {
				if _, err := Measure(b.Context(), p, tmpl, v, at); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
