package metrics

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// shapeCase is one non-Istio template family: how its data is generated and
// which series a version's query must select.
type shapeCase struct {
	prefix string // template name prefix, e.g. "linkerd"
	shape  promtest.Shape
	labels func(version string) []promtest.Label
	args   map[string]string
	scale  float64 // value unit per histogram unit (1000 for seconds -> ms)
}

func shapeCases() []shapeCase {
	// ingress-nginx labels canary traffic with the main Ingress and the
	// canary backend's upstream name; stable traffic has an empty canary
	// label, or "-" in some controller versions (used here, so the
	// reference selection of each side is exact).
	canaryUpstream := map[string]string{"v03": "-", "v04": "games-aleph-canary-80", "v05": "games-aleph-canary-80"}
	return []shapeCase{
		{prefix: "linkerd", shape: promtest.LinkerdShape(), scale: 1, labels: func(v string) []promtest.Label {
			return []promtest.Label{{Name: "direction", Value: "inbound"}, {Name: "namespace", Value: "games"},
				{Name: "deployment", Value: "aleph-" + v}, {Name: "pod", Value: "aleph-" + v + "-7d9f"}}
		}},
		{prefix: "nginx", shape: promtest.NginxShape(), scale: 1000,
			args: map[string]string{"ingress": "aleph"},
			labels: func(v string) []promtest.Label {
				l := []promtest.Label{{Name: "namespace", Value: "games"}, {Name: "ingress", Value: "aleph"},
					{Name: "service", Value: "aleph"}, {Name: "method", Value: "GET"}}
				return append(l, promtest.Label{Name: "canary", Value: canaryUpstream[v]})
			}},
		{prefix: "envoy", shape: promtest.EnvoyShape(), scale: 1,
			args: map[string]string{"stableCluster": "games_aleph-v03_80", "canaryCluster": "games_aleph-v04_80"},
			labels: func(v string) []promtest.Label {
				return []promtest.Label{{Name: "envoy_cluster_name", Value: "games_aleph-" + v + "_80"}}
			}},
		{prefix: "http", shape: promtest.HTTPShape(), scale: 1000, labels: func(v string) []promtest.Label {
			return []promtest.Label{{Name: "namespace", Value: "games"}, {Name: "service", Value: "aleph"},
				{Name: "version", Value: v}, {Name: "method", Value: "GET"}}
		}},
	}
}

