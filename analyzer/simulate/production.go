package simulate

import (
	"fmt"
	"math"
	"time"
)

// Production describes how a scenario's traffic departs from independent,
// identically distributed requests, the way production traffic does. The
// zero value is the plain model of the package comment. Every part may be
// combined with the others.
type Production struct {
	// RateSpread is the log-scale standard deviation of a per-interval
	// multiplier of each version's error rate (log-normal with mean 1):
	// extra-binomial variation from interval to interval.
	RateSpread float64 `json:"rateSpread,omitempty"`
	// SharedSpread makes that multiplier the same for both versions (a
	// dependency's blip); otherwise each version draws its own.
	SharedSpread bool `json:"sharedSpread,omitempty"`
	// CanaryPods and BaselinePods split each version's requests evenly
	// over that many pods (zero means one); each pod has its own error
	// rate, the version's times a log-normal multiplier with mean 1 drawn
	// once per rollout (PodSpread) and again every interval
	// (PodIntervalSpread).
	CanaryPods        int     `json:"canaryPods,omitempty"`
	BaselinePods      int     `json:"baselinePods,omitempty"`
	PodSpread         float64 `json:"podSpread,omitempty"`
	PodIntervalSpread float64 `json:"podIntervalSpread,omitempty"`
	// FailingClients are clients whose requests all fail whatever version
	// serves them, pinned to one version (sticky sessions): a client with
	// a uniform draw u (once per rollout) is served by the canary while the
	// canary's weight exceeds 100u percent. In each interval a client is
	// active with probability ClientActive and then sends a burst of
	// Poisson(ClientRate * interval) requests within one sub-step.
	FailingClients int     `json:"failingClients,omitempty"`
	ClientRate     float64 `json:"clientRate,omitempty"`
	ClientActive   float64 `json:"clientActive,omitempty"`
	// SessionLength, when set, re-draws every client's u at that period
	// (a multiple of the interval): sessions end and clients are pinned
	// anew; zero pins them for the whole rollout.
	SessionLength time.Duration `json:"sessionLength,omitempty"`
	// DiurnalAmplitude, in [0, 1), and DiurnalPeriod make the request rate
	// Rate * (1 + A sin(2 pi t / P + phase)), with the phase drawn once per
	// rollout; zero amplitude is a constant rate.
	DiurnalAmplitude float64       `json:"diurnalAmplitude,omitempty"`
	DiurnalPeriod    time.Duration `json:"diurnalPeriod,omitempty"`
	// Scrape, when set, reads counts as Prometheus does: counters sampled
	// every Scrape (phase drawn once per rollout), each window's count the
	// difference of the counter between the last samples at or before the
	// window's start and end (exact events, shifted to scrape times).
	Scrape time.Duration `json:"scrape,omitempty"`
	// Extrapolate makes a Scrape window's count PromQL's increase() over
	// the window instead: the samples inside it, extrapolated to its
	// edges, as functions/core read counts before raw differences.
	Extrapolate bool `json:"extrapolate,omitempty"`
}

// validate checks p against the scenario's interval and sub-steps.
func (p *Production) validate(interval time.Duration, subSteps int) error {
	switch {
	case !(p.RateSpread >= 0) || !(p.PodSpread >= 0) || !(p.PodIntervalSpread >= 0):
		return fmt.Errorf("spreads must be >= 0")
	case p.CanaryPods < 0 || p.BaselinePods < 0 || p.FailingClients < 0 || p.CanaryPods > 1000 || p.BaselinePods > 1000:
		return fmt.Errorf("pods and clients must be in [0, 1000]")
	case !(p.ClientRate >= 0) || !(p.ClientActive >= 0 && p.ClientActive <= 1):
		return fmt.Errorf("client rate must be >= 0 and activity in [0, 1]")
	case !(p.DiurnalAmplitude >= 0 && p.DiurnalAmplitude < 1) || (p.DiurnalAmplitude > 0 && p.DiurnalPeriod <= 0):
		return fmt.Errorf("diurnal amplitude must be in [0, 1) with a period")
	case p.Scrape < 0 || (p.Scrape > 0 && p.Scrape%(interval/time.Duration(subSteps)) != 0):
		return fmt.Errorf("scrape %s must be a multiple of the sub-step %s", p.Scrape, interval/time.Duration(subSteps))
	}
	return nil
}

