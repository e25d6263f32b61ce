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

func TestSamplesPrometheus(t *testing.T) {
	fams, om := istioData(t)
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	vars := func(version string) Vars {
		return Vars{Service: "aleph", Namespace: "games", Version: version, Stable: "v03", Canary: "v04",
			Interval: time.Minute, Window: time.Hour} // Window is replaced by the step
	}
	tests := []struct {
		name       string
		tmpl       string
		version    string
		start, end time.Time
		step       time.Duration
		wantErr    error
		assertions func(t *testing.T, got SampleSet, v Vars)
	}{
		{name: "error rate of v04: one sample per minute, each over its own minute", tmpl: "istio-error-rate", version: "v04",
			start: t0.Add(10 * time.Minute), end: t0.Add(30*time.Minute + 20*time.Second), step: time.Minute,
			assertions: func(t *testing.T, got SampleSet, v Vars) {
				wantSamples(t, fams, "istio-error-rate", v, got, 20)
				for _, q := range got.Queries {
					if !strings.Contains(q, "[1m]") {
						t.Errorf("query %q does not aggregate over the step", q)
					}
				}
				if got.Times[0] != t0.Add(11*time.Minute) || got.Times[19] != t0.Add(30*time.Minute) {
					t.Errorf("times %s .. %s", got.Times[0].Sub(t0), got.Times[19].Sub(t0))
				}
			}},
		{name: "p99 of v03 at a 30s step", tmpl: "istio-latency-p99", version: "v03",
			start: t0.Add(20 * time.Minute), end: t0.Add(25 * time.Minute), step: 30 * time.Second,
			assertions: func(t *testing.T, got SampleSet, v Vars) { wantSamples(t, fams, "istio-latency-p99", v, got, 10) }},
		{name: "the scrape gap of v04 leaves NaN steps, none dropped", tmpl: "istio-error-rate", version: "v04",
			start: t0.Add(45 * time.Minute), end: t0.Add(57 * time.Minute), step: time.Minute,
			assertions: func(t *testing.T, got SampleSet, v Vars) {
				wantSamples(t, fams, "istio-error-rate", v, got, 12)
				nan := 0
				for _, x := range got.Values {
					if math.IsNaN(x) {
						nan++
					}
				}
				if nan == 0 {
					t.Errorf("no NaN step across the gap: %v", got.Values)
				}
			}},
		{name: "a version without traffic has NaN ratios over 0 requests", tmpl: "istio-error-rate", version: "v05",
			start: t0.Add(10 * time.Minute), end: t0.Add(20 * time.Minute), step: time.Minute,
			assertions: func(t *testing.T, got SampleSet, v Vars) {
				for i := range got.Values {
					if !math.IsNaN(got.Values[i]) || got.Requests[i] != 0 {
						t.Errorf("step %d: value %v, requests %v", i, got.Values[i], got.Requests[i])
					}
				}
			}},
		{name: "an unknown version is no data", tmpl: "istio-error-rate", version: "v99",
			start: t0.Add(10 * time.Minute), end: t0.Add(20 * time.Minute), step: time.Minute, wantErr: ErrNoData},
		{name: "a window shorter than the step", tmpl: "istio-error-rate", version: "v03",
			start: t0.Add(10 * time.Minute), end: t0.Add(10*time.Minute + 50*time.Second), step: time.Minute, wantErr: ErrInvalidRange},
		{name: "a step of a fraction of a second", tmpl: "istio-error-rate", version: "v03",
			start: t0.Add(10 * time.Minute), end: t0.Add(20 * time.Minute), step: 1500 * time.Millisecond, wantErr: ErrInvalidRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := templates.Metric(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			v := vars(tt.version)
			got, err := Samples(t.Context(), p, tmpl, v, tt.start, tt.end, tt.step)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v.Window = tt.step
			tt.assertions(t, got, v)
		})
	}
}

// wantSamples compares every sample with the value computed from the
// generated data alone (NaN where the reference has none).
func wantSamples(t *testing.T, fams []promtest.Family, tmpl string, v Vars, got SampleSet, n int) {
	t.Helper()
	if len(got.Times) != n || len(got.Values) != n || (got.Requests != nil && len(got.Requests) != n) {
		t.Fatalf("%d times, %d values, %d requests; want %d", len(got.Times), len(got.Values), len(got.Requests), n)
	}
	for i, at := range got.Times {
		want, ok := expected(t, fams, tmpl, v, at, true)
		if !ok {
			want.Value, want.Requests = math.NaN(), math.NaN()
		}
		if !closeTo(got.Values[i], want.Value, 1e-9) || !closeTo(got.Requests[i], want.Requests, 1e-9) {
			t.Errorf("step %d at %s: %v (%v requests), want %v (%v)", i, at.Sub(t0), got.Values[i], got.Requests[i], want.Value, want.Requests)
		}
		if i > 0 && got.Times[i].Sub(got.Times[i-1]) != got.Step {
			t.Errorf("step %d is %s after the previous one", i, got.Times[i].Sub(got.Times[i-1]))
		}
	}
}

func TestSampleStep(t *testing.T) {
	tests := []struct {
		name             string
		interval, window time.Duration
		min              int
		want             time.Duration
	}{
		{"the interval when the window holds enough of them", time.Minute, 30 * time.Minute, 10, time.Minute},
		{"exactly enough", time.Minute, 10 * time.Minute, 10, time.Minute},
		{"the window split into the minimum", time.Minute, 3 * time.Minute, 10, 18 * time.Second},
		{"whole seconds", time.Minute, 95 * time.Second, 10, 9 * time.Second},
		{"never below a second", time.Minute, 5 * time.Second, 10, time.Second},
		{"a minimum below 1 counts as 1", time.Minute, 30 * time.Second, 0, 30 * time.Second},
		{"an interval under a second", 500 * time.Millisecond, time.Hour, 10, 6 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SampleStep(tt.interval, tt.window, tt.min); got != tt.want {
				t.Errorf("SampleStep(%s, %s, %d) = %s, want %s", tt.interval, tt.window, tt.min, got, tt.want)
			}
		})
	}
}
