package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// exceedanceFixtures is testdata/exceedance_fixtures.json, written by
// scripts/exceedance_fixtures.R.
type exceedanceFixtures struct {
	RVersion string `json:"r_version"`
	Fisher   []struct {
		Table       []int64 `json:"table"`
		Alternative string  `json:"alternative"`
		PValue      rnum    `json:"p_value"`
	} `json:"fisher"`
	Datasets []fixtureData `json:"datasets"`
	Cases    []struct {
		Dataset     string  `json:"dataset"`
		Q           float64 `json:"q"`
		Alternative string  `json:"alternative"`
		Error       string  `json:"error"`
		Threshold   rnum    `json:"threshold"`
		Level       rnum    `json:"level"`
		XAbove      int     `json:"x_above"`
		YAbove      int     `json:"y_above"`
		PValue      rnum    `json:"p_value"`
	} `json:"cases"`
}

func loadExceedanceFixtures(t *testing.T) exceedanceFixtures {
	t.Helper()
	path := filepath.Join("testdata", "exceedance_fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (regenerate with scripts/exceedance_fixtures.R)", path, err)
	}
	var f exceedanceFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(f.Fisher) < 50 || len(f.Cases) < 100 {
		t.Fatalf("%s: only %d tables and %d cases", path, len(f.Fisher), len(f.Cases))
	}
	return f
}

// pClose compares p-values: relative to R within fixtureTol, or both below
// 1e-300 (R and Go both underflow there).
func pClose(got, want float64) bool {
	return closeTo(got, want, fixtureTol) || (got < 1e-300 && want < 1e-300)
}

func TestFisherExactMatchesR(t *testing.T) {
	f := loadExceedanceFixtures(t)
	for i, c := range f.Fisher {
		tb := c.Table
		t.Run(fmt.Sprintf("%d/%v/%s", i, tb, c.Alternative), func(t *testing.T) {
			alt, err := ParseAlternative(c.Alternative)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FisherExact(tb[0], tb[1], tb[2], tb[3], alt)
			if err != nil {
				t.Fatal(err)
			}
			if want := float64(c.PValue); !pClose(got, want) {
				t.Errorf("p = %.17g, R %.17g (rel diff %.3g)", got, want, math.Abs(got-want)/want)
			}
		})
	}
}

func TestExceedanceTestMatchesR(t *testing.T) {
	f := loadExceedanceFixtures(t)
	// samples are generated once per data set: the largest holds 2e6 values.
	type pair struct{ x, y []float64 }
	data := map[string]pair{}
	for _, d := range f.Datasets {
		x, y := d.samples()
		data[d.Name] = pair{x, y}
	}
	for _, c := range f.Cases {
		t.Run(fmt.Sprintf("%s/q=%g/%s", c.Dataset, c.Q, c.Alternative), func(t *testing.T) {
			d, ok := data[c.Dataset]
			if !ok {
				t.Fatalf("no data set %q", c.Dataset)
			}
			alt, err := ParseAlternative(c.Alternative)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ExceedanceTest(d.x, d.y, c.Q, alt)
			if c.Error != "" {
				if !errors.Is(err, ErrAllTied) {
					t.Fatalf("R finds no split: want ErrAllTied, got %v (%+v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Threshold != float64(c.Threshold) || !closeTo(got.Level, float64(c.Level), 1e-15) ||
				got.XAbove != c.XAbove || got.YAbove != c.YAbove {
				t.Errorf("split at %.17g (level %g): %d and %d above; R at %.17g (level %g): %d and %d",
					got.Threshold, got.Level, got.XAbove, got.YAbove, float64(c.Threshold), float64(c.Level), c.XAbove, c.YAbove)
			}
			if want := float64(c.PValue); !pClose(got.PValue, want) {
				t.Errorf("p = %.17g, R %.17g (rel diff %.3g)", got.PValue, want, math.Abs(got.PValue-want)/want)
			}
		})
	}
}
