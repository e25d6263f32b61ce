package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// Monte Carlo checks of CountTest: healthy rollouts looked at every interval
// must be rejected at most alpha of the time; faulty ones must be caught fast.
// Every run is seeded, so the counts below are reproducible.

const (
	seqRuns     = 1000  // rollouts per scenario
	seqWilsonZ  = 2.326 // one-sided 99% normal quantile for Wilson bounds
	seqPerMin   = 600.0 // 10 requests/s, 1-minute intervals
	seqInterval = 10    // intervals per traffic step
)

// seqShift is the rollout's canary weight per interval: 1% -> 10% -> 50%,
// 10 one-minute intervals each.
func seqShift() []float64 {
	var w []float64
	for _, step := range []float64{0.01, 0.1, 0.5} {
		for range seqInterval {
			w = append(w, step)
		}
	}
	return w
}

// seqWilson returns the Wilson score interval for k successes in n trials.
func seqWilson(k, n int) (lower, upper float64) {
	p, nf, z2 := float64(k)/float64(n), float64(n), seqWilsonZ*seqWilsonZ
	center := (p + z2/(2*nf)) / (1 + z2/nf)
	half := seqWilsonZ * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / (1 + z2/nf)
	return center - half, center + half
}

// seqTraffic simulates one interval: Poisson(perMin) requests split by the
// canary weight, bad events binomial with rates pBase and pBase*ratio.
func seqTraffic(rng *rand.Rand, weight, perMin, pBase, ratio float64) CountObservation {
	n := distuv.Poisson{Lambda: perMin, Src: rng}.Rand()
	rc := distuv.Binomial{N: n, P: weight, Src: rng}.Rand()
	rb := n - rc
	return CountObservation{
		CanaryBad:     distuv.Binomial{N: rc, P: math.Min(1, pBase*ratio), Src: rng}.Rand(),
		CanaryTotal:   rc,
		BaselineBad:   distuv.Binomial{N: rb, P: pBase, Src: rng}.Rand(),
		BaselineTotal: rb,
	}
}

// seqRollout runs one rollout and returns the 1-based interval of the first
// decision other than Continue, and that decision (Continue if none).
func seqRollout(t *testing.T, rng *rand.Rand, test CountTest, weights []float64, pBase, ratio float64) (int, SeqDecision) {
	var s CountState
	for i, w := range weights {
		var err error
		if s, err = test.Update(s, seqTraffic(rng, w, seqPerMin, pBase, ratio)); err != nil {
			t.Fatalf("interval %d: %v", i, err)
		}
		if d := test.Decide(s); d != Continue {
			return i + 1, d
		}
	}
	return 0, Continue
}

// TestCountTestFalseRejections: at the worst null (rate ratio exactly at the
// tolerance) and at no change, the share of healthy rollouts ever rejected
// over 30 looks stays below alpha = 0.05: the Wilson 99% upper bound of the
// observed share must be below alpha.
func TestCountTestFalseRejections(t *testing.T) {
	cases := []struct {
		name  string
		test  CountTest
		pBase float64
		ratio float64
	}{
		{"increase at d0", CountTest{Tolerance: 0.25, Alpha: 0.05}, 0.01, 1.25},
		{"increase at d=1", CountTest{Tolerance: 0.25, Alpha: 0.05}, 0.01, 1},
		{"no tolerance (d0 = 1), rare errors", CountTest{Alpha: 0.05}, 0.002, 1},
		{"either at upper d0", CountTest{Tolerance: 0.1, Alpha: 0.05, Direction: Either}, 0.02, 1.1},
		{"either at lower d0", CountTest{Tolerance: 0.1, Alpha: 0.05, Direction: Either}, 0.02, 0.9},
		{"decrease at d0", CountTest{Tolerance: 0.25, Alpha: 0.05, Direction: Decrease}, 0.02, 0.75},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2022, uint64(i)))
			rejected := 0
			for range seqRuns {
				if _, d := seqRollout(t, rng, c.test, seqShift(), c.pBase, c.ratio); d == Reject {
					rejected++
				}
			}
			lo, hi := seqWilson(rejected, seqRuns)
			t.Logf("%d/%d healthy rollouts rejected (Wilson 99%% [%.4f, %.4f]), alpha %v", rejected, seqRuns, lo, hi, c.test.Alpha)
			if hi >= c.test.Alpha {
				t.Errorf("false-rejection rate %d/%d: Wilson upper bound %.4f not below alpha %v", rejected, seqRuns, hi, c.test.Alpha)
			}
		})
	}
}

