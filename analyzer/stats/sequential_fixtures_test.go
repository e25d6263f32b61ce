package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The reference values in testdata/sequential_fixtures.json come from
// scripts/sequential_fixtures.R (regenerate: see the script's header). R sums
// the e-values straight from dbinom likelihoods and finds the mean boundary by
// uniroot over integrate(), so agreement checks the Go algebra, not a port.

// seqNum decodes a JSON number or one of the strings "Inf", "-Inf", "NaN".
type seqNum float64

func (n *seqNum) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"Inf"`:
		*n = seqNum(math.Inf(1))
	case `"-Inf"`:
		*n = seqNum(math.Inf(-1))
	case `"NaN"`:
		*n = seqNum(math.NaN())
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("decode number %s: %w", b, err)
		}
		*n = seqNum(f)
	}
	return nil
}

type seqFixtures struct {
	Grid struct {
		Size       int       `json:"size"`
		MinU       float64   `json:"min_u"`
		MaxU       float64   `json:"max_u"`
		PriorScale float64   `json:"prior_scale"`
		U          []float64 `json:"u"`
		W          []float64 `json:"w"`
	} `json:"grid"`
	CountCases []struct {
		Name          string       `json:"name"`
		Tolerance     float64      `json:"tolerance"`
		Alpha         float64      `json:"alpha"`
		Direction     Direction    `json:"direction"`
		FutilityAlpha float64      `json:"futility_alpha"`
		Obs           [][4]float64 `json:"obs"`
		Steps         []struct {
			LogE            float64 `json:"log_e"`
			LogUp           float64 `json:"log_up"`
			LogDown         float64 `json:"log_down"`
			LogFutilityUp   float64 `json:"log_futility_up"`
			LogFutilityDown float64 `json:"log_futility_down"`
			Skipped         bool    `json:"skipped"`
			Decision        string  `json:"decision"`
		} `json:"steps"`
	} `json:"count_cases"`
	MeanCases []struct {
		Name       string    `json:"name"`
		Tolerance  float64   `json:"tolerance"`
		Alpha      float64   `json:"alpha"`
		Direction  Direction `json:"direction"`
		MinSamples int       `json:"min_samples"`
		Horizon    float64   `json:"horizon"`
		Intervals  []struct {
			Canary   []float64 `json:"canary"`
			Baseline []float64 `json:"baseline"`
		} `json:"intervals"`
		Steps []struct {
			Lower    seqNum `json:"lower"`
			Upper    seqNum `json:"upper"`
			Decision string `json:"decision"`
		} `json:"steps"`
	} `json:"mean_cases"`
}

func seqLoadFixtures(t *testing.T) seqFixtures {
	t.Helper()
	path := filepath.Join("testdata", "sequential_fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var f seqFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(f.CountCases) == 0 || len(f.MeanCases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return f
}

// seqClose reports whether got is within rel of want, relative to scale.
func seqClose(got, want, rel, scale float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= rel*scale
}

func TestSequentialGridMatchesR(t *testing.T) {
	f := seqLoadFixtures(t)
	g := countGrid()
	if f.Grid.Size != gridSize || f.Grid.MinU != gridMinU || f.Grid.MaxU != gridMaxU || f.Grid.PriorScale != priorScale {
		t.Fatalf("grid settings: R %+v, Go size %d u [%v, %v] scale %v",
			f.Grid, gridSize, gridMinU, gridMaxU, priorScale)
	}
	sum := 0.0
	for k := range gridSize {
		if !seqClose(g.u[k], f.Grid.U[k], 1e-13, f.Grid.U[k]) {
			t.Errorf("u[%d] = %.17g, R %.17g", k, g.u[k], f.Grid.U[k])
		}
		w := math.Exp(g.logW[k])
		if !seqClose(w, f.Grid.W[k], 1e-12, f.Grid.W[k]) {
			t.Errorf("w[%d] = %.17g, R %.17g", k, w, f.Grid.W[k])
		}
		sum += w
	}
	if math.Abs(sum-1) > 1e-14 {
		t.Errorf("prior weights sum to %.17g, want 1", sum)
	}
}

// TestCountTestMatchesR replays each R case through Update and compares every
// step's e-values to 1e-9 relative, on the log scale: |log e_Go - log e_R| <=
// 1e-9 * max(1, |log e_R|) bounds the relative error of e by about 1e-9 for
// moderate evidence (R's dbinom and Go's closed form differ by rounding only).
func TestCountTestMatchesR(t *testing.T) {
	f := seqLoadFixtures(t)
	g := countGrid()
	for _, c := range f.CountCases {
		t.Run(c.Name, func(t *testing.T) {
			test := CountTest{Tolerance: c.Tolerance, Alpha: c.Alpha, Direction: c.Direction, FutilityAlpha: c.FutilityAlpha}
			var s CountState
			for i, o := range c.Obs {
				want := c.Steps[i]
				var err error
				s, err = test.Update(s, CountObservation{o[0], o[1], o[2], o[3]})
				if want.Skipped != (err != nil) {
					t.Fatalf("step %d: skipped %v, Update error %v", i, want.Skipped, err)
				}
				inc, dec := test.SideEValues(s)
				checks := []struct {
					what      string
					got, want float64
				}{
					{"log e", math.Log(test.EValue(s)), want.LogE},
					{"log e up", math.Log(inc), want.LogUp},
					{"log e down", math.Log(dec), want.LogDown},
					{"log futility up", g.logMixture(&g.logW, s.UpFutility), want.LogFutilityUp},
					{"log futility down", g.logMixture(&g.logW, s.DownFutility), want.LogFutilityDown},
				}
				for _, ch := range checks {
					if !seqClose(ch.got, ch.want, 1e-9, math.Max(1, math.Abs(ch.want))) {
						t.Errorf("step %d %s = %.17g, R %.17g", i, ch.what, ch.got, ch.want)
					}
				}
				if got := test.Decide(s).String(); got != want.Decision {
					t.Errorf("step %d decision %s, R %s", i, got, want.Decision)
				}
			}
			if s.Skipped+s.Intervals != len(c.Obs) {
				t.Errorf("intervals %d + skipped %d != %d observations", s.Intervals, s.Skipped, len(c.Obs))
			}
		})
	}
}

// TestMeanTestMatchesR compares the bounds after every interval to R's. The
// tolerance is 1e-9 relative to the bound's scale |estimate| + margin, not to
// the bound itself, which can be near 0 by cancellation.
func TestMeanTestMatchesR(t *testing.T) {
	f := seqLoadFixtures(t)
	for _, c := range f.MeanCases {
		t.Run(c.Name, func(t *testing.T) {
			test := MeanTest{Tolerance: c.Tolerance, Alpha: c.Alpha, Direction: c.Direction,
				MinSamples: c.MinSamples, Horizon: c.Horizon}
			var s MeanState
			for i, iv := range c.Intervals {
				var err error
				if s, err = test.Update(s, iv.Canary, iv.Baseline); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				lower, upper := test.Bounds(s)
				want := c.Steps[i]
				scale := math.Abs(s.Canary.Mean) + math.Abs(s.Baseline.Mean)
				if !seqClose(lower, float64(want.Lower), 1e-9, scale) {
					t.Errorf("step %d lower = %.17g, R %.17g", i, lower, float64(want.Lower))
				}
				if !seqClose(upper, float64(want.Upper), 1e-9, scale) {
					t.Errorf("step %d upper = %.17g, R %.17g", i, upper, float64(want.Upper))
				}
				if got := test.Decide(s).String(); got != want.Decision {
					t.Errorf("step %d decision %s, R %s", i, got, want.Decision)
				}
			}
		})
	}
}
