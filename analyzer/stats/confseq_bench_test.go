package stats

import (
	"strconv"
	"testing"
)

// BenchmarkMeanTestUpdate times one Update (one look) with n values a side.
func BenchmarkMeanTestUpdate(b *testing.B) {
	test := MeanTest{Tolerance: 0.1, Alpha: 0.05}
	for _, n := range []int{10, 1000} {
		canary, baseline := seqSeq(n, 120, 0.3), seqSeq(n, 100, 0.2)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, err := test.Update(MeanState{}, canary, baseline)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := test.Update(s, canary, baseline); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMeanTestBounds times Bounds plus Decide (the boundary solve).
func BenchmarkMeanTestBounds(b *testing.B) {
	test := MeanTest{Tolerance: 0.1, Alpha: 0.05, Direction: Either}
	s, err := test.Update(MeanState{}, seqSeq(100, 120, 0.3), seqSeq(100, 100, 0.2))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if test.Decide(s) == Accept {
			b.Fatal("impossible")
		}
	}
}