// TestNaivePeekingInflates is the harness's control: a fixed-sample one-sided
// z-test on the pooled counts, looked at after every interval, rejects
// healthy rollouts at d0 far more often than its nominal 5% (Wilson lower
// bound above alpha), which the same simulation shows CountTest does not.
func TestNaivePeekingInflates(t *testing.T) {
	const alpha = 0.05
	z := distuv.UnitNormal.Quantile(1 - alpha)
	rng := rand.New(rand.NewPCG(2022, 99))
	rejected := 0
	for range seqRuns {
		var observed, expected, variance float64
		for _, w := range seqShift() {
			o := seqTraffic(rng, w, seqPerMin, 0.01, 1.25)
			e := o.CanaryBad + o.BaselineBad
			if e == 0 || o.CanaryTotal == 0 || o.BaselineTotal == 0 {
				continue
			}
			p0 := 1.25 * o.CanaryTotal / (1.25*o.CanaryTotal + o.BaselineTotal)
			observed += o.CanaryBad
			expected += e * p0
			variance += e * p0 * (1 - p0)
			if (observed-expected)/math.Sqrt(variance) > z {
				rejected++
				break
			}
		}
	}
	lo, hi := seqWilson(rejected, seqRuns)
	t.Logf("naive peeking rejected %d/%d healthy rollouts (Wilson 99%% [%.4f, %.4f])", rejected, seqRuns, lo, hi)
	if lo <= alpha {
		t.Errorf("naive peeking rejected %d/%d: the harness cannot tell an invalid test", rejected, seqRuns)
	}
}

// TestCountTestDetectsBuggyAleph: the seed's buggy aleph (50% of canary
// requests fail at 1% canary weight, 10 requests/s in total, baseline 0.1%
// errors, 1-minute intervals) must be rejected within 2 intervals in at least
// 90% of runs at alpha 0.01 (Wilson 99% lower bound >= 0.9).
func TestCountTestDetectsBuggyAleph(t *testing.T) {
	cases := []struct {
		name string
		test CountTest
	}{
		{"increase", CountTest{Tolerance: 0.25, Alpha: 0.01}},
		{"either", CountTest{Tolerance: 0.25, Alpha: 0.01, Direction: Either}},
		{"increase with futility", CountTest{Tolerance: 0.25, Alpha: 0.01, FutilityAlpha: 0.05}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(i)))
			caught := 0
			for range seqRuns {
				at, d := seqRollout(t, rng, c.test, []float64{0.01, 0.01}, 0.001, 500)
				if d == Reject && at <= 2 {
					caught++
				}
			}
			lo, hi := seqWilson(caught, seqRuns)
			t.Logf("caught within 2 intervals: %d/%d (Wilson 99%% [%.4f, %.4f])", caught, seqRuns, lo, hi)
			if lo < 0.9 {
				t.Errorf("caught %d/%d within 2 intervals: Wilson lower bound %.4f below 0.9", caught, seqRuns, lo)
			}
		})
	}
}

// TestCountTestFutility: Accept may stop a rollout early only if it rarely
// accepts a canary at the futility boundary d1 = (1+tol)^2 (Wilson upper
// bound below FutilityAlpha), and it must actually accept healthy canaries
// at high traffic (at least half of them within 30 intervals).
func TestCountTestFutility(t *testing.T) {
	test := CountTest{Tolerance: 0.25, Alpha: 0.01, FutilityAlpha: 0.05}
	busy := make([]float64, 30)
	for i := range busy {
		busy[i] = 0.5
	}
	cases := []struct {
		name       string
		ratio      float64
		assertions func(t *testing.T, accepted int)
	}{
		{"bad canary at d1 rarely accepted", 1.5625, func(t *testing.T, accepted int) {
			if _, hi := seqWilson(accepted, seqRuns); hi >= test.FutilityAlpha {
				t.Errorf("accepted %d/%d at d1: Wilson upper bound %.4f not below %v", accepted, seqRuns, hi, test.FutilityAlpha)
			}
		}},
		{"healthy canary accepted", 1, func(t *testing.T, accepted int) {
			if lo, _ := seqWilson(accepted, seqRuns); lo < 0.5 {
				t.Errorf("accepted %d/%d healthy canaries: Wilson lower bound %.4f below 0.5", accepted, seqRuns, lo)
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(i)))
			accepted := 0
			for range seqRuns {
				if _, d := seqRollout(t, rng, test, busy, 0.02, c.ratio); d == Accept {
					accepted++
				}
			}
			t.Logf("accepted %d/%d", accepted, seqRuns)
			c.assertions(t, accepted)
		})
	}
}
