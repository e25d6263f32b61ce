package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestExceedanceTestErrors(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		q    float64
		alt  Alternative
		want error
	}{
		{"empty x", nil, []float64{1}, 0.5, Greater, ErrEmptySample},
		{"empty y", []float64{1}, []float64{}, 0.5, Greater, ErrEmptySample},
		{"NaN", []float64{1, math.NaN()}, []float64{1}, 0.5, Greater, ErrNonFinite},
		{"Inf", []float64{1}, []float64{math.Inf(-1)}, 0.5, Greater, ErrNonFinite},
		{"q of 0", []float64{1}, []float64{2}, 0, Greater, ErrInvalidOption},
		{"q of 1", []float64{1}, []float64{2}, 1, Greater, ErrInvalidOption},
		{"q of NaN", []float64{1}, []float64{2}, math.NaN(), Greater, ErrInvalidOption},
		{"bad alternative", []float64{1}, []float64{2}, 0.5, Alternative(7), ErrInvalidOption},
		{"all tied", []float64{3, 3}, []float64{3, 3, 3}, 0.9, Greater, ErrAllTied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ExceedanceTest(tt.x, tt.y, tt.q, tt.alt)
			if !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v (result %+v)", err, tt.want, r)
			}
		})
	}
}

func TestFisherExactErrors(t *testing.T) {
	tests := []struct {
		name       string
		a, b, c, d int64
		alt        Alternative
	}{
		{"negative count", -1, 2, 3, 4, TwoSided},
		{"total above 2^52", 1 << 51, 1 << 51, 1 << 51, 0, Greater},
		{"bad alternative", 1, 2, 3, 4, Alternative(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FisherExact(tt.a, tt.b, tt.c, tt.d, tt.alt)
			if !errors.Is(err, ErrInvalidOption) || !math.IsNaN(p) {
				t.Errorf("p %v err %v, want NaN and ErrInvalidOption", p, err)
			}
		})
	}
}

// The two one-sided tails share the observed table, so
// P(A >= a) + P(A <= a-1) = 1, and swapping the samples swaps the tails.
func TestFisherExactTails(t *testing.T) {
	tables := [][4]int64{{3, 1, 1, 3}, {0, 9, 10, 1}, {40, 12, 60, 88}, {5000, 4800, 45000, 45200}, {2, 0, 1000, 1002}}
	for i, tb := range tables {
		a, b, c, d := tb[0], tb[1], tb[2], tb[3]
		h := newHyper(a+c, b+d, a+b)
		for j := h.lo; j <= h.hi; j += max(1, (h.hi-h.lo)/50) {
			up, low := h.upper(j), h.lower(j-1)
			if math.Abs(up+low-1) > 1e-12 {
				t.Errorf("table %d, a=%d: P(A>=a) %g + P(A<a) %g != 1", i, j, up, low)
			}
		}
		g, _ := FisherExact(a, b, c, d, Greater)
		l, _ := FisherExact(b, a, d, c, Less)
		ts1, _ := FisherExact(a, b, c, d, TwoSided)
		ts2, _ := FisherExact(b, a, d, c, TwoSided)
		if !closeTo(g, l, 1e-12) || !closeTo(ts1, ts2, 1e-12) {
			t.Errorf("table %d: greater %g vs swapped less %g; two-sided %g vs swapped %g", i, g, l, ts1, ts2)
		}
	}
}

// The split never cuts ties, is nearest the requested level, and swapping
// the samples with the alternative gives the same p-value.
func TestExceedanceTestSplit(t *testing.T) {
	tests := []struct {
		name      string
		x, y      []float64
		q         float64
		threshold float64
		xa, ya    int
	}{
		{"continuous median", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8}, 0.5, 4, 2, 2},
		{"ties move the split down", []float64{0, 0, 0, 0, 5}, []float64{0, 0, 0, 1, 2}, 0.5, 0, 1, 2},
		{"ties move the split up", []float64{1, 2, 9, 9}, []float64{9, 9, 9, 9}, 0.5, 2, 2, 4},
		{"equal distances take the lower split", []float64{1, 1, 2, 2}, []float64{3, 3, 4, 4}, 0.5, 2, 0, 4},
		{"upper tail", []float64{1, 2, 3, 4, 5, 6, 7, 8, 30, 40}, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 10, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x0, y0 := slices.Clone(tt.x), slices.Clone(tt.y)
			r, err := ExceedanceTest(tt.x, tt.y, tt.q, Greater)
			if err != nil {
				t.Fatal(err)
			}
			if r.Threshold != tt.threshold || r.XAbove != tt.xa || r.YAbove != tt.ya {
				t.Errorf("split %g with %d and %d above, want %g with %d and %d", r.Threshold, r.XAbove, r.YAbove, tt.threshold, tt.xa, tt.ya)
			}
			if !slices.Equal(x0, tt.x) || !slices.Equal(y0, tt.y) {
				t.Error("inputs modified")
			}
			s, err := ExceedanceTest(tt.y, tt.x, tt.q, Less)
			if err != nil || s.Threshold != r.Threshold || !closeTo(s.PValue, r.PValue, 1e-12) {
				t.Errorf("swapped: %+v %v, want p %g", s, err, r.PValue)
			}
		})
	}
}

// Under the null hypothesis the p-value is exact: P(p <= a) <= a for every
// a. Random zero-inflated samples (values 0 and 1, three in four 0) check it
// with heavy ties, where approximate tests go wrong.
func TestExceedanceTestIsValid(t *testing.T) {
	const runs = 4000
	rng := rand.New(rand.NewPCG(7, 11))
	levels := []float64{0.01, 0.05, 0.1}
	for _, q := range []float64{0.5, 0.9} {
		rejects := make([]int, len(levels))
		for range runs {
			x, y := make([]float64, 15), make([]float64, 12)
			for i := range x {
				x[i] = float64(rng.IntN(4) / 3) // 0 with probability 3/4: zero-inflated
			}
			for i := range y {
				y[i] = float64(rng.IntN(4) / 3)
			}
			r, err := ExceedanceTest(x, y, q, Greater)
			if errors.Is(err, ErrAllTied) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range levels {
				if r.PValue <= a {
					rejects[i]++
				}
			}
		}
		for i, a := range levels {
			rate := float64(rejects[i]) / runs
			// 3 standard errors of a binomial rate at a.
			if rate > a+3*math.Sqrt(a*(1-a)/runs) {
				t.Errorf("q=%g: rejection rate %.4f at level %g over %d runs", q, rate, a, runs)
			}
		}
	}
}

func ExampleExceedanceTest() {
	// Seven canary values of 100 among 1s, against a baseline of 1s: the
	// Hodges-Lehmann shift is 0, but the upper tail is plainly heavier.
	canary := append(slices.Repeat([]float64{1}, 13), slices.Repeat([]float64{100}, 7)...)
	baseline := slices.Repeat([]float64{1}, 20)
	r, err := ExceedanceTest(canary, baseline, 0.9, Greater)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("above %g: canary %d of %d, baseline %d of %d, p = %.5f\n", r.Threshold, r.XAbove, r.N, r.YAbove, r.M, r.PValue)
	// Output:
	// above 1: canary 7 of 20, baseline 0 of 20, p = 0.00416
}

func ExampleFisherExact() {
	// 20 of 60 canary intervals had errors, 4 of 60 baseline intervals.
	p, err := FisherExact(20, 4, 40, 56, Greater)
	fmt.Printf("p = %.3g %v\n", p, err)
	// Output:
	// p = 0.000216 <nil>
}
