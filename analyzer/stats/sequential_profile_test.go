package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

type profileFixtures struct {
	Cases []struct {
		Name      string       `json:"name"`
		Tolerance float64      `json:"tolerance"`
		Alpha     float64      `json:"alpha"`
		Direction Direction    `json:"direction"`
		Obs       [][4]float64 `json:"obs"`
		Steps     []struct {
			LogE     float64 `json:"log_e"`
			UpDen    float64 `json:"up_den"`
			DownDen  float64 `json:"down_den"`
			Decision string  `json:"decision"`
		} `json:"steps"`
	} `json:"cases"`
}

// TestProfileMatchesR checks the profile e-value against
// scripts/dispersion_profile_fixtures.R, which recomputes every look with
// lbeta/dbinom and finds the denominator's supremum with R's optimisers.
// The Go search stops at brackets of 1e-3, so it may fall short of R's
// supremum by a little (which would overstate e); it must not exceed it.
func TestProfileMatchesR(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "dispersion_profile_fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f profileFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			test := CountTest{Tolerance: c.Tolerance, Alpha: c.Alpha, Direction: c.Direction, Dispersion: true, TunedPrior: true, Profile: true}
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
					{"up denominator", s.UpProfile, want.UpDen},
					{"down denominator", s.DownProfile, want.DownDen},
				} {
					if ch.got > ch.want+1e-6 || ch.got < ch.want-2e-3-1e-5*ch.want {
						t.Errorf("look %d: %s = %.9g, R's supremum %.9g", i+1, ch.what, ch.got, ch.want)
					}
				}
				if got := math.Log(test.EValue(s)); math.Abs(got-want.LogE) > 2e-3+1e-5*math.Abs(want.LogE) {
					t.Errorf("look %d: log e = %.9g, R says %.9g", i+1, got, want.LogE)
				}
				if got := test.Decide(s).String(); got != want.Decision {
					t.Errorf("look %d: decision %s, R says %s", i+1, got, want.Decision)
				}
			}
		})
	}
}

// TestProfileFalseRejections: a canary at the tolerance with errors
// overdispersed (sdlog 0.5 or 0.3 per interval and version, 1,000
// requests/s, the canary at 1%, 10% and 50%) is rejected within alpha by
// the profile e-value, where the tempered test (the default before) rejects
// far more at a 1% error rate; on independent requests neither exceeds it.
func TestProfileFalseRejections(t *testing.T) {
	if testing.Short() {
		t.Skip("2,400 simulated rollouts")
	}
	const runs, alpha = 400, 0.05
	weights := []float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
		0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	rejections := func(test CountTest, rate, spread float64) int {
		rng := rand.New(rand.NewPCG(7, 16))
		n := 0
		for range runs {
			var s CountState
			for _, w := range weights {
				s, _ = test.Update(s, overdispersedCounts(rng, 60000*w, 60000*(1-w), rate, 1.25, spread))
				if test.Decide(s) == Reject {
					n++
					break
				}
			}
		}
		return n
	}
	profile := CountTest{Tolerance: 0.25, Alpha: alpha, Dispersion: true, TunedPrior: true, Profile: true}
	tempered := profile
	tempered.Profile = false
	for _, c := range []struct{ rate, spread float64 }{{0.001, 0.5}, {0.01, 0.5}, {0.01, 0.3}, {0.01, 0}} {
		p := rejections(profile, c.rate, c.spread)
		t.Logf("rate %v, sdlog %v: profile rejected %d of %d at alpha %v", c.rate, c.spread, p, runs, alpha)
		if float64(p) > alpha*runs {
			t.Errorf("rate %v, sdlog %v: profile rejected %d of %d, over alpha %v", c.rate, c.spread, p, runs, alpha)
		}
		if c.rate == 0.01 && c.spread == 0.5 {
			if tp := rejections(tempered, c.rate, c.spread); float64(tp) < 2*alpha*runs {
				t.Errorf("tempered test rejected %d of %d: the case should break it", tp, runs)
			}
		}
	}
}

// TestProfileIsBinomialWithoutDispersion: before any dispersion estimate
// the numerator is the binomial mixture's, and the denominator is at least
// the binomial's at the boundary (0), so the profile e-value never exceeds
// the plain binomial test's.
func TestProfileIsBinomialWithoutDispersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	plain := CountTest{Tolerance: 0.25, Alpha: 0.01, TunedPrior: true}
	profile := plain
	profile.Dispersion, profile.Profile = true, true
	var sp, sq CountState
	for i := range 30 {
		o := overdispersedCounts(rng, 600, 5400, 0.01, 1.5, 0)
		sp, _ = plain.Update(sp, o)
		sq, _ = profile.Update(sq, o)
		if ep, eq := plain.EValue(sp), profile.EValue(sq); eq > ep*(1+1e-9) {
			t.Fatalf("look %d: profile e %v above the binomial's %v", i+1, eq, ep)
		}
		if i == 0 && math.Abs(math.Log(plain.EValue(sp))-math.Log(profile.EValue(sq))-sq.UpProfile) > 1e-9 {
			t.Errorf("look 1: log e differ by %v, the denominator is %v", math.Log(plain.EValue(sp))-math.Log(profile.EValue(sq)), sq.UpProfile)
		}
	}
}