// logNormalMean1 returns exp(sigma*z - sigma^2/2): a log-normal multiplier
// with mean 1 for a standard normal z.
func logNormalMean1(sigma, z float64) float64 {
	return math.Exp(sigma*z - sigma*sigma/2)
}

// noise is one rollout's draws of the production model: fixed per rollout
// (pods, clients, phases) and the interval counter for the diurnal cycle.
type noise struct {
	p                      *Production
	canaryPods, basePods   []float64 // persistent multipliers per pod
	clients                []float64 // each failing client's uniform draw
	diurnalPhase           float64
	scrapePhase            int // sub-steps from the origin to the first scrape
	tick                   int
	canaryMult, baseMult   float64 // this interval's error-rate multipliers
	canaryBurst, baseBurst []float64
}

func (g *generator) newNoise() *noise {
	p := &g.s.Production
	n := &noise{p: p}
	pods := func(k int) []float64 {
		out := make([]float64, max(k, 1))
		for i := range out {
			out[i] = logNormalMean1(p.PodSpread, g.rng.NormFloat64())
		}
		return out
	}
	n.canaryPods, n.basePods = pods(p.CanaryPods), pods(p.BaselinePods)
	for range p.FailingClients {
		n.clients = append(n.clients, g.rng.Float64())
	}
	n.diurnalPhase = 2 * math.Pi * g.rng.Float64()
	if p.Scrape > 0 {
		n.scrapePhase = g.rng.IntN(int(p.Scrape / g.subStep()))
	}
	return n
}

// rateFactor is the diurnal multiplier of the request rate this interval.
func (n *noise) rateFactor(interval time.Duration) float64 {
	if n.p.DiurnalAmplitude == 0 {
		return 1
	}
	t := float64(n.tick) * interval.Seconds() / n.p.DiurnalPeriod.Seconds()
	return 1 + n.p.DiurnalAmplitude*math.Sin(2*math.Pi*t+n.diurnalPhase)
}

// draw sets this interval's error-rate multipliers and failing-client
// bursts (requests per sub-step, all failing) for the canary at weight w.
func (g *generator) drawNoise(w float64) {
	n, p := g.noise, g.noise.p
	shared := logNormalMean1(p.RateSpread, g.rng.NormFloat64())
	n.canaryMult, n.baseMult = shared, shared
	if !p.SharedSpread {
		n.baseMult = logNormalMean1(p.RateSpread, g.rng.NormFloat64())
	}
	n.canaryMult *= g.podMean(n.canaryPods)
	n.baseMult *= g.podMean(n.basePods)
	if p.SessionLength > 0 && n.tick > 0 && n.tick%max(1, int(p.SessionLength/g.s.Interval)) == 0 {
		for i := range n.clients {
			n.clients[i] = g.rng.Float64()
		}
	}
	k := g.s.SubSteps
	n.canaryBurst, n.baseBurst = make([]float64, k), make([]float64, k)
	for _, u := range n.clients {
		if g.rng.Float64() >= p.ClientActive {
			continue
		}
		burst := g.poisson(p.ClientRate * g.s.Interval.Seconds())
		if u < w {
			n.canaryBurst[g.rng.IntN(k)] += burst
		} else {
			n.baseBurst[g.rng.IntN(k)] += burst
		}
	}
	n.tick++
}

// podMean is the mean error-rate multiplier over pods with persistent
// multipliers mults, each with this interval's fluctuation: requests are
// spread evenly, so a request fails with the pods' mean rate.
func (g *generator) podMean(mults []float64) float64 {
	if len(mults) == 1 && g.s.Production.PodIntervalSpread == 0 {
		return mults[0]
	}
	sum := 0.0
	for _, m := range mults {
		sum += m * logNormalMean1(g.s.Production.PodIntervalSpread, g.rng.NormFloat64())
	}
	return sum / float64(len(mults))
}
