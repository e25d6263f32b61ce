package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureTol is the relative tolerance against R. Every case in the fixture
// file passes it; most values agree to the last bit because the same
// arithmetic (ranks, tie sums, zeroin iterates) is repeated in the same order.
const fixtureTol = 1e-6

// rnum is a float64 that also reads R's non-finite values, written by the
// fixture script as the strings "Inf", "-Inf" and "NaN" (and NA as null).
type rnum float64

func (r *rnum) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"Inf"`:
		*r = rnum(math.Inf(1))
	case `"-Inf"`:
		*r = rnum(math.Inf(-1))
	case `"NaN"`, "null":
		*r = rnum(math.NaN())
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("decode number %s: %w", b, err)
		}
		*r = rnum(f)
	}
	return nil
}

type fixtureData struct {
	Name          string `json:"name"`
	X             []rnum `json:"x"`
	Y             []rnum `json:"y"`
	HodgesLehmann rnum   `json:"hodges_lehmann"`
	// XGen and YGen, when set, are (seed, n, loc) of benchSample: large
	// samples are regenerated rather than stored.
	XGen []float64 `json:"x_gen"`
	YGen []float64 `json:"y_gen"`
}

// samples returns the data set's x and y.
func (d fixtureData) samples() (x, y []float64) {
	if len(d.XGen) == 3 && len(d.YGen) == 3 {
		return benchSample(uint64(d.XGen[0]), int(d.XGen[1]), d.XGen[2]),
			benchSample(uint64(d.YGen[0]), int(d.YGen[1]), d.YGen[2])
	}
	return rToFloats(d.X), rToFloats(d.Y)
}

type fixtureCase struct {
	Dataset           string   `json:"dataset"`
	Alternative       string   `json:"alternative"`
	ConfLevel         float64  `json:"conf_level"`
	TolRoot           float64  `json:"tol_root"`
	Error             string   `json:"error"`
	Statistic         rnum     `json:"statistic"`
	PValue            rnum     `json:"p_value"`
	Estimate          rnum     `json:"estimate"`
	ConfInt           []rnum   `json:"conf_int"`
	ConfLevelReported rnum     `json:"conf_level_reported"`
	ConfLevelAchieved bool     `json:"conf_level_achieved"`
	Exact             bool     `json:"exact"`
	Method            string   `json:"method"`
	Warnings          []string `json:"warnings"`
}

type fixtureFile struct {
	RVersion string        `json:"r_version"`
	Datasets []fixtureData `json:"datasets"`
	Cases    []fixtureCase `json:"cases"`
}

func rToFloats(v []rnum) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}

func loadFixtures(t *testing.T) (fixtureFile, map[string]fixtureData) {
	t.Helper()
	path := filepath.Join("testdata", "mannwhitney_fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (regenerate with scripts/mannwhitney_fixtures.R)", path, err)
	}
	var f fixtureFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	byName := make(map[string]fixtureData, len(f.Datasets))
	for _, d := range f.Datasets {
		byName[d.Name] = d
	}
	if len(f.Cases) < 100 {
		t.Fatalf("%s: only %d cases", path, len(f.Cases))
	}
	return f, byName
}

// closeTo reports whether got is within rel of want, relative to |want|;
// equal values (including infinities and exact zeros) always are.
func closeTo(got, want, rel float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// wantSentinel maps R's error message to the error MannWhitney must return.
func wantSentinel(t *testing.T, msg string) error {
	t.Helper()
	switch {
	case strings.HasPrefix(msg, "not enough"):
		return ErrEmptySample
	case msg == "missing value where TRUE/FALSE needed", strings.Contains(msg, "is NA"),
		strings.HasPrefix(msg, "lower < upper"):
		return ErrAllTied
	case strings.Contains(msg, "not of opposite sign"):
		return ErrNoRoot
	}
	t.Fatalf("R error %q has no Go counterpart", msg)
	return nil
}

func TestMannWhitneyMatchesR(t *testing.T) {
	f, data := loadFixtures(t)
	for _, c := range f.Cases {
		name := fmt.Sprintf("%s/%s/%g/tol=%g", c.Dataset, c.Alternative, c.ConfLevel, c.TolRoot)
		t.Run(name, func(t *testing.T) {
			d, ok := data[c.Dataset]
			if !ok {
				t.Fatalf("no data set %q", c.Dataset)
			}
			alt, err := ParseAlternative(c.Alternative)
			if err != nil {
				t.Fatal(err)
			}
			x, y := d.samples()
			got, err := MannWhitneyWith(x, y, MannWhitneyOptions{
				Alternative: alt, ConfLevel: c.ConfLevel, TolRoot: c.TolRoot,
			})
			if c.Error != "" {
				if want := wantSentinel(t, c.Error); !errors.Is(err, want) {
					t.Fatalf("R stops with %q: want error %v, got %v (result %+v)", c.Error, want, err, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("R succeeds (%s), got error %v", c.Method, err)
			}
			checkAgainstR(t, got, c)
		})
	}
}

func checkAgainstR(t *testing.T, got MannWhitneyResult, c fixtureCase) {
	t.Helper()
	fields := []struct {
		name      string
		got, want float64
	}{
		{"W", got.W, float64(c.Statistic)},
		{"PValue", got.PValue, float64(c.PValue)},
		{"Estimate", got.Estimate, float64(c.Estimate)},
		{"Lower", got.Lower, float64(c.ConfInt[0])},
		{"Upper", got.Upper, float64(c.ConfInt[1])},
		{"ConfLevel", got.ConfLevel, float64(c.ConfLevelReported)},
	}
	for _, fl := range fields {
		if !closeTo(fl.got, fl.want, fixtureTol) {
			t.Errorf("%s = %.17g, R %.17g (rel diff %.3g)", fl.name, fl.got, fl.want,
				math.Abs(fl.got-fl.want)/math.Abs(fl.want))
		}
	}
	if got.Exact != c.Exact {
		t.Errorf("Exact = %v, R method %q", got.Exact, c.Method)
	}
	if got.ConfLevelAchieved != c.ConfLevelAchieved {
		t.Errorf("ConfLevelAchieved = %v, R %v (warnings %q)", got.ConfLevelAchieved, c.ConfLevelAchieved, c.Warnings)
	}
}

func TestHodgesLehmannMatchesR(t *testing.T) {
	f, _ := loadFixtures(t)
	checked := 0
	for _, d := range f.Datasets {
		if d.XGen != nil {
			continue // no R reference: median(outer()) of 10^8 differences is too big for R
		}
		t.Run(d.Name, func(t *testing.T) {
			got, err := HodgesLehmann(rToFloats(d.X), rToFloats(d.Y))
			if len(d.X) == 0 || len(d.Y) == 0 {
				if !errors.Is(err, ErrEmptySample) {
					t.Fatalf("empty sample: want ErrEmptySample, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checked++
			if want := float64(d.HodgesLehmann); !closeTo(got, want, fixtureTol) {
				t.Errorf("HodgesLehmann = %.17g, R median(outer(x, y, \"-\")) = %.17g", got, want)
			}
		})
	}
	if checked < 30 {
		t.Errorf("only %d data sets checked", checked)
	}
}
