// Package simulate is a Monte Carlo of whole canary rollouts. Each simulated
// rollout drives the real state machine (rollout.Decide) and a real judge
// (any judge.Judge) with a look every analysis interval, exactly as
// functions/core does: the sync gate (engine none), the window the
// state machine asks for, incremental windows for judges that say so,
// carried sequential evidence, failure and inconclusive limits. Only the
// metrics are simulated.
//
// Traffic model, per interval of each version (the canary at the weight in
// force, the baseline, which is the stable version, at the rest), drawn per
// sub-step (Scenario.SubSteps):
//
//	requests ~ Poisson(rate * subStep * weight)
//	errors   ~ Binomial(requests, errorRate)            (5xx responses)
//	slow     ~ Binomial(requests, P(latency > SLO))
//	latency  ~ LogNormal(log(median), sigma), a share tailShare of requests
//	           multiplied by tailFactor ("a few slow requests")
//
// Latency is kept the way Istio exports it, as counts in its default
// histogram buckets (multinomial over the bucket probabilities, given the
// slow count), from which come the requests slower than the SLO bucket
// (istio-slow-requests, a count the sequential judge tests) and the p99 of
// histogram_quantile (istio-latency-p99, the value a max guard checks).
// Judges that compare samples (NeedsSamples, as mannwhitney) get what
// functions/core's range queries give them: one value per sample step of
// the window (metrics.SampleStep), the percentage of errors or of slow
// requests over that step, NaN for a step without requests.
//
// Every run has its own random stream (math/rand/v2 PCG seeded with the seed
// and the run's index), so Run spreads runs over GOMAXPROCS workers and its
// result depends only on the configuration and the seed. The package keeps
// no global state; everything is safe for concurrent use.
package simulate
