package stats

import "testing"

// seqBenchState returns a CountState after a few intervals of evidence.
func seqBenchState(b *testing.B, test CountTest) CountState {
	b.Helper()
	var s CountState
	for range 5 {
		var err error
		if s, err = test.Update(s, CountObservation{CanaryBad: 3, CanaryTotal: 60, BaselineBad: 5, BaselineTotal: 540}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkCountTestUpdate times one Update (one look) of each configuration.
func BenchmarkCountTestUpdate(b *testing.B) {
	cases := []struct {
		name string
		test CountTest
	}{
		{"increase", CountTest{Tolerance: 0.25, Alpha: 0.01}},
		{"either+futility", CountTest{Tolerance: 0.25, Alpha: 0.01, Direction: Either, FutilityAlpha: 0.05}},
	}
	obs := CountObservation{CanaryBad: 4, CanaryTotal: 61, BaselineBad: 6, BaselineTotal: 539}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := seqBenchState(b, c.test)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.test.Update(s, obs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCountTestDecide times EValue plus Decide on a stored state.
func BenchmarkCountTestDecide(b *testing.B) {
	test := CountTest{Tolerance: 0.25, Alpha: 0.01}
	s := seqBenchState(b, test)
	b.ReportAllocs()
	for b.Loop() {
		if test.Decide(s) == Accept || test.EValue(s) < 0 {
			b.Fatal("impossible")
		}
	}
}
