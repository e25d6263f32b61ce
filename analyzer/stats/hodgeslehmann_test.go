package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// allDiffs forms and sorts every difference x_i - y_j: the O(nm) reference
// that pairDiffs.kth must agree with bit for bit.
func allDiffs(x, y []float64) []float64 {
	d := make([]float64, 0, len(x)*len(y))
	for _, a := range x {
		for _, b := range y {
			d = append(d, a-b)
		}
	}
	slices.Sort(d)
	return d
}

func TestPairDiffsKthMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, f func() float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = f()
		}
		return v
	}
	normal := func() float64 { return rng.NormFloat64() }
	tied := func() float64 { return float64(rng.IntN(4)) }
	skewed := func() float64 { return math.Exp(3 * rng.NormFloat64()) }
	zeroInflated := func() float64 {
		if rng.Float64() < 0.8 {
			return 0
		}
		return rng.ExpFloat64()
	}
	tests := []struct {
		name string
		x, y []float64
		all  bool // check every k, else a spread of k
	}{
		{name: "1x1", x: []float64{2}, y: []float64{5}, all: true},
		{name: "1xm", x: []float64{0.5}, y: gen(9, normal), all: true},
		{name: "nx1", x: gen(11, normal), y: []float64{0.25}, all: true},
		{name: "normal 13x17", x: gen(13, normal), y: gen(17, normal), all: true},
		{name: "tied 20x25", x: gen(20, tied), y: gen(25, tied), all: true},
		{name: "constant", x: []float64{3, 3, 3}, y: []float64{1, 1}, all: true},
		{name: "skewed 300x200", x: gen(300, skewed), y: gen(200, skewed)},
		{name: "zero-inflated 400x500", x: gen(400, zeroInflated), y: gen(500, zeroInflated)},
		{name: "unbalanced 2000x3", x: gen(2000, normal), y: gen(3, normal)},
		{name: "rounding collapses differences", x: []float64{1e16, 1e16 + 2, 1e16 + 4}, y: []float64{0.5, 1, 1.5}, all: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := allDiffs(tt.x, tt.y)
			xs, ys := slices.Sorted(slices.Values(tt.x)), slices.Sorted(slices.Values(tt.y))
			d := newPairDiffs(xs, ys)
			ks := []int{1, 2, len(want) / 3, len(want) / 2, len(want)/2 + 1, len(want) - 1, len(want)}
			if tt.all {
				ks = ks[:0]
				for k := 1; k <= len(want); k++ {
					ks = append(ks, k)
				}
			}
			for _, k := range ks {
				if k < 1 {
					continue
				}
				if got := d.kth(int64(k)); got != want[k-1] {
					t.Errorf("kth(%d) = %.17g, sorted differences give %.17g", k, got, want[k-1])
				}
			}
			h := len(want) / 2
			wantMedian := want[h]
			if len(want)%2 == 0 {
				wantMedian = (want[h-1] + want[h]) / 2
			}
			if got := d.median(); got != wantMedian {
				t.Errorf("median = %.17g, sorted differences give %.17g", got, wantMedian)
			}
		})
	}
}

func TestHodgesLehmann(t *testing.T) {
	tests := []struct {
		name    string
		x, y    []float64
		want    float64
		wantErr error
	}{
		{name: "pure shift", x: []float64{11, 12, 13, 14}, y: []float64{1, 2, 3, 4}, want: 10},
		{name: "odd count", x: []float64{1, 2, 4}, y: []float64{0}, want: 2},
		{name: "even count averages the middle pair", x: []float64{1, 4}, y: []float64{0}, want: 2.5},
		{name: "outlier does not move it", x: []float64{1, 2, 3, 1e6}, y: []float64{1, 2, 3}, want: 0.5},
		{name: "empty x", x: nil, y: []float64{1}, wantErr: ErrEmptySample},
		{name: "empty y", x: []float64{1}, y: nil, wantErr: ErrEmptySample},
		{name: "NaN", x: []float64{math.NaN()}, y: []float64{1}, wantErr: ErrNonFinite},
		{name: "Inf", x: []float64{1}, y: []float64{math.Inf(-1)}, wantErr: ErrNonFinite},
		{name: "overflow", x: []float64{math.MaxFloat64}, y: []float64{-math.MaxFloat64}, wantErr: ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HodgesLehmann(tt.x, tt.y)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("HodgesLehmann = %g, want %g", got, tt.want)
			}
		})
	}
}
