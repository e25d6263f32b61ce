package simulate

import (
	"math"
	"testing"
)

// TestWilson compares Wilson with R 4.2:
//
//	prop.test(k, n, correct = FALSE)$conf.int
//
// (the first four are Newcombe's 1998 examples, method 3).
func TestWilson(t *testing.T) {
	tests := []struct {
		name         string
		k, n         int
		lower, upper float64
	}{
		{"81 of 263", 81, 263, 0.2552885199, 0.3662095770},
		{"15 of 148", 15, 148, 0.0623863995, 0.1604872417},
		{"none of 20", 0, 20, 0, 0.1611251581},
		{"1 of 29", 1, 29, 0.0061132143, 0.1717552188},
		{"10 of 1000", 10, 1000, 0.0054407544, 0.0183094689},
		{"none of 1000", 0, 1000, 0, 0.0038267585},
		{"all of 1000", 1000, 1000, 0.9961732415, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.k, tt.n, z95)
			if math.Abs(lo-tt.lower) > 1e-9 || math.Abs(hi-tt.upper) > 1e-9 {
				t.Errorf("case %d: Wilson(%d, %d) = [%.10f, %.10f], R gives [%.10f, %.10f]", i, tt.k, tt.n, lo, hi, tt.lower, tt.upper)
			}
			r := NewRate(tt.k, tt.n)
			if r.Value != float64(tt.k)/float64(tt.n) || r.Lower != lo || r.Upper != hi || r.Count != tt.k || r.Runs != tt.n {
				t.Errorf("case %d: NewRate = %+v", i, r)
			}
		})
	}
}

func TestWilsonBadInput(t *testing.T) {
	tests := []struct {
		name string
		k, n int
		z    float64
	}{
		{"no trials", 0, 0, z95},
		{"negative count", -1, 10, z95},
		{"more successes than trials", 11, 10, z95},
		{"zero z", 1, 10, 0},
		{"NaN z", 1, 10, math.NaN()},
		{"infinite z", 1, 10, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lo, hi := Wilson(tt.k, tt.n, tt.z); !math.IsNaN(lo) || !math.IsNaN(hi) {
				t.Errorf("Wilson(%d, %d, %v) = [%v, %v], want NaN", tt.k, tt.n, tt.z, lo, hi)
			}
		})
	}
}
