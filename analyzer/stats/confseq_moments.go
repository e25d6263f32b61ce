package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Moments are the running sample moments of one version's values: the
// sufficient statistics of MeanTest. The zero value is the empty sample.
type Moments struct {
	// N is the number of values, >= 0.
	N int `json:"n,omitempty" yaml:"n,omitempty"`
	// Mean is their mean, in the metric's unit; 0 when N is 0.
	Mean float64 `json:"mean,omitempty" yaml:"mean,omitempty"`
	// M2 is the sum of squared deviations from Mean, in the unit squared.
	M2 float64 `json:"m2,omitempty" yaml:"m2,omitempty"`
}

// Variance returns the unbiased sample variance M2/(N-1), or NaN when N < 2.
func (m Moments) Variance() float64 {
	if m.N < 2 {
		return math.NaN()
	}
	return m.M2 / float64(m.N-1)
}

// add returns the moments of m's values together with xs. The batch's
// moments come from gonum (two-pass, compensated); the merge is the pairwise
// update of Chan, Golub & LeVeque (1979), hand-written because gonum keeps no
// running moments:
//
//	n = n_a + n_b,  delta = mean_b - mean_a
//	mean = mean_a + delta*n_b/n
//	M2 = M2_a + M2_b + delta^2 * n_a*n_b/n
func (m Moments) add(xs []float64) Moments {
	if len(xs) == 0 {
		return m
	}
	mean, popVar := stat.PopMeanVariance(xs, nil)
	nb := float64(len(xs))
	m2b := popVar * nb
	if m.N == 0 {
		return Moments{N: len(xs), Mean: mean, M2: m2b}
	}
	na := float64(m.N)
	n := na + nb
	delta := mean - m.Mean
	return Moments{
		N:    m.N + len(xs),
		Mean: m.Mean + delta*nb/n,
		M2:   m.M2 + m2b + delta*delta*na*nb/n,
	}
}

// valid reports whether m could have come from add.
func (m Moments) valid() bool {
	return m.N >= 0 && seqFinite(m.Mean, m.M2) && m.M2 >= 0 && (m.N > 0 || (m.Mean == 0 && m.M2 == 0))
}
