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

func TestMeasureRangePrometheus(t *testing.T) {
	fams, om := istioData(t)
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	unaggregated := templates.Template{Name: "per-code", Unit: "count",
		Query: `increase(istio_requests_total{reporter="destination",destination_version="{{ .Version }}"}[{{ .Window }}])`}
	tests := []struct {
		name    string
		tmpl    string
		inline  templates.Template
		version string
		r       Range
		window  time.Duration
		wantErr error
		// assertions run on a successful result with its Vars.
		assertions func(t *testing.T, got RangeMeasurement, v Vars)
	}{
		{name: "error rate of failing v04 equals the reference at every step", tmpl: "istio-error-rate", version: "v04",
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(30 * time.Minute), Step: time.Minute},
			assertions: func(t *testing.T, got RangeMeasurement, v Vars) {
				assertReference(t, fams, "istio-error-rate", v, got, 21)
			}},
		{name: "p99 of v03 with a 5m window at a 2m step", tmpl: "istio-latency-p99", version: "v03", window: 5 * time.Minute,
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(30 * time.Minute), Step: 2 * time.Minute},
			assertions: func(t *testing.T, got RangeMeasurement, v Vars) {
				assertReference(t, fams, "istio-latency-p99", v, got, 11)
				if !strings.Contains(got.Queries[1], "[5m]") {
					t.Errorf("query %q does not use the 5m window", got.Queries[1])
				}
			}},
		{name: "zero window is the step", tmpl: "istio-error-rate", version: "v03",
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(12 * time.Minute), Step: 30 * time.Second},
			assertions: func(t *testing.T, got RangeMeasurement, v Vars) {
				for _, q := range got.Queries {
					if !strings.Contains(q, "[30s]") {
						t.Errorf("query %q does not aggregate over the 30s step", q)
					}
				}
				assertReference(t, fams, "istio-error-rate", v, got, 5)
			}},
		{name: "over v04's counter reset and scrape gap, no step is invented", tmpl: "istio-error-rate", version: "v04",
			r: Range{Start: t0.Add(38 * time.Minute), End: t0.Add(56 * time.Minute), Step: time.Minute},
			assertions: func(t *testing.T, got RangeMeasurement, v Vars) {
				if len(got.Values) >= 19 {
					t.Errorf("%d points over a 2-minute scrape gap, want fewer than 19", len(got.Values))
				}
				for _, p := range got.Values {
					if p.T.After(t0.Add(50*time.Minute)) && p.T.Before(t0.Add(52*time.Minute)) {
						t.Errorf("point at %s inside the scrape gap", p.T.Sub(t0))
					}
				}
				assertReference(t, fams, "istio-error-rate", v, got, len(got.Values))
			}},
		{name: "a version without traffic is NaN, not an error", tmpl: "istio-error-rate", version: "v05",
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(15 * time.Minute), Step: time.Minute},
			assertions: func(t *testing.T, got RangeMeasurement, _ Vars) {
				if len(got.Values) != 6 {
					t.Fatalf("%d points, want 6", len(got.Values))
				}
				for _, p := range got.Values {
					if !math.IsNaN(p.V) {
						t.Errorf("value %v at %s, want NaN", p.V, p.T.Sub(t0))
					}
				}
			}},
		{name: "a version not deployed is no data", tmpl: "istio-error-rate", version: "v06",
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(15 * time.Minute), Step: time.Minute}, wantErr: ErrNoData},
		{name: "before any data is no data", tmpl: "istio-latency-p99", version: "v03",
			r: Range{Start: t0.Add(-2 * time.Hour), End: t0.Add(-time.Hour), Step: time.Minute}, wantErr: ErrNoData},
		{name: "an unaggregated query is too many series", inline: unaggregated, version: "v04",
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(15 * time.Minute), Step: time.Minute}, wantErr: ErrTooManySeries},
		{name: "an injection-shaped version measures exactly its own series", tmpl: "istio-error-rate", version: hostile,
			r: Range{Start: t0.Add(10 * time.Minute), End: t0.Add(20 * time.Minute), Step: time.Minute},
			assertions: func(t *testing.T, got RangeMeasurement, v Vars) {
				assertReference(t, fams, "istio-error-rate", v, got, 11)
			}},
		{name: "zero step", tmpl: "istio-error-rate", version: "v03", r: Range{Start: t0, End: t0.Add(time.Hour)}, wantErr: ErrInvalidRange},
		{name: "end before start", tmpl: "istio-error-rate", version: "v03",
			r: Range{Start: t0.Add(time.Hour), End: t0, Step: time.Minute}, wantErr: ErrInvalidRange},
		{name: "more points than Prometheus serves", tmpl: "istio-error-rate", version: "v03",
			r: Range{Start: t0, End: t0.Add(time.Hour), Step: 100 * time.Millisecond}, wantErr: ErrInvalidRange},
		{name: "an empty version is rejected before querying", tmpl: "istio-error-rate", version: "",
			r: Range{Start: t0, End: t0.Add(time.Hour), Step: time.Minute}, wantErr: ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := tc.inline
			if tc.tmpl != "" {
				tmpl = mustMetric(t, tc.tmpl)
			}
			v := Vars{Service: "aleph", Namespace: "games", Version: tc.version, Window: tc.window}
			got, err := MeasureRange(t.Context(), p, tmpl, v, tc.r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("MeasureRange() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("MeasureRange() error = %v", err)
			}
			if v.Window == 0 {
				v.Window = tc.r.Step
			}
			tc.assertions(t, got, v)
		})
	}
}

