package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMannWhitneyErrors(t *testing.T) {
	ok := []float64{1, 2, 3}
	tests := []struct {
		name string
		x, y []float64
		opt  MannWhitneyOptions
		want error
	}{
		{name: "empty x", x: nil, y: ok, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrEmptySample},
		{name: "empty y", x: ok, y: []float64{}, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrEmptySample},
		{name: "NaN in x", x: []float64{1, math.NaN()}, y: ok, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrNonFinite},
		{name: "+Inf in y", x: ok, y: []float64{math.Inf(1)}, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrNonFinite},
		{name: "-Inf in x", x: []float64{math.Inf(-1)}, y: ok, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrNonFinite},
		{name: "conf level zero", x: ok, y: ok, opt: MannWhitneyOptions{}, want: ErrInvalidOption},
		{name: "conf level one", x: ok, y: ok, opt: MannWhitneyOptions{ConfLevel: 1}, want: ErrInvalidOption},
		{name: "conf level negative", x: ok, y: ok, opt: MannWhitneyOptions{ConfLevel: -0.5}, want: ErrInvalidOption},
		{name: "conf level NaN", x: ok, y: ok, opt: MannWhitneyOptions{ConfLevel: math.NaN()}, want: ErrInvalidOption},
		{name: "unknown alternative", x: ok, y: ok, opt: MannWhitneyOptions{Alternative: 3, ConfLevel: 0.95}, want: ErrInvalidOption},
		{name: "negative tolerance", x: ok, y: ok, opt: MannWhitneyOptions{ConfLevel: 0.95, TolRoot: -1}, want: ErrInvalidOption},
		{name: "NaN tolerance", x: ok, y: ok, opt: MannWhitneyOptions{ConfLevel: 0.95, TolRoot: math.NaN()}, want: ErrInvalidOption},
		{name: "overflowing differences", x: []float64{1e308}, y: []float64{-1e308}, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrRange},
		{name: "all tied", x: []float64{4, 4, 4}, y: []float64{4, 4}, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrAllTied},
		{name: "both constant", x: []float64{4, 4, 4}, y: []float64{1, 1}, opt: MannWhitneyOptions{Alternative: Greater, ConfLevel: 0.9}, want: ErrAllTied},
		{name: "tied only after shifting", x: []float64{0, 1e-20, 0}, y: []float64{1, 1}, opt: MannWhitneyOptions{ConfLevel: 0.95}, want: ErrAllTied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MannWhitneyWith(tt.x, tt.y, tt.opt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v (result %+v)", err, tt.want, got)
			}
			if got != (MannWhitneyResult{}) {
				t.Errorf("result on error = %+v, want zero", got)
			}
		})
	}
}

func TestMannWhitneyLeavesInputAlone(t *testing.T) {
	x := []float64{3, 1, 2, 9, 7}
	y := []float64{8, 6, 4, 5}
	xc, yc := slices.Clone(x), slices.Clone(y)
	if _, err := MannWhitney(x, y, TwoSided, 0.95); err != nil {
		t.Fatal(err)
	}
	if _, err := HodgesLehmann(x, y); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, xc) || !slices.Equal(y, yc) {
		t.Errorf("inputs modified: x %v, y %v", x, y)
	}
}

// TestMannWhitneySwapSymmetry checks the identities that exchanging x and y
// must satisfy: W becomes nm - W, the shift and its bounds change sign, Less
// and Greater trade places, and the p-values stay the same.
func TestMannWhitneySwapSymmetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sample := func(n int, loc float64, round bool) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = loc + rng.NormFloat64()
			if round {
				v[i] = math.Round(v[i] * 2)
			}
		}
		return v
	}
	tests := []struct {
		name string
		x, y []float64
		tol  float64 // the normal branch finds roots only to within TolRoot
	}{
		{name: "exact", x: sample(12, 0.5, false), y: sample(17, 0, false), tol: 0},
		{name: "normal", x: sample(80, 0.3, false), y: sample(70, 0, false), tol: 2 * DefaultTolRoot},
		{name: "normal with ties", x: sample(40, 0.3, true), y: sample(45, 0, true), tol: 2 * DefaultTolRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fwd, err := MannWhitney(tt.x, tt.y, Greater, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			rev, err := MannWhitney(tt.y, tt.x, Less, 0.9)
			if err != nil {
				t.Fatal(err)
			}
			if nm := float64(len(tt.x) * len(tt.y)); fwd.W != nm-rev.W {
				t.Errorf("W = %g, swapped W = %g, want sum %g", fwd.W, rev.W, nm)
			}
			if !closeTo(fwd.PValue, rev.PValue, 1e-12) {
				t.Errorf("p = %g, swapped p = %g", fwd.PValue, rev.PValue)
			}
			if math.Abs(fwd.Estimate+rev.Estimate) > tt.tol {
				t.Errorf("estimate %g, swapped %g: not opposite within %g", fwd.Estimate, rev.Estimate, tt.tol)
			}
			if math.Abs(fwd.Lower+rev.Upper) > tt.tol || !math.IsInf(fwd.Upper, 1) || !math.IsInf(rev.Lower, -1) {
				t.Errorf("interval [%g, %g], swapped [%g, %g]", fwd.Lower, fwd.Upper, rev.Lower, rev.Upper)
			}
		})
	}
}

// TestMannWhitneyStatisticCountsPairs checks W against its definition,
// counted over all pairs.
func TestMannWhitneyStatisticCountsPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name   string
		n, m   int
		levels int // values drawn from 0..levels-1; few levels, many ties
	}{
		{name: "1x1", n: 1, m: 1, levels: 3},
		{name: "tied small", n: 7, m: 9, levels: 3},
		{name: "exact sizes", n: 30, m: 20, levels: 1 << 30},
		{name: "large tied", n: 400, m: 300, levels: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := make([]float64, tt.n), make([]float64, tt.m)
			for i := range x {
				x[i] = float64(rng.IntN(tt.levels))
			}
			for i := range y {
				y[i] = float64(rng.IntN(tt.levels))
			}
			want := 0.0
			for _, a := range x {
				for _, b := range y {
					switch {
					case a > b:
						want++
					case a == b:
						want += 0.5
					}
				}
			}
			got, err := MannWhitney(x, y, TwoSided, 0.95)
			if errors.Is(err, ErrAllTied) && slices.Min(x) == slices.Max(x) && slices.Min(y) == slices.Max(y) {
				return // both samples constant: R stops too
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.W != want {
				t.Errorf("W = %g, pair count %g", got.W, want)
			}
		})
	}
}

func TestParseAlternative(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Alternative
		wantErr error
	}{
		{name: "two.sided", in: "two.sided", want: TwoSided},
		{name: "less", in: "less", want: Less},
		{name: "greater", in: "greater", want: Greater},
		{name: "unknown", in: "two-sided", wantErr: ErrInvalidOption},
		{name: "empty", in: "", wantErr: ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAlternative(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (got != tt.want || got.String() != tt.in) {
				t.Errorf("ParseAlternative(%q) = %v", tt.in, got)
			}
		})
	}
	if s := Alternative(9).String(); s != "Alternative(9)" {
		t.Errorf("unknown alternative prints as %q", s)
	}
}
