package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// Monte Carlo checks of MeanTest on log-normal latencies (median 100 ms),
// 300 values a minute split by the canary weight 1% -> 10% -> 50%, a look
// after every interval. Seeded and reproducible.

const seqLatencyPerMin = 300.0

// seqLatencyRollout runs one rollout with canary values scaled by scale and
// returns the 1-based interval of the first Reject, or 0.
func seqLatencyRollout(t *testing.T, rng *rand.Rand, test MeanTest, sdlog, scale float64) int {
	ln := distuv.LogNormal{Mu: math.Log(100), Sigma: sdlog, Src: rng}
	var s MeanState
	canary, baseline := make([]float64, 0, 256), make([]float64, 0, 512)
	for i, w := range seqShift() {
		n := distuv.Poisson{Lambda: seqLatencyPerMin, Src: rng}.Rand()
		nc := int(distuv.Binomial{N: n, P: w, Src: rng}.Rand())
		canary, baseline = canary[:0], baseline[:0]
		for range nc {
			canary = append(canary, scale*ln.Rand())
		}
		for range int(n) - nc {
			baseline = append(baseline, ln.Rand())
		}
		var err error
		if s, err = test.Update(s, canary, baseline); err != nil {
			t.Fatalf("interval %d: %v", i, err)
		}
		if test.Decide(s) == Reject {
			return i + 1
		}
	}
	return 0
}

// TestMeanTestFalseRejections: healthy canaries (mean at the tolerance, the
// worst null, or unchanged) are rejected in fewer than alpha = 0.05 of 1,000
// rollouts of 30 looks: the Wilson 99% upper bound must be below alpha. The
// test is asymptotic, so this is the check that MinSamples and the variance
// floor suffice for skewed latencies; without the floor, "decrease at
// tolerance, heavy skew" rejected about 10% of healthy rollouts.
func TestMeanTestFalseRejections(t *testing.T) {
	cases := []struct {
		name  string
		test  MeanTest
		sdlog float64
		scale float64
	}{
		{"increase at tolerance", MeanTest{Tolerance: 0.1, Alpha: 0.05}, 0.5, 1.1},
		{"increase unchanged", MeanTest{Tolerance: 0.1, Alpha: 0.05}, 0.5, 1},
		{"heavy skew at tolerance", MeanTest{Tolerance: 0.1, Alpha: 0.05}, 1, 1.1},
		{"decrease at tolerance, heavy skew", MeanTest{Tolerance: 0.1, Alpha: 0.05, Direction: Decrease}, 1, 0.9},
		{"either at lower tolerance, MinSamples 2", MeanTest{Tolerance: 0.1, Alpha: 0.05, Direction: Either, MinSamples: 2}, 0.5, 0.9},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2021, uint64(i)))
			rejected := 0
			for range seqRuns {
				if seqLatencyRollout(t, rng, c.test, c.sdlog, c.scale) > 0 {
					rejected++
				}
			}
			lo, hi := seqWilson(rejected, seqRuns)
			t.Logf("%d/%d healthy rollouts rejected (Wilson 99%% [%.4f, %.4f])", rejected, seqRuns, lo, hi)
			if hi >= c.test.Alpha {
				t.Errorf("false-rejection rate %d/%d: Wilson upper bound %.4f not below alpha %v", rejected, seqRuns, hi, c.test.Alpha)
			}
		})
	}
}

// TestMeanTestDetectsShift: a canary 30% slower on average, with a 10%
// tolerance, is rejected within the 30 intervals in at least 90% of runs
// (Wilson 99% lower bound), at alpha 0.05 and 0.01.
func TestMeanTestDetectsShift(t *testing.T) {
	cases := []struct {
		name string
		test MeanTest
	}{
		{"alpha 0.05", MeanTest{Tolerance: 0.1, Alpha: 0.05}},
		{"alpha 0.01 either", MeanTest{Tolerance: 0.1, Alpha: 0.01, Direction: Either}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(30, uint64(i)))
			caught, sumAt := 0, 0
			for range seqRuns {
				if at := seqLatencyRollout(t, rng, c.test, 0.5, 1.3); at > 0 {
					caught++
					sumAt += at
				}
			}
			lo, hi := seqWilson(caught, seqRuns)
			t.Logf("caught %d/%d (Wilson 99%% [%.4f, %.4f]), mean interval %.1f", caught, seqRuns, lo, hi, float64(sumAt)/float64(max(caught, 1)))
			if lo < 0.9 {
				t.Errorf("caught %d/%d: Wilson lower bound %.4f below 0.9", caught, seqRuns, lo)
			}
		})
	}
}