// assertReference checks that got has n values, each equal to what the
// reference computes from the generated samples for the window ending there.
func assertReference(t *testing.T, fams []promtest.Family, tmpl string, v Vars, got RangeMeasurement, n int) {
	t.Helper()
	if len(got.Values) != n {
		t.Fatalf("%d points, want %d", len(got.Values), n)
	}
	for i, p := range got.Values {
		want, ok := expected(t, fams, tmpl, v, p.T, true)
		if !ok {
			t.Errorf("point %d at %s: the reference has no data, got %v", i, p.T.Sub(t0), p.V)
			continue
		}
		if !closeTo(p.V, want.Value, 1e-9) {
			t.Errorf("point %d at %s = %v, want %v", i, p.T.Sub(t0), p.V, want.Value)
		}
		if i > 0 && !p.T.After(got.Values[i-1].T) {
			t.Errorf("point %d at %s is not after the previous one", i, p.T.Sub(t0))
		}
	}
	if got.Requests != nil && len(got.Requests) < len(got.Values) {
		t.Errorf("%d request points for %d values", len(got.Requests), len(got.Values))
	}
}

func TestQueryRangeUnavailable(t *testing.T) {
	p, err := NewPrometheus(PrometheusConfig{URL: "http://127.0.0.1:1", Attempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.QueryRange(t.Context(), "up", Range{Start: t0, End: t0.Add(time.Minute), Step: time.Second})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Errorf("QueryRange() error = %v, want ErrUnavailable after 2 attempts", err)
	}
}

func TestRatioSeries(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name           string
		errs, requests []Point
		want           []float64
	}{
		{name: "aligned", errs: []Point{{at(0), 1}, {at(10), 0}}, requests: []Point{{at(0), 10}, {at(10), 5}}, want: []float64{10, 0}},
		{name: "zero requests is NaN", errs: []Point{{at(0), 0}}, requests: []Point{{at(0), 0}}, want: []float64{math.NaN()}},
		{name: "errors missing at a step is NaN", errs: []Point{{at(10), 2}}, requests: []Point{{at(0), 10}, {at(10), 4}}, want: []float64{math.NaN(), 50}},
		{name: "errors without requests are dropped", errs: []Point{{at(0), 2}, {at(10), 2}}, requests: []Point{{at(10), 8}}, want: []float64{25}},
		{name: "no requests", errs: []Point{{at(0), 1}}, want: []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ratioSeries(tc.errs, tc.requests)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !closeTo(got[i].V, tc.want[i], 1e-12) || !got[i].T.Equal(tc.requests[i].T) {
					t.Errorf("point %d = %v, want %v at %s", i, got[i], tc.want[i], tc.requests[i].T)
				}
			}
		})
	}
}
