package stats_test

import (
	"errors"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// A canary's request latencies (ms) against the baseline's: is the canary
// slower? Greater tests whether canary - baseline is positive. Both samples
// are small and untied, so the p-value and interval are exact.
func ExampleMannWhitney() {
	canary := []float64{212, 230, 198, 251, 240, 226, 219, 262}
	baseline := []float64{205, 199, 214, 190, 208, 221, 202, 196, 211}
	res, err := stats.MannWhitney(canary, baseline, stats.Greater, 0.95)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("W = %g, p = %.4f, exact = %v\n", res.W, res.PValue, res.Exact)
	fmt.Printf("shift %.1f ms, 95%% CI [%.1f, %v)\n", res.Estimate, res.Lower, res.Upper)
	// Output:
	// W = 62, p = 0.0056, exact = true
	// shift 23.5 ms, 95% CI [9.0, +Inf)
}

// Error counts per interval are mostly zero. Ties force the normal
// approximation, whose estimate is R's root of the rank statistic as a
// function of the shift: it is only resolved to TolRoot (1e-4), so the true
// median shift of 0 comes out as 7.2e-05, exactly as in R.
func ExampleMannWhitney_zeroInflated() {
	canary := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 14, 0, 11, 0}
	baseline := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}
	res, err := stats.MannWhitney(canary, baseline, stats.Greater, 0.95)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("W = %g, p = %.4f, exact = %v, estimate %.2g\n", res.W, res.PValue, res.Exact, res.Estimate)
	// Output:
	// W = 221.5, p = 0.1376, exact = false, estimate 7.2e-05
}

// Two constant samples leave nothing to rank: R stops, and so do we.
func ExampleMannWhitney_allTied() {
	_, err := stats.MannWhitney([]float64{0, 0, 0}, []float64{0, 0}, stats.TwoSided, 0.95)
	fmt.Println(errors.Is(err, stats.ErrAllTied))
	// Output:
	// true
}

func ExampleHodgesLehmann() {
	canary := []float64{212, 230, 198, 251, 240, 226, 219, 262}
	baseline := []float64{205, 199, 214, 190, 208, 221, 202, 196, 211}
	shift, err := stats.HodgesLehmann(canary, baseline)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("canary is %.1f ms slower\n", shift)
	// Output:
	// canary is 23.5 ms slower
}