// shapeData is one hour of traffic: v03 healthy, v04 failing half its
// requests, slower, with a counter reset at 40m and a scrape gap 50m-52m, and
// (for shapes without a canary ingress of its own) v05 deployed but idle.
func shapeData(t testing.TB, sc shapeCase) []promtest.Family {
	t.Helper()
	versions := []promtest.TrafficVersion{
		{Labels: sc.labels("v03"), RPS: 20, ErrorRatio: 0.002, LatencyMedianMs: 80, LatencySigma: 0.4},
		{Labels: sc.labels("v04"), RPS: 20, ErrorRatio: 0.5, LatencyMedianMs: 160, LatencySigma: 0.6,
			Resets: []time.Time{t0.Add(40*time.Minute + 5*time.Second)},
			Gaps:   []promtest.Gap{{From: t0.Add(50 * time.Minute), To: t0.Add(52 * time.Minute)}}},
	}
	if sc.args == nil {
		versions = append(versions, promtest.TrafficVersion{Labels: sc.labels("v05"), LatencyMedianMs: 60, LatencySigma: 0.3})
	}
	fams, err := promtest.Traffic{Shape: sc.shape, Start: t0, End: t0.Add(time.Hour), Seed: 7, Versions: versions}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// shapeExpected computes the error-rate and p99 measurements from the
// generated samples of the version's series.
func shapeExpected(t *testing.T, fams []promtest.Family, sc shapeCase, kind, version string, at time.Time, w time.Duration) (Measurement, bool) {
	t.Helper()
	match := map[string]string{}
	for _, l := range sc.labels(version) {
		match[l.Name] = l.Value
	}
	reqs := promtest.Select(fams, sc.shape.CounterSeries, match)
	var m Measurement
	var ok bool
	raw := rawShape(t, sc)
	m.Requests, ok = refCount(raw, reqs, at, w)
	if kind == "error-rate" {
		fail := map[string]string{sc.shape.CodeLabel: sc.shape.Fail}
		for k, v := range match {
			fail[k] = v
		}
		m.Errors, _ = refCount(raw, promtest.Select(fams, sc.shape.CounterSeries, fail), at, w)
		m.Value = ratioPercent(m.Errors, m.Requests)
		return m, ok
	}
	q, qok := refQuantile(t, 0.99, promtest.Select(fams, sc.shape.Histogram+"_bucket", match), at, w)
	m.Value = q * sc.scale
	return m, ok && qok
}

func TestShapeTemplatesPrometheus(t *testing.T) {
	for _, sc := range shapeCases() {
		t.Run(sc.prefix, func(t *testing.T) {
			fams := shapeData(t, sc)
			om, err := promtest.OpenMetrics(fams)
			if err != nil {
				t.Fatal(err)
			}
			srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
			p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			runShapeCases(t, p, fams, sc)
		})
	}
}

func runShapeCases(t *testing.T, p *Prometheus, fams []promtest.Family, sc shapeCase) {
	at30 := t0.Add(30 * time.Minute)
	tests := []struct {
		name, kind, version string
		at                  time.Time
		window              time.Duration
		wantErr             error
		check               func(m Measurement) bool
		podSkip             string // with a pod label: the window is skipped, why
	}{
		{name: "healthy stable error rate", kind: "error-rate", version: "v03", at: at30, window: 5 * time.Minute, check: func(m Measurement) bool { return m.Value < 1 }},
		{name: "failing canary error rate", kind: "error-rate", version: "v04", at: at30, window: 5 * time.Minute, check: func(m Measurement) bool { return m.Value > 40 }},
		{name: "canary error rate over reset", kind: "error-rate", version: "v04", at: t0.Add(45 * time.Minute), window: 10 * time.Minute, podSkip: "counter reset"},
		{name: "canary error rate in scrape gap", kind: "error-rate", version: "v04", at: t0.Add(51 * time.Minute), window: 5 * time.Minute, podSkip: "vanished mid-window"},
		{name: "stable p99", kind: "latency-p99", version: "v03", at: at30, window: 5 * time.Minute, check: func(m Measurement) bool { return m.Value < 400 }},
		{name: "slow canary p99", kind: "latency-p99", version: "v04", at: at30, window: 5 * time.Minute, check: func(m Measurement) bool { return m.Value > 400 }},
		{name: "canary p99 over reset", kind: "latency-p99", version: "v04", at: t0.Add(45 * time.Minute), window: 10 * time.Minute, podSkip: "counter reset"},
		{name: "before any data", kind: "error-rate", version: "v03", at: t0.Add(-time.Hour), window: 5 * time.Minute, wantErr: ErrNoData},
	}
	if sc.args == nil {
		tests = append(tests, struct {
			name, kind, version string
			at                  time.Time
			window              time.Duration
			wantErr             error
			check               func(m Measurement) bool
			podSkip             string
		}{name: "version not deployed", kind: "error-rate", version: "v06", at: at30, window: 5 * time.Minute, wantErr: ErrNoData})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustMetric(t, sc.prefix+"-"+tc.kind)
			if err := CheckTemplate(tmpl); err != nil {
				t.Fatal(err)
			}
			v := Vars{Service: "aleph", Namespace: "games", Version: tc.version, Stable: "v03", Canary: "v04",
				Interval: time.Minute, Window: tc.window, Args: sc.args}
			got, err := Measure(t.Context(), p, tmpl, v, tc.at)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Measure() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Measure() error = %v\nqueries: %q", err, got.Queries)
			}
			want, ok := shapeExpected(t, fams, sc, tc.kind, tc.version, tc.at, tc.window)
			if !ok {
				t.Fatalf("reference says no data, Measure returned %+v", got)
			}
			if tc.podSkip != "" && slices.ContainsFunc(sc.labels(tc.version), func(l promtest.Label) bool { return l.Name == "pod" }) {
				// The version's one pod does not cover the window whole: left
				// out, nothing is left to count, the window is skipped.
				if !strings.Contains(got.Skipped, "every pod with samples in the window was left out") || len(got.Dropped) != 1 ||
					!strings.Contains(got.Dropped[0], tc.podSkip) || !math.IsNaN(got.Requests) || !closeTo(got.Value, want.Value, 1e-9) && tc.kind != "error-rate" {
					t.Errorf("got %+v; want the window skipped for %q", got, tc.podSkip)
				}
				return
			}
			if !closeTo(got.Value, want.Value, 1e-9) || !closeTo(got.Requests, want.Requests, 1e-9) || !closeTo(got.Errors, want.Errors, 1e-9) {
				t.Errorf("got value %v, errors %v, requests %v; want %v, %v, %v\nqueries: %q",
					got.Value, got.Errors, got.Requests, want.Value, want.Errors, want.Requests, got.Queries)
			}
			if tc.check != nil && !tc.check(got) {
				t.Errorf("value %v out of the expected range", got.Value)
			}
			if math.IsNaN(want.Requests) {
				t.Error("reference requests NaN")
			}
		})
	}
}

// rawShape reports whether the error-rate template of sc counts from raw
// samples: its queries have the shape countExpr reads.
func rawShape(t *testing.T, sc shapeCase) bool {
	t.Helper()
	tmpl := mustMetric(t, sc.prefix+"-error-rate")
	expr, err := RenderDialect(PromQL, tmpl.Requests, placeholderVars("v04", sc.args))
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseCountExpr(expr)
	return err == nil
}
