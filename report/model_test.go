package report

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// fixtureStart is when the fixtures' rollouts start.
var fixtureStart = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// loadCanary reads the aleph spec of testdata/report, with canary set to version.
func loadCanary(t testing.TB, version string) *spec.Canary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "report", "aleph.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := spec.ParseCanaries(".birdwatch/aleph.yaml", data, spec.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	cs[0].Spec.Canary = version
	return cs[0]
}

// loadStatus reads testdata/report/status-NAME.yaml.
func loadStatus(t testing.TB, name string) *spec.Status {
	t.Helper()
	file := filepath.Join("testdata", "report", "status-"+name+".yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := spec.ParseStatus(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fixture is a report of a fixture status with synthetic series: the
// baseline steady, the canary joining when it gets traffic and, in the
// rolled-back rollout, failing after the weight went to 10%.
func fixture(t testing.TB, name string) Report {
	t.Helper()
	st := loadStatus(t, name)
	c := loadCanary(t, st.Generation)
	r := FromStatus(c, st, fixtureStart.Add(2*time.Hour))
	rng := rand.New(rand.NewPCG(7, uint64(len(name))))
	r.SeriesStep, r.SeriesWindow = 30*time.Second, time.Minute
	for i := range r.Metrics {
		m := &r.Metrics[i]
		for at := r.Start; !at.After(r.End); at = at.Add(r.SeriesStep) {
			base, canary := 0.1+0.03*rng.NormFloat64(), 0.1+0.05*rng.NormFloat64()
			if m.Name == "latency-p99" {
				base, canary = 200+8*rng.NormFloat64(), 205+12*rng.NormFloat64()
			}
			if name == "rolledback" && at.After(fixtureStart.Add(6*time.Minute)) {
				canary *= 1.1
				if m.Unit == "percent" {
					canary += 2
				}
			}
			base, canary = math.Max(base, 0), math.Max(canary, 0)
			m.BaselineSeries = append(m.BaselineSeries, metrics.Point{T: at, V: base})
			if r.WeightAt(at) > 0 && at.After(fixtureStart.Add(time.Minute)) {
				m.CanarySeries = append(m.CanarySeries, metrics.Point{T: at, V: canary})
			} else {
				m.CanarySeries = append(m.CanarySeries, metrics.Point{T: at, V: math.NaN()})
			}
		}
	}
	return r
}

func TestFromStatus(t *testing.T) {
	tests := []struct {
		name       string
		status     func(t *testing.T) *spec.Status
		assertions func(t *testing.T, r Report)
	}{
		{"not started: metrics from the spec, no events", func(*testing.T) *spec.Status { return nil },
			func(t *testing.T, r Report) {
				if r.Canary != "games/aleph" || r.Service != "aleph" || r.Generation != "v04" || r.Phase != "" || len(r.Events) != 0 || !r.Start.IsZero() {
					t.Errorf("report %+v", r)
				}
				if len(r.Metrics) != 2 || r.Metrics[0].Unit != "percent" || r.Metrics[1].Unit != "ms" || r.Metrics[0].Classification != "" {
					t.Errorf("metrics %+v", r.Metrics)
				}
				if !math.IsNaN(r.Metrics[0].Canary) || *r.Metrics[0].Max != 1 || !r.Metrics[0].Critical {
					t.Errorf("error-rate %+v", r.Metrics[0])
				}
			}},
		{"rolled back: span ends at the rollback, last analysis per metric", func(t *testing.T) *spec.Status { return loadStatus(t, "rolledback") },
			func(t *testing.T, r Report) {
				if r.Generation != "v04" || r.Phase != spec.PhaseRolledBack || !r.Finished() || len(r.Events) != 8 {
					t.Errorf("report %+v", r)
				}
				if !r.Start.Equal(fixtureStart) || !r.End.Equal(fixtureStart.Add(9*time.Minute+41*time.Second)) {
					t.Errorf("span %s - %s", r.Start, r.End)
				}
				m := r.Metrics[0]
				if m.Classification != "High" || m.Canary != 2.1 || m.Baseline != 0.11 || r.Analysis.Verdict != "Fail" {
					t.Errorf("error-rate %+v, analysis %+v", m, r.Analysis)
				}
			}},
		{"running: span ends now", func(t *testing.T) *spec.Status {
			st := loadStatus(t, "rolledback")
			st.Phase, st.History = spec.PhaseProgressing, st.History[:5]
			return st
		}, func(t *testing.T, r Report) {
			if !r.End.Equal(fixtureStart.Add(2*time.Hour)) || r.Finished() {
				t.Errorf("end %s finished %v", r.End, r.Finished())
			}
		}},
		{"one event: the span is not empty", func(t *testing.T) *spec.Status {
			st := loadStatus(t, "rolledback")
			st.Phase, st.History = spec.PhaseFrozen, st.History[:1]
			return st
		}, func(t *testing.T, r Report) {
			if r.End.Sub(r.Start) != time.Minute {
				t.Errorf("span %s", r.End.Sub(r.Start))
			}
		}},
		{"an analysed metric the spec no longer has is left out", func(t *testing.T) *spec.Status {
			st := loadStatus(t, "rolledback")
			st.LastAnalysis.Metrics[1].Name = "gone"
			return st
		}, func(t *testing.T, r Report) {
			if len(r.Metrics) != 2 || r.Metrics[1].Classification != "" {
				t.Errorf("metrics %+v", r.Metrics)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.assertions(t, FromStatus(loadCanary(t, "v04"), tc.status(t), fixtureStart.Add(2*time.Hour)))
		})
	}
}

func TestWeightAt(t *testing.T) {
	r := FromStatus(loadCanary(t, "v05"), loadStatus(t, "promoted"), fixtureStart.Add(2*time.Hour))
	tests := []struct {
		name string
		at   time.Duration
		want int
	}{
		{"before the start", -time.Second, 0},
		{"at the start the last decision of the instant counts", 0, 1},
		{"during 10%", 10 * time.Minute, 10},
		{"paused at 50%", 30 * time.Minute, 50},
		{"promoted", 50 * time.Minute, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.WeightAt(fixtureStart.Add(tc.at)); got != tc.want {
				t.Errorf("WeightAt(+%s) = %d, want %d", tc.at, got, tc.want)
			}
		})
	}
}

func TestSetAnalysis(t *testing.T) {
	r := FromStatus(loadCanary(t, "v04"), loadStatus(t, "rolledback"), fixtureStart)
	at := fixtureStart.Add(10 * time.Minute)
	r.SetAnalysis(&judge.Result{Judge: "sequential", Verdict: judge.VerdictFail, Metrics: []judge.MetricResult{
		{Name: "error-rate", Unit: "percent", Classification: judge.High, Canary: 3, Baseline: 0.1, EValue: 250, Reason: "e=250"},
		{Name: "not-in-spec", Classification: judge.Pass},
	}}, at)
	m := r.Metrics[0]
	if m.EValue != 250 || m.Canary != 3 || m.Reason != "e=250" || !r.Analysis.At.Equal(at) || r.Analysis.Verdict != "Fail" {
		t.Errorf("after SetAnalysis: %+v, %+v", m, r.Analysis)
	}
	if r.Metrics[1].Classification != "Pass" || r.Metrics[1].Canary != 231.5 {
		t.Errorf("a metric the result does not name must keep the status' values: %+v", r.Metrics[1])
	}
	before := r
	r.SetAnalysis(nil, at)
	if r.Analysis != before.Analysis {
		t.Error("SetAnalysis(nil) changed the report")
	}
}

// TestBuild measures the fixture rollout's metrics in a real Prometheus
// holding Istio metrics: v04 answers 503 to half its requests, v03 to 0.1%.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: fixtureStart.Add(-10 * time.Minute), End: fixtureStart.Add(20 * time.Minute),
		Step: 10 * time.Second, Seed: 9, Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
			{Version: "v04", RPS: 20, ErrorRatio: 0.5, LatencyMedianMs: 80, LatencySigma: 0.3},
		}}
	fams, err := gen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: promtest.Start(t, promtest.Options{OpenMetrics: om}).URL()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		version    string
		provider   metrics.RangeProvider
		opts       SeriesOptions
		assertions func(t *testing.T, r Report)
	}{
		{"series over the rollout, windows of the analysis interval", "v04", p, SeriesOptions{},
			func(t *testing.T, r Report) {
				if r.SeriesStep != 6*time.Second || r.SeriesWindow != time.Minute {
					t.Errorf("step %s window %s, want 6s and the 1m interval", r.SeriesStep, r.SeriesWindow)
				}
				m := r.Metrics[0]
				if m.SeriesErr != "" || len(m.CanarySeries) != 97 || len(m.BaselineSeries) != 97 {
					t.Fatalf("error-rate: %d and %d points, error %q", len(m.CanarySeries), len(m.BaselineSeries), m.SeriesErr)
				}
				for i := range m.CanarySeries {
					if c, b := m.CanarySeries[i].V, m.BaselineSeries[i].V; c < 35 || c > 65 || b > 1 {
						t.Errorf("point %d: canary %v%%, baseline %v%%", i, c, b)
					}
				}
				if l := r.Metrics[1]; l.SeriesErr != "" || len(l.CanarySeries) != 97 || l.CanarySeries[50].V <= l.BaselineSeries[50].V {
					t.Errorf("latency: %d points, error %q", len(l.CanarySeries), l.SeriesErr)
				}
			}},
		{"fewer points: step = span / points, the window follows", "v04", p, SeriesOptions{Points: 5},
			func(t *testing.T, r Report) {
				if r.SeriesStep != 116*time.Second || r.SeriesWindow != 116*time.Second || len(r.Metrics[0].CanarySeries) != 6 {
					t.Errorf("step %s window %s, %d points", r.SeriesStep, r.SeriesWindow, len(r.Metrics[0].CanarySeries))
				}
			}},
		{"a version without data keeps the baseline and says why", "v09", p, SeriesOptions{},
			func(t *testing.T, r Report) {
				m := r.Metrics[0]
				if len(m.CanarySeries) != 0 || len(m.BaselineSeries) != 97 || !strings.Contains(m.SeriesErr, `version "v09"`) || !strings.Contains(m.SeriesErr, "no data") {
					t.Errorf("%d canary points, %d baseline points, error %q", len(m.CanarySeries), len(m.BaselineSeries), m.SeriesErr)
				}
			}},
		{"no provider: no series", "v04", nil, SeriesOptions{},
			func(t *testing.T, r Report) {
				if r.SeriesStep != 0 || r.Metrics[0].CanarySeries != nil || r.Metrics[0].SeriesErr != "" {
					t.Errorf("report %+v", r.Metrics[0])
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := loadStatus(t, "rolledback")
			st.Generation = tc.version
			r := Build(t.Context(), loadCanary(t, tc.version), st, tc.provider, tc.opts)
			tc.assertions(t, r)
		})
	}
}
