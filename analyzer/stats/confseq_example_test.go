package stats_test

import (
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// Latency samples (ms) per interval; the canary is clearly slower.
func ExampleMeanTest() {
	test := stats.MeanTest{Tolerance: 0.1, Alpha: 0.05, Direction: stats.Increase, MinSamples: 5}
	canary := [][]float64{{130, 150, 141}, {138, 160, 149, 135}, {150, 142, 155}}
	baseline := [][]float64{{101, 99, 104, 98, 97}, {100, 103, 96, 102}, {99, 98, 101, 104}}
	var s stats.MeanState
	for i := range canary {
		var err error
		if s, err = test.Update(s, canary[i], baseline[i]); err != nil {
			fmt.Println(err)
			return
		}
		lower, upper := test.Bounds(s)
		fmt.Printf("look %d: canary %.1f baseline %.1f, mean_c - 1.1*mean_b >= %.1f (upper %v) -> %v\n",
			i+1, s.Canary.Mean, s.Baseline.Mean, lower, upper, test.Decide(s))
	}
	// Output:
	// look 1: canary 140.3 baseline 99.8, mean_c - 1.1*mean_b >= -Inf (upper +Inf) -> continue
	// look 2: canary 143.3 baseline 100.0, mean_c - 1.1*mean_b >= -4.3 (upper +Inf) -> continue
	// look 3: canary 145.0 baseline 100.2, mean_c - 1.1*mean_b >= 10.5 (upper +Inf) -> reject
}
