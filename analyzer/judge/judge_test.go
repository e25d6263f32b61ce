package judge

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func fp(v float64) *float64 { return &v }

func counts(bad, total float64) Series {
	return Series{Value: 100 * bad / total, Bad: bad, Total: total, HasCounts: true}
}

func TestThreshold(t *testing.T) {
	cfg := MetricConfig{Name: "error-rate", Unit: "percent", Direction: Increase, Tolerance: 0.25, Max: fp(1)}
	tests := []struct {
		name       string
		in         []Input
		assertions func(t *testing.T, r Result)
	}{
		{"under max passes", []Input{{Config: cfg, Canary: counts(5, 1000), Baseline: counts(1, 1000), Requests: 1000}},
			func(t *testing.T, r Result) { wantVerdict(t, r, VerdictPass, Pass, 100) }},
		{"over max is High and fails", []Input{{Config: cfg, Canary: counts(50, 1000), Baseline: counts(1, 1000), Requests: 1000}},
			func(t *testing.T, r Result) {
				wantVerdict(t, r, VerdictFail, High, 0)
				if r.Metrics[0].Reason != "5% above max 1%" {
					t.Errorf("reason %q", r.Metrics[0].Reason)
				}
			}},
		{"under min is Low", []Input{{Config: MetricConfig{Name: "rps", Min: fp(10)}, Canary: Series{Value: 3}, Requests: -1}},
			func(t *testing.T, r Result) { wantVerdict(t, r, VerdictFail, Low, 0) }},
		{"too few requests is NoData, never Pass", []Input{{Config: cfg, Canary: counts(0, 10), Baseline: counts(0, 1000), Requests: 10}},
			func(t *testing.T, r Result) {
				wantVerdict(t, r, VerdictInconclusive, NoData, 0)
				if r.Metrics[0].Reason != "10 canary requests, needs 100" {
					t.Errorf("reason %q", r.Metrics[0].Reason)
				}
			}},
		{"a fetch error is Error and inconclusive", []Input{{Config: cfg, Err: errors.New("connection refused"), Requests: -1}},
			func(t *testing.T, r Result) { wantVerdict(t, r, VerdictInconclusive, Error, 0) }},
		{"NaN canary is NoData", []Input{{Config: cfg, Canary: Series{Value: math.NaN()}, Requests: -1}},
			func(t *testing.T, r Result) { wantVerdict(t, r, VerdictInconclusive, NoData, 0) }},
		{"a critical failure zeroes the score", []Input{
			{Config: MetricConfig{Name: "a", Max: fp(1), Critical: true}, Canary: Series{Value: 2}, Requests: -1},
			{Config: MetricConfig{Name: "b"}, Canary: Series{Value: 2}, Requests: -1},
		}, func(t *testing.T, r Result) {
			if !r.Critical || r.Score != 0 || r.Verdict != VerdictFail {
				t.Errorf("critical %v score %v verdict %s", r.Critical, r.Score, r.Verdict)
			}
		}},
		{"no metrics is inconclusive", nil,
			func(t *testing.T, r Result) {
				if r.Verdict != VerdictInconclusive {
					t.Errorf("verdict %s", r.Verdict)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.assertions(t, Threshold{}.Judge(Request{Metrics: tt.in, MinRequests: 100, Alpha: 0.01}))
		})
	}
}

func wantVerdict(t *testing.T, r Result, v Verdict, c Classification, score float64) {
	t.Helper()
	if r.Verdict != v || len(r.Metrics) == 0 || r.Metrics[0].Classification != c || r.Score != score {
		t.Errorf("verdict %s score %v metrics %+v, want %s %s %v", r.Verdict, r.Score, r.Metrics, v, c, score)
	}
}

func TestSequential(t *testing.T) {
	cfg := MetricConfig{Name: "error-rate", Unit: "percent", Direction: Increase, Tolerance: 0.25, Critical: true}
	// look feeds one window into the judge, carrying the state like the status file does.
	look := func(state *State, c, b Series, final bool) MetricResult {
		r := Sequential{}.Judge(Request{Metrics: []Input{{Config: cfg, Canary: c, Baseline: b, State: state, Requests: -1}},
			MinRequests: 100, Alpha: 0.01, Final: final, Last: final})
		return r.Metrics[0]
	}
	tests := []struct {
		name       string
		assertions func(t *testing.T)
	}{
		{"the seed's aleph (50% errors at 1% weight) fails within two looks", func(t *testing.T) {
			m := look(nil, counts(3, 6), counts(1, 594), false)
			if m.Classification != High {
				m = look(m.State, counts(3, 6), counts(0, 594), false)
			}
			if m.Classification != High || !strings.HasPrefix(m.Reason, "e=") {
				t.Errorf("after two looks: %s %s", m.Classification, m.Reason)
			}
		}},
		{"a healthy canary passes and its evidence is carried", func(t *testing.T) {
			var st *State
			for range 20 {
				m := look(st, counts(1, 1000), counts(10, 10000), false)
				if m.Classification != Pass || m.State == nil {
					t.Fatalf("healthy look: %s %s", m.Classification, m.Reason)
				}
				st = m.State
			}
			s, err := unpackCountState(st)
			if err != nil || s.Intervals != 20 || s.CanaryTotal != 20000 {
				t.Errorf("state %+v %v", s, err)
			}
		}},
		{"too little traffic over the whole rollout is NoData at the end", func(t *testing.T) {
			m := look(nil, counts(0, 30), counts(0, 3000), true)
			if m.Classification != NoData {
				t.Errorf("%s %s", m.Classification, m.Reason)
			}
		}},
		{"a thin window over the max guard does not roll back; the rollout's rate does", func(t *testing.T) {
			guarded := cfg
			guarded.Max = fp(1)
			lookG := func(state *State, c, b Series) MetricResult {
				r := Sequential{}.Judge(Request{Metrics: []Input{{Config: guarded, Canary: c, Baseline: b, State: state, Requests: -1}},
					MinRequests: 100, Alpha: 0.01})
				return r.Metrics[0]
			}
			m := lookG(nil, counts(1, 6), counts(10, 5940)) // one error in six requests: 17% in this window
			if m.Classification != Pass {
				t.Fatalf("thin window: %s %s", m.Classification, m.Reason)
			}
			st := m.State
			for range 30 { // then 2% errors on plenty of traffic, baseline 1.5%: within tolerance, above max
				m = lookG(st, counts(4, 200), counts(90, 6000))
				st = m.State
			}
			if m.Classification != High || !strings.Contains(m.Reason, "above max 1%") || !strings.Contains(m.Reason, "at level 0.002") {
				t.Errorf("cumulative guard: %s %s", m.Classification, m.Reason)
			}
		}},
		{"a canary no worse than a stable at the max guard is not rolled back", func(t *testing.T) {
			guarded := cfg
			guarded.Max = fp(1)
			var st *State
			for i := range 30 { // 1.05% on the canary, 1.05% on the stable: over the max on noise
				r := Sequential{}.Judge(Request{Metrics: []Input{{Config: guarded, Canary: counts(21, 2000),
					Baseline: counts(189, 18000), State: st, Requests: -1}}, MinRequests: 100, Alpha: 0.01})
				m := r.Metrics[0]
				if m.Classification != Pass {
					t.Fatalf("look %d: %s %s (a plain threshold on the cumulative rate fails here)", i+1, m.Classification, m.Reason)
				}
				st = m.State
			}
		}},
		{"a short window with few requests is not a failure", func(t *testing.T) {
			m := look(nil, counts(0, 6), counts(1, 594), false)
			if m.Classification != Pass {
				t.Errorf("%s %s", m.Classification, m.Reason)
			}
		}},
		{"a fetch error keeps the old evidence", func(t *testing.T) {
			old := look(nil, counts(1, 1000), counts(10, 10000), false).State
			r := Sequential{}.Judge(Request{Metrics: []Input{{Config: cfg, Err: errors.New("timeout"), State: old, Requests: -1}}, Alpha: 0.01})
			if r.Metrics[0].Classification != Error || r.Metrics[0].State != old {
				t.Errorf("%+v", r.Metrics[0])
			}
		}},
		{"a counter reset is skipped, not evidence", func(t *testing.T) {
			m := look(nil, Series{Value: 1, Bad: -5, Total: 100, HasCounts: true}, counts(1, 1000), false)
			s, _ := unpackCountState(m.State)
			if m.Classification != Pass || s.Skipped != 1 || !strings.Contains(m.Reason, "skipped") {
				t.Errorf("%s %s %+v", m.Classification, m.Reason, s)
			}
		}},
		{"a window the measurement skipped says why in the reason", func(t *testing.T) {
			bad := Series{Value: math.NaN(), Bad: math.NaN(), Total: math.NaN(), HasCounts: true,
				Skipped: `requests: series {pod="p1"}: negative value -5 at 2024-01-01T00:01:00Z`}
			m := look(nil, bad, counts(1, 1000), false)
			s, _ := unpackCountState(m.State)
			if m.Classification != Pass || s.Skipped != 1 || s.Intervals != 0 ||
				!strings.Contains(m.Reason, `this window skipped: canary requests: series {pod="p1"}: negative value -5`) {
				t.Errorf("%s %s %+v", m.Classification, m.Reason, s)
			}
		}},
		{"unreadable evidence is an error, not a fresh start", func(t *testing.T) {
			m := look(&State{Kind: "counts/v1", Values: []float64{0.25, 1}}, counts(0, 100), counts(0, 100), false)
			if m.Classification != Error {
				t.Errorf("%s %s", m.Classification, m.Reason)
			}
		}},
		{"an absolute guard fails a value metric", func(t *testing.T) {
			r := Sequential{}.Judge(Request{Metrics: []Input{{Config: MetricConfig{Name: "p99", Unit: "ms", Max: fp(500)},
				Canary: Series{Value: 700}, Requests: -1}}, Alpha: 0.01})
			if r.Metrics[0].Classification != High {
				t.Errorf("%+v", r.Metrics[0])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.assertions)
	}
}

func TestCountStatePacking(t *testing.T) {
	cfg := MetricConfig{Name: "e", Direction: Either, Tolerance: 0.1}
	r := Sequential{}.Judge(Request{Metrics: []Input{{Config: cfg, Canary: counts(7, 100), Baseline: counts(3, 100), Requests: -1}}, Alpha: 0.05})
	st := r.Metrics[0].State
	s, err := unpackCountState(st)
	if err != nil {
		t.Fatal(err)
	}
	again := packCountState(s)
	if len(again.Values) != len(st.Values) || len(s.Up) == 0 || len(s.Down) == 0 {
		t.Fatalf("round trip %d vs %d numbers, up %d down %d", len(again.Values), len(st.Values), len(s.Up), len(s.Down))
	}
	for i := range st.Values {
		if st.Values[i] != again.Values[i] {
			t.Fatalf("value %d differs", i)
		}
	}
	for _, bad := range []*State{{Kind: "other"}, {Kind: countStateKind, Values: make([]float64, 12)}, {Kind: countStateKind, Values: append(make([]float64, 7), 99, 0, 0, 0)}} {
		if _, err := unpackCountState(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
