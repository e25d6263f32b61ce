package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

type dispersionFixtures struct {
	Cases []struct {
		Name      string       `json:"name"`
		Tolerance float64      `json:"tolerance"`
		Alpha     float64      `json:"alpha"`
		Direction Direction    `json:"direction"`
		Obs       [][4]float64 `json:"obs"`
		Steps     []struct {
			LogE           float64 `json:"log_e"`
			ResidualExcess float64 `json:"residual_excess"`
			ResidualInfo   float64 `json:"residual_info"`
			MHNum          float64 `json:"mh_num"`
			MHDen          float64 `json:"mh_den"`
			Decision       string  `json:"decision"`
		} `json:"steps"`
	} `json:"cases"`
}

// TestDispersionMatchesR checks the dispersion-discounted, tolerance-tuned
// count test against scripts/dispersion_fixtures.R, which recomputes every
// look from dbinom and the documented formulas.
func TestDispersionMatchesR(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "dispersion_fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f dispersionFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			test := CountTest{Tolerance: c.Tolerance, Alpha: c.Alpha, Direction: c.Direction, Dispersion: true, TunedPrior: true}
			var s CountState
			for i, o := range c.Obs {
				var err error
				if s, err = test.Update(s, CountObservation{o[0], o[1], o[2], o[3]}); err != nil {
					t.Fatalf("look %d: %v", i+1, err)
				}
				want := c.Steps[i]
				for _, ch := range []struct {
					what      string
					got, want float64
				}{
					{"log e", math.Log(test.EValue(s)), want.LogE},
					{"residual excess", s.ResidualExcess, want.ResidualExcess},
					{"residual info", s.ResidualInfo, want.ResidualInfo},
					{"MH numerator", s.MHNum, want.MHNum},
					{"MH denominator", s.MHDen, want.MHDen},
				} {
					if !seqClose(ch.got, ch.want, 1e-9, math.Max(1, math.Abs(ch.want))) {
						t.Errorf("look %d: %s = %.12g, R says %.12g", i+1, ch.what, ch.got, ch.want)
					}
				}
				if got := test.Decide(s).String(); got != want.Decision {
					t.Errorf("look %d: decision %s, R says %s", i+1, got, want.Decision)
				}
			}
		})
	}
}

// overdispersedCounts draws one interval: each version's error rate times
// a log-normal factor of mean 1 and sdlog spread, independently.
func overdispersedCounts(rng *rand.Rand, nC, nB, rate, ratio, spread float64) CountObservation {
	draw := func(n, p float64) float64 {
		m := math.Exp(spread*rng.NormFloat64() - spread*spread/2)
		return distuv.Poisson{Lambda: n * math.Min(1, p*m), Src: rng}.Rand()
	}
	return CountObservation{CanaryBad: draw(nC, rate*ratio), CanaryTotal: nC, BaselineBad: draw(nB, rate), BaselineTotal: nB}
}

// TestDispersionFalseRejections: on overdispersed errors (sdlog 0.5 per
// interval and version, 1,000 requests/s, the canary at 1%, 10% and 50%)
// the binomial test rolls healthy canaries back far more often than alpha;
// the dispersion-discounted test stays within it. A canary at the
// tolerance is the worst healthy case.
func TestDispersionFalseRejections(t *testing.T) {
	const runs, alpha = 400, 0.05
	weights := []float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
		0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	rejections := func(test CountTest) int {
		rng := rand.New(rand.NewPCG(7, 16))
		n := 0
		for range runs {
			var s CountState
			for _, w := range weights {
				s, _ = test.Update(s, overdispersedCounts(rng, 60000*w, 60000*(1-w), 0.001, 1.25, 0.5))
				if test.Decide(s) == Reject {
					n++
					break
				}
			}
		}
		return n
	}
	plain := rejections(CountTest{Tolerance: 0.25, Alpha: alpha})
	robust := rejections(CountTest{Tolerance: 0.25, Alpha: alpha, Dispersion: true, TunedPrior: true})
	t.Logf("false rejections of %d: binomial %d, dispersion %d (alpha %v)", runs, plain, robust, alpha)
	if float64(plain) < 3*alpha*runs {
		t.Errorf("binomial test rejected %d of %d: the scenario should break it", plain, runs)
	}
	if float64(robust) > alpha*runs {
		t.Errorf("dispersion test rejected %d of %d, over alpha %v", robust, runs, alpha)
	}
}

// TestDispersionIsExactOnIndependentEvents: with independent requests each
// discount is at most 1, so no interval weighs more than in the binomial
// test, and the e-value is never above the binomial one's at the same
// prior; the discount vanishes as the estimate learns there is no
// dispersion.
func TestDispersionIsExactOnIndependentEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	plain := CountTest{Tolerance: 0.25, Alpha: 0.01, TunedPrior: true}
	robust := plain
	robust.Dispersion = true
	var sp, sr CountState
	var first, last float64
	for i := range 60 {
		o := overdispersedCounts(rng, 6000, 54000, 0.01, 1, 0)
		if d := robust.discount(sr, o.CanaryBad+o.BaselineBad, o.CanaryTotal/o.BaselineTotal); d > 1 || d <= 0 {
			t.Fatalf("look %d: discount %v outside (0, 1]", i+1, d)
		} else if i == 0 {
			first = d
		} else {
			last = d
		}
		sp, _ = plain.Update(sp, o)
		sr, _ = robust.Update(sr, o)
	}
	if !(last > first) {
		t.Errorf("discount %v at the first look, %v after 60 independent looks: it should approach 1", first, last)
	}
	if tau2 := dispersionTau2(sr); tau2 > 0.1 {
		t.Errorf("tau^2 estimated at %v on independent events, want near 0", tau2)
	}
	t.Logf("discount first %.3f, last %.3f; e binomial %.3g, dispersion %.3g", first, last, plain.EValue(sp), robust.EValue(sr))
}
