package judge

import (
	"fmt"
	"math"
	"slices"
)

// SampleSummary describes one version's samples as the mannwhitney judge
// saw them, after the NaN strategy and outlier removal.
type SampleSummary struct {
	// N is the number of samples judged.
	N int
	// Mean and Median of the samples judged; NaN when N is 0.
	Mean, Median float64
	// NaN counts the NaN samples removed or replaced by 0.
	NaN int
	// Outliers counts the samples removed as outliers.
	Outliers int
}

// prepare applies the NaN strategy and the outlier removal of c to v and
// returns the samples sorted ascending (a new slice) with their summary. A
// ±Inf sample is an error: it is no measurement a test can rank honestly.
func prepare(v []float64, c mwConfig, side string) ([]float64, SampleSummary, error) {
	var sum SampleSummary
	out := make([]float64, 0, len(v))
	for i, x := range v {
		switch {
		case math.IsNaN(x):
			sum.NaN++
			if c.NaNStrategy == NaNReplace {
				out = append(out, 0)
			}
		case math.IsInf(x, 0):
			return nil, sum, fmt.Errorf("%s sample %d is %v: not a finite number", side, i+1, x)
		default:
			out = append(out, x)
		}
	}
	slices.Sort(out)
	if c.Outliers == OutliersRemove {
		kept := dropOutliers(out, c.outlierFactor)
		sum.Outliers = len(out) - len(kept)
		out = kept
	}
	sum.N = len(out)
	sum.Mean, sum.Median = mean(out), quantile7(out, 0.5)
	return out, sum, nil
}

// dropOutliers keeps the sorted values within [Q1 - k·IQR, Q3 + k·IQR]
// (Tukey's fences; quartiles of R's default type 7). With an IQR of 0 it
// keeps everything: fences at the quartiles would drop every value but the
// mode, and in zero-inflated data that is every error.
func dropOutliers(sorted []float64, k float64) []float64 {
	q1, q3 := quantile7(sorted, 0.25), quantile7(sorted, 0.75)
	iqr := q3 - q1
	if !(iqr > 0) {
		return sorted
	}
	lo, hi := q1-k*iqr, q3+k*iqr
	i, _ := slices.BinarySearch(sorted, lo) // first >= lo
	j := len(sorted)
	for j > i && sorted[j-1] > hi {
		j--
	}
	return sorted[i:j]
}

// quantile7 is R's quantile(x, p, type = 7) of sorted x; NaN when empty.
func quantile7(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// mean is the arithmetic mean, summed in order with Kahan's compensation
// (a million samples lose no digits); values so large that the sum
// overflows are summed divided by n instead. NaN when empty.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	n := float64(len(v))
	if m := kahanSum(v, 1) / n; !math.IsInf(m, 0) && !math.IsNaN(m) { // overflow makes Kahan NaN
		return m
	}
	return kahanSum(v, n)
}

// kahanSum returns Σ v_i/div with compensated summation.
func kahanSum(v []float64, div float64) float64 {
	var s, comp float64
	for _, x := range v {
		y := x/div - comp
		t := s + y
		comp = (t - s) - y
		s = t
	}
	return s
}

// meanRatio is Kayenta's effect size: the canary's mean over the
// baseline's; 1 when both are 0, NaN when only the baseline's is.
func meanRatio(canary, baseline float64) float64 {
	switch {
	case canary == 0 && baseline == 0:
		return 1
	case baseline == 0:
		return math.NaN()
	}
	return canary / baseline
}
