package stats_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
	"go.yaml.in/yaml/v3"
)

// The seed's buggy aleph: at 1% canary weight (10 requests/s in total) half
// of the canary's requests fail; the baseline fails 0.1%. A look after every
// 1-minute interval; the state is all that is kept between looks.
func ExampleCountTest() {
	test := stats.CountTest{Tolerance: 0.25, Alpha: 0.01, Direction: stats.Increase}
	intervals := []stats.CountObservation{
		{CanaryBad: 1, CanaryTotal: 6, BaselineBad: 1, BaselineTotal: 594},
		{CanaryBad: 3, CanaryTotal: 5, BaselineBad: 0, BaselineTotal: 597},
	}
	var s stats.CountState // zero value: no evidence yet
	for i, obs := range intervals {
		var err error
		if s, err = test.Update(s, obs); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("interval %d: e=%.3g (needs %.0f) -> %v\n", i+1, test.EValue(s), 1/test.Alpha, test.Decide(s))
	}
	// Output:
	// interval 1: e=7.23 (needs 100) -> continue
	// interval 2: e=3.76e+05 (needs 100) -> reject
}

// A counter reset (negative increase) is skipped, never evidence; the
// returned state counts the skip and is the one to store.
func ExampleCountTest_Update_skipped() {
	test := stats.CountTest{Tolerance: 0.25, Alpha: 0.01}
	s, err := test.Update(stats.CountState{}, stats.CountObservation{CanaryBad: -40, CanaryTotal: -900, BaselineBad: 1, BaselineTotal: 800})
	fmt.Println(errors.Is(err, stats.ErrSkipped), s.Skipped, test.EValue(s))
	// Output:
	// true 1 1
}

// The state lives in the YAML status file in Git: 32 numbers per e-process
// on one line, plus totals for the report and the dispersion estimate's sums.
func ExampleCountState() {
	test := stats.CountTest{Tolerance: 0.25, Alpha: 0.01}
	s, _ := test.Update(stats.CountState{}, stats.CountObservation{CanaryBad: 3, CanaryTotal: 60, BaselineBad: 2, BaselineTotal: 540})
	b, _ := yaml.Marshal(s)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if len(line) > 40 {
			line = line[:12] + " ..." // the 32 ratios, in full precision
		}
		fmt.Println(line)
	}
	// Output:
	// tolerance: 0.25
	// intervals: 1
	// canaryBad: 3
	// canaryTotal: 60
	// baselineBad: 2
	// baselineTotal: 540
	// up: [0.02387 ...
	// mhNum: 2.7
	// mhDen: 0.2
	// informative: 1
}
