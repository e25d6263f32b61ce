package stats

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// The mixing distribution of CountTest's e-processes: a half-normal prior on
// the log rate ratio away from the null boundary, u = |log(d/d0)|, put on a
// geometric grid so that the state is one accumulated log-likelihood ratio per
// grid point.
//
//	u_k = gridMinU * (gridMaxU/gridMinU)^(k/(gridSize-1)),   k = 0..gridSize-1
//	cell edges: c_0 = 0, c_k = sqrt(u_(k-1) * u_k), c_gridSize = +Inf
//	w_k = P(c_k <= U < c_(k+1)) for U ~ HalfNormal(priorScale)
//	    = erfc(c_k / (priorScale*sqrt2)) - erfc(c_(k+1) / (priorScale*sqrt2))
//
// The weights sum to 1 (the whole half-normal mass is moved to the grid
// points), so the mixture of likelihood ratios is itself an e-process: the
// discretisation changes power, never validity. The grid spans rate ratios
// from 1% beyond the tolerance (e^0.01) to about 1100 times it (e^7), which
// covers a 0.1% baseline against a canary failing every request.
const (
	gridSize   = 32
	gridMinU   = 0.01
	gridMaxU   = 7.0
	priorScale = 2.5
)

// mixtureGrid holds the grid points u_k and the log prior weights log(w_k).
type mixtureGrid struct {
	u    [gridSize]float64
	expU [gridSize]float64 // exp(u_k), so that an update needs no Exp
	logW [gridSize]float64
}

// countGrid is computed once and never changed afterwards: it is a constant
// table that Go cannot express as a const.
var countGrid = sync.OnceValue(newMixtureGrid)

func newMixtureGrid() mixtureGrid {
	var g mixtureGrid
	ratio := math.Pow(gridMaxU/gridMinU, 1/float64(gridSize-1))
	for k := range g.u {
		g.u[k] = gridMinU * math.Pow(ratio, float64(k))
		g.expU[k] = math.Exp(g.u[k])
	}
	g.logW = g.halfNormalLogWeights(priorScale)
	return g
}

// halfNormalLogWeights returns log(w_k) for the half-normal of the given
// scale moved onto the grid (see the comment at the top of the file).
func (g *mixtureGrid) halfNormalLogWeights(scale float64) [gridSize]float64 {
	var w [gridSize]float64
	scale *= math.Sqrt2
	lowerTail := 1.0 // erfc(c_0/scale) with c_0 = 0
	for k := range g.u {
		upperTail := 0.0 // erfc(+Inf)
		if k+1 < gridSize {
			upperTail = math.Erfc(math.Sqrt(g.u[k]*g.u[k+1]) / scale)
		}
		w[k] = math.Log(lowerTail - upperTail)
		lowerTail = upperTail
	}
	return w
}

// Tolerance-tuned prior (CountTest.TunedPrior), after the mixture tuning of
// Johari, Koomen, Pekelis & Walsh (2017, "Peeking at A/B tests", the mSPRT
// whose mixing distribution is matched to the effects that matter):
// tunedWeight of the mass on a normal of mean c = max(|log d0|, tunedMinScale)
// and sd c/2, truncated to u > 0, and the rest on the wide half-normal
// (priorScale). The tolerance sets the scale of the regressions worth
// catching: a canary as far beyond the tolerance as the tolerance is from no
// change (d = d0^2 for Increase, the futility test's alternative) gets most
// of the prior, while the wide part keeps a canary failing every request
// caught at once (it costs log(1/(1-tunedWeight)) of evidence there). A
// mixture of priors is a prior: validity is untouched, only power moves.
// Measured on the simulator's bank (docs/simulation.md): at 1.5x errors with
// a 25% tolerance, 0.75 on a normal of sd c/2 caught more than the old half
// on a half-normal of scale c, and more of the 2x regressions than 0.9 on a
// narrower normal.
const (
	tunedMinScale = 0.1
	tunedWeight   = 0.75
)

// tunedLogWeights returns the log prior weights of the tuned mixture for a
// null boundary d0.
func (g *mixtureGrid) tunedLogWeights(d0 float64) [gridSize]float64 {
	c := math.Max(math.Abs(math.Log(d0)), tunedMinScale)
	narrow := g.normalLogWeights(c, c/2)
	var w [gridSize]float64
	for k := range w {
		w[k] = math.Log(tunedWeight*math.Exp(narrow[k]) + (1-tunedWeight)*math.Exp(g.logW[k]))
	}
	return w
}

// normalLogWeights returns log(w_k) for a normal of mean m and sd s,
// truncated to u > 0, moved onto the grid's cells as the half-normal is.
func (g *mixtureGrid) normalLogWeights(m, s float64) [gridSize]float64 {
	var w [gridSize]float64
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-m)/(s*math.Sqrt2)) }
	total := 1 - cdf(0)
	lo := cdf(0)
	for k := range g.u {
		hi := 1.0
		if k+1 < gridSize {
			hi = cdf(math.Sqrt(g.u[k] * g.u[k+1]))
		}
		w[k] = math.Log(math.Max(hi-lo, 1e-300) / total)
		lo = hi
	}
	return w
}

// logMixture returns log(sum_k w_k * exp(llr_k)) with w_k = exp(logW[k]),
// the log e-value of one e-process; an empty llr (a process not started
// yet) has e-value 1.
func (g *mixtureGrid) logMixture(logW *[gridSize]float64, llr []float64) float64 {
	if len(llr) == 0 {
		return 0
	}
	var terms [gridSize]float64
	for k := range terms {
		terms[k] = logW[k] + llr[k]
	}
	return floats.LogSumExp(terms[:])
}

// addInterval adds one interval's log-likelihood ratios to llr for the
// e-process with reference ratio ref and alternatives d_k = ref*exp(sign*u_k):
//
//	llr_k += sign*eC*u_k - eTotal*(log1p(d_k*rho) - log1p(ref*rho))
//
// which is log Binom(eC; eTotal, p(d_k)) - log Binom(eC; eTotal, p(ref)) with
// p(d) = d*rho/(d*rho + 1) and rho = canary requests / baseline requests.
// For rho > 1 the difference of log1p terms is computed as
// log(d + 1/rho) - log(ref + 1/rho), which stays finite as rho -> +Inf.
//
// Each term is multiplied by scale, in (0, 1]: the dispersion discount
// 1/phi of the interval (1 for independent events).
func (g *mixtureGrid) addInterval(llr []float64, ref, sign, eC, eTotal, rho, scale float64) {
	large := rho > 1
	inv := 1 / rho
	base := math.Log1p(ref * rho)
	if large {
		base = math.Log(ref + inv)
	}
	for k, u := range g.u {
		d := ref * g.expU[k]
		if sign < 0 {
			d = ref / g.expU[k]
		}
		var logRatio float64 // log((1 + d*rho) / (1 + ref*rho))
		if large {
			logRatio = math.Log(d+inv) - base
		} else {
			logRatio = math.Log1p(d*rho) - base
		}
		llr[k] += scale * (sign*eC*u - eTotal*logRatio)
	}
}
