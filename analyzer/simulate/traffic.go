package simulate

import (
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// versionData is what one version served in one interval.
type versionData struct {
	requests, errors, slow float64
	// buckets are the latency histogram's counts per bucket of
	// istioBuckets, non-cumulative, +Inf last.
	buckets []float64
	// stepRequests, stepErrors and stepSlow are per sub-step, for per-step samples.
	stepRequests, stepErrors, stepSlow []float64
}

// intervalData is one interval of traffic at one canary weight.
type intervalData struct {
	weight           int
	canary, baseline versionData
}

// latencyModel is one version's latency as the generator draws it: the
// share of requests slower than the SLO, and the bucket probabilities
// given fast (<= SLO) and given slow (> SLO).
type latencyModel struct {
	pSlow      float64
	fast, slow []float64
}

func newLatencyModel(b Behaviour, bounds []float64, slo float64) latencyModel {
	probs := bucketProbabilities(b, bounds)
	m := latencyModel{pSlow: 1 - latencyCDF(b, slo), fast: make([]float64, len(probs)), slow: make([]float64, len(probs))}
	for i, p := range probs {
		if i < len(bounds) && bounds[i] <= slo {
			m.fast[i] = p
		} else {
			m.slow[i] = p
		}
	}
	return m
}

// generator draws intervals of traffic for one scenario from one stream.
// It is not safe for concurrent use; each run has its own.
type generator struct {
	s                      *Scenario
	rng                    *rand.Rand
	bounds                 []float64
	canaryLat, baselineLat latencyModel
	// noise is the production model's state; nil for the plain model, which
	// then draws nothing more (its streams stay as they were).
	noise *noise
}

func newGenerator(s *Scenario, rng *rand.Rand) *generator {
	bounds := istioBuckets()
	g := &generator{s: s, rng: rng, bounds: bounds,
		canaryLat: newLatencyModel(s.Canary, bounds, s.SLO), baselineLat: newLatencyModel(s.Baseline, bounds, s.SLO)}
	if s.Production != (Production{}) {
		g.noise = g.newNoise()
	}
	return g
}

// subStep is the length of one sub-step.
func (g *generator) subStep() time.Duration { return g.s.Interval / time.Duration(g.s.SubSteps) }

// interval draws one interval with the canary at weight percent.
func (g *generator) interval(weight int) intervalData {
	perStep := g.s.Rate * g.s.Interval.Seconds() / float64(g.s.SubSteps)
	w := float64(weight) / 100
	if g.noise == nil {
		return intervalData{weight: weight,
			canary:   g.version(g.s.Canary, g.canaryLat, perStep*w, nil),
			baseline: g.version(g.s.Baseline, g.baselineLat, perStep*(1-w), nil),
		}
	}
	perStep *= g.noise.rateFactor(g.s.Interval)
	g.drawNoise(w)
	canary, baseline := g.s.Canary, g.s.Baseline
	canary.ErrorRate = min(1, canary.ErrorRate*g.noise.canaryMult)
	baseline.ErrorRate = min(1, baseline.ErrorRate*g.noise.baseMult)
	return intervalData{weight: weight,
		canary:   g.version(canary, g.canaryLat, perStep*w, g.noise.canaryBurst),
		baseline: g.version(baseline, g.baselineLat, perStep*(1-w), g.noise.baseBurst),
	}
}

// version draws one version's interval: per sub-step Poisson requests and,
// independently per request, binomial errors and slow requests; then the
// histogram, a multinomial of the fast requests over the buckets up to the
// SLO and of the slow ones over the buckets above it, so that the
// histogram's count above the SLO is exactly the slow count.
//
// burst, when not nil, adds failing requests per sub-step (pinned failing
// clients): they count as requests and errors, with the version's latency.
func (g *generator) version(b Behaviour, lat latencyModel, perStep float64, burst []float64) versionData {
	k := g.s.SubSteps
	v := versionData{stepRequests: make([]float64, k), stepErrors: make([]float64, k), stepSlow: make([]float64, k)}
	for i := range k {
		n := g.poisson(perStep)
		v.stepRequests[i], v.stepErrors[i] = n, g.binomial(n, b.ErrorRate)
		if burst != nil && burst[i] > 0 {
			n += burst[i]
			v.stepRequests[i] = n
			v.stepErrors[i] += burst[i]
		}
		v.stepSlow[i] = g.binomial(n, lat.pSlow)
		v.requests += n
		v.errors += v.stepErrors[i]
		v.slow += v.stepSlow[i]
	}
	fast, slow := g.multinomial(v.requests-v.slow, lat.fast), g.multinomial(v.slow, lat.slow)
	v.buckets = make([]float64, len(fast))
	for i := range fast {
		v.buckets[i] = fast[i] + slow[i]
	}
	return v
}
func (g *generator) poisson(lambda float64) float64 {
	if !(lambda > 0) {
		return 0
	}
	return distuv.Poisson{Lambda: lambda, Src: g.rng}.Rand()
}

func (g *generator) binomial(n, p float64) float64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	}
	return distuv.Binomial{N: n, P: p, Src: g.rng}.Rand()
}

// multinomial splits n events over cells with weights probs (which need
// not sum to 1; zero cells get nothing) by conditional binomials: cell i
// gets Binomial(left, p_i / (p_i + ... + p_last)).
func (g *generator) multinomial(n float64, probs []float64) []float64 {
	out := make([]float64, len(probs))
	rest, last := 0.0, -1
	for i, p := range probs {
		if p > 0 {
			rest += p
			last = i
		}
	}
	left := n
	for i, p := range probs {
		if left <= 0 || last < 0 {
			break
		}
		if i == last { // rounding must not leave events for the empty cells after it
			out[i] = left
			break
		}
		if p <= 0 {
			continue
		}
		k := g.binomial(left, p/rest)
		out[i] = k
		left -= k
		rest -= p
	}
	return out
}
