package simulate

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// logNormal draws n log-normal values of median m from a seeded stream.
func logNormal(seed uint64, n int, m float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = m * math.Exp(0.5*rng.NormFloat64())
	}
	return out
}

func TestMannWhitneyReference(t *testing.T) {
	base := logNormal(1, 200, 100)
	metric := func(dir judge.Direction, canary, baseline []float64) judge.Input {
		return judge.Input{Config: judge.MetricConfig{Name: "latency", Direction: dir, Tolerance: 0.05, Critical: true},
			Canary: judge.Series{Samples: canary}, Baseline: judge.Series{Samples: baseline}, Requests: 1000}
	}
	tests := []struct {
		name       string
		ref        MannWhitneyReference
		in         judge.Input
		class      judge.Classification
		assertions func(t *testing.T, m judge.MetricResult)
	}{
		{"twice as slow is High", MannWhitneyReference{}, metric(judge.Increase, logNormal(2, 200, 200), base), judge.High,
			func(t *testing.T, m judge.MetricResult) {
				if m.EValue < 1e6 {
					t.Errorf("1/p = %v", m.EValue)
				}
			}},
		{"the same distribution passes", MannWhitneyReference{}, metric(judge.Increase, logNormal(3, 200, 100), base), judge.Pass,
			func(t *testing.T, m judge.MetricResult) {
				if !(m.EValue >= 1 && m.EValue < 100) {
					t.Errorf("1/p = %v", m.EValue)
				}
			}},
		{"half as slow is Low when decrease is bad", MannWhitneyReference{}, metric(judge.Decrease, logNormal(4, 200, 50), base), judge.Low, nil},
		{"half as slow passes when increase is bad", MannWhitneyReference{}, metric(judge.Increase, logNormal(4, 200, 50), base), judge.Pass, nil},
		{"either catches an increase", MannWhitneyReference{}, metric(judge.Either, logNormal(2, 200, 200), base), judge.High, nil},
		{"a 20% shift fails at level 0.01", MannWhitneyReference{}, metric(judge.Increase, logNormal(5, 200, 120), base), judge.High, nil},
		{"but not at a level of 1e-12", MannWhitneyReference{Level: 1e-12}, metric(judge.Increase, logNormal(5, 200, 120), base), judge.Pass, nil},
		{"nine samples are no data", MannWhitneyReference{}, metric(judge.Increase, logNormal(2, 9, 200), base), judge.NoData, nil},
		{"NaN samples are removed", MannWhitneyReference{MinSamples: 3},
			metric(judge.Increase, []float64{math.NaN(), 1, 2, math.NaN()}, base), judge.NoData, nil},
		{"too few requests are no data", MannWhitneyReference{}, func() judge.Input {
			in := metric(judge.Increase, logNormal(2, 200, 200), base)
			in.Requests = 99
			return in
		}(), judge.NoData, nil},
		{"all zeros on both sides pass", MannWhitneyReference{}, metric(judge.Increase, make([]float64, 60), make([]float64, 60)), judge.Pass, nil},
		{"a fetch error is an error", MannWhitneyReference{}, func() judge.Input {
			in := metric(judge.Increase, base, base)
			in.Err = errors.New("prometheus down")
			return in
		}(), judge.Error, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.ref.Judge(judge.Request{Metrics: []judge.Input{tt.in}, MinRequests: 100, Alpha: 0.01})
			m := res.Metrics[0]
			if m.Classification != tt.class {
				t.Fatalf("%s (%s), want %s", m.Classification, m.Reason, tt.class)
			}
			if tt.assertions != nil {
				tt.assertions(t, m)
			}
		})
	}
}

// TestCalibrate: the calibrated level reproduces the false-rollback count
// it promises when the rollouts are run at it, and any higher level rolls
// back more than the target.
func TestCalibrate(t *testing.T) {
	s := short(t, "healthy-edge")
	const runs, target = 100, 0.03
	cfg := Config{Scenario: s, Runs: runs, Seed: 11}
	c, err := Calibrate(context.Background(), cfg, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("level %.3g: %d of %d rolled back", c.Level, c.FalseRollbackRate.Count, runs)
	if c.FalseRollbackRate.Value > target {
		t.Errorf("calibrated rate %v above target %v", c.FalseRollbackRate.Value, target)
	}
	tests := []struct {
		name       string
		level      float64
		assertions func(t *testing.T, r *Result)
	}{
		{"at the level", c.Level, func(t *testing.T, r *Result) {
			if r.FalseRollbackRate.Count != c.FalseRollbackRate.Count {
				t.Errorf("%d rolled back, calibration said %d", r.FalseRollbackRate.Count, c.FalseRollbackRate.Count)
			}
		}},
		{"just above it", math.Nextafter(c.Level, 1), func(t *testing.T, r *Result) {
			if r.FalseRollbackRate.Value <= target {
				t.Errorf("%d rolled back: the level was not the largest", r.FalseRollbackRate.Count)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfg
			cfg.Judge = MannWhitneyReference{Level: tt.level}
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.assertions(t, r)
		})
	}
	if _, err := Calibrate(context.Background(), cfg, 1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("target 1: %v", err)
	}
}
