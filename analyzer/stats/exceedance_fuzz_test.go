package stats

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// FuzzExceedanceTest checks, on tie-heavy samples, that the test never
// panics, that the split never cuts a tie, that the counts are right, and
// that the p-value is a probability matching FisherExact's.
func FuzzExceedanceTest(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint8(3), uint8(0), 0.5)
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 9, 0}, uint8(5), uint8(2), 0.9)
	f.Add([]byte{7, 7, 7, 7, 7}, uint8(2), uint8(1), 0.1)
	f.Add([]byte{1, 1, 1, 1, 100, 100, 1, 1, 1, 1}, uint8(5), uint8(2), 0.9)
	f.Fuzz(func(t *testing.T, data []byte, split, altByte uint8, q float64) {
		x, y := fuzzSamples(data, split, 1)
		alt := Alternative(altByte % 3)
		res, err := ExceedanceTest(x, y, q, alt)
		switch {
		case !(q > 0 && q < 1):
			if !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("q %v: error %v, want ErrInvalidOption", q, err)
			}
			return
		case len(x) == 0 || len(y) == 0:
			if !errors.Is(err, ErrEmptySample) {
				t.Fatalf("empty sample: error %v", err)
			}
			return
		case errors.Is(err, ErrAllTied):
			if pooled := slices.Concat(x, y); slices.Min(pooled) != slices.Max(pooled) {
				t.Fatalf("ErrAllTied for x=%v y=%v", x, y)
			}
			return
		case err != nil:
			t.Fatalf("x=%v y=%v: %v", x, y, err)
		}
		xa, ya, atOrBelow := 0, 0, 0
		for _, v := range x {
			if v > res.Threshold {
				xa++
			}
		}
		for _, v := range y {
			if v > res.Threshold {
				ya++
			}
		}
		for _, v := range slices.Concat(x, y) {
			if v <= res.Threshold {
				atOrBelow++
			}
		}
		if xa != res.XAbove || ya != res.YAbove || xa+ya == len(x)+len(y) || atOrBelow == 0 {
			t.Fatalf("split %v: counts %d, %d; recount %d, %d (%d at or below)", res.Threshold, res.XAbove, res.YAbove, xa, ya, atOrBelow)
		}
		if res.Level != float64(atOrBelow)/float64(len(x)+len(y)) {
			t.Fatalf("level %v, recount %d of %d", res.Level, atOrBelow, len(x)+len(y))
		}
		p, err := FisherExact(int64(xa), int64(ya), int64(len(x)-xa), int64(len(y)-ya), alt)
		if err != nil || p != res.PValue || !(p >= 0 && p <= 1) || math.IsNaN(p) {
			t.Fatalf("p %v, FisherExact %v (%v)", res.PValue, p, err)
		}
	})
}
