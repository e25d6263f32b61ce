package simulate

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Behaviour is how one version serves its requests.
type Behaviour struct {
	// ErrorRate is the share of requests answered with a 5xx, in [0, 1].
	ErrorRate float64 `json:"errorRate"`
	// LatencyMedian is the median latency in milliseconds, > 0.
	LatencyMedian float64 `json:"latencyMedianMs"`
	// LatencySigma is the log-normal shape (sdlog), >= 0.
	LatencySigma float64 `json:"latencySigma"`
	// TailShare is the share of requests, in [0, 1], made TailFactor times
	// slower; zero means none.
	TailShare  float64 `json:"tailShare,omitempty"`
	TailFactor float64 `json:"tailFactor,omitempty"`
}

// Step is one traffic step of a scenario: set the canary weight, then
// analyse for Analyze. Scenarios become Canary specs of the form
// setWeight, analyze, setWeight, analyze, ..., setWeight: 100.
type Step struct {
	// Weight is the canary's share of traffic in percent, 1 to 99.
	Weight int `json:"weight"`
	// Analyze is how long the step is analysed, a multiple of the interval.
	Analyze time.Duration `json:"analyze"`
}

// Scenario is one simulated setting: the steps, the traffic, each version's
// behaviour and the metrics' configuration. Scenarios are values; the ones
// from Scenarios may be copied and changed freely.
type Scenario struct {
	// Name is what --scenario selects; Description says what it models.
	Name        string `json:"name"`
	Description string `json:"description"`
	// Healthy is true when the canary is within every metric's tolerance:
	// a rollback is then a false rollback. Otherwise a rollback is a detection.
	Healthy bool `json:"healthy"`
	// Rate is the requests per second over both versions.
	Rate float64 `json:"rate"`
	// Interval is the time between looks (spec.analysis.interval).
	Interval time.Duration `json:"interval"`
	// Steps are the traffic steps, weights rising.
	Steps []Step `json:"steps"`
	// Baseline and Canary are the stable and the canary version.
	Baseline Behaviour `json:"baseline"`
	Canary   Behaviour `json:"canary"`
	// ErrorTolerance and LatencyTolerance are the metrics' relative tolerances.
	ErrorTolerance   float64 `json:"errorTolerance"`
	LatencyTolerance float64 `json:"latencyTolerance"`
	// MaxErrorPercent and MaxP99 are the absolute guards (spec max) of the
	// error rate in percent and of the p99 in milliseconds.
	MaxErrorPercent float64 `json:"maxErrorPercent"`
	MaxP99          float64 `json:"maxP99Ms"`
	// SLO is the histogram bucket bound, in ms, above which a request is slow.
	SLO float64 `json:"sloMs"`
	// LatencyQuantile, when > 0, makes the latency metric the histogram
	// template istio-latency-buckets tested at that quantile of the stable
	// (stats.QuantileTest for the sequential judges) instead of the
	// requests slower than SLO (istio-slow-requests).
	LatencyQuantile float64 `json:"latencyQuantile,omitempty"`
	// MinRequests is spec.analysis.minRequests.
	MinRequests int `json:"minRequests"`
	// SubSteps is the time resolution of the simulated counts: sub-steps
	// per interval, >= 1. Per-step samples are sums of whole sub-steps, so
	// Interval/SubSteps should divide the sample steps (Interval/10 for
	// windows under 10 intervals, with the default 10 minimum samples).
	SubSteps int `json:"subSteps"`
	// Guards runs the scenario with its max guards whatever the judge (the
	// guard cases of the bank); otherwise TableConfig.Guards decides.
	Guards bool `json:"guards,omitempty"`
	// Production is how the traffic departs from independent requests;
	// the zero value is the plain model.
	Production Production `json:"production,omitzero"`
}

// Intervals is the number of analysis intervals of a rollout that passes
// every look: the sum of the analyze steps over the interval.
func (s *Scenario) Intervals() int {
	n := 0
	for _, st := range s.Steps {
		n += int(st.Analyze / s.Interval)
	}
	return n
}

// Validate reports what makes s unusable; the error wraps ErrInvalidConfig.
func (s *Scenario) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("scenario %q: %s: %w", s.Name, fmt.Sprintf(format, args...), ErrInvalidConfig)
	}
	switch {
	case !(s.Rate > 0) || s.Rate > 1e6:
		return bad("rate %v not in (0, 1e6]", s.Rate)
	case s.Interval < time.Second:
		return bad("interval %s under 1s", s.Interval)
	case len(s.Steps) == 0:
		return bad("no steps")
	case s.SubSteps < 1 || s.SubSteps > 3600:
		return bad("subSteps %d not in [1, 3600]", s.SubSteps)
	case !slices.Contains(istioBuckets(), s.SLO):
		return bad("SLO %v ms is not an Istio bucket bound %v", s.SLO, istioBuckets())
	case !(s.LatencyQuantile >= 0 && s.LatencyQuantile < 1):
		return bad("latencyQuantile %v not in [0, 1)", s.LatencyQuantile)
	case !(s.ErrorTolerance >= 0) || !(s.LatencyTolerance >= 0) || s.MinRequests < 0:
		return bad("tolerances and minRequests must not be negative")
	}
	if err := s.Production.validate(s.Interval, s.SubSteps); err != nil {
		return bad("production: %v", err)
	}
	last := 0
	for i, st := range s.Steps {
		if st.Weight <= last || st.Weight >= 100 || st.Analyze < s.Interval || st.Analyze%s.Interval != 0 {
			return bad("step %d: weight %d must rise within 1-99 and analyze %s be a multiple of the interval",
				i+1, st.Weight, st.Analyze)
		}
		last = st.Weight
	}
	for _, b := range []Behaviour{s.Baseline, s.Canary} {
		if !(b.ErrorRate >= 0 && b.ErrorRate <= 1) || !(b.LatencyMedian > 0) || !(b.LatencySigma >= 0) ||
			!(b.TailShare >= 0 && b.TailShare <= 1) || (b.TailShare > 0 && !(b.TailFactor > 0)) {
			return bad("behaviour %+v out of range", b)
		}
	}
	return nil
}

// Scenarios returns the built-in scenarios, in a fixed order: the healthy
// ones first. Each call returns fresh copies.
//
// The common setting: 100 requests/s in total, a look every minute, steps
// of 1% for 5m, 10% for 10m and 50% for 10m, then 100%; the baseline answers
// 0.1% of requests with 5xx and has a log-normal latency of median 100 ms and
// sdlog 0.5 (p99 about 320 ms, 3.3% of requests slower than the 250 ms SLO
// bucket). Guards as in the aleph example: error rate max 1%, p99 max 500 ms.
// Tolerances: 25% on the error rate, 5% on latency (so a 10% latency shift
// is a regression for every judge).
func Scenarios() []Scenario {
	healthy := func(name, desc string) Scenario {
		return Scenario{Name: name, Description: desc, Healthy: true, Rate: 100, Interval: time.Minute,
			Steps:          []Step{{1, 5 * time.Minute}, {10, 10 * time.Minute}, {50, 10 * time.Minute}},
			Baseline:       Behaviour{ErrorRate: 0.001, LatencyMedian: 100, LatencySigma: 0.5},
			Canary:         Behaviour{ErrorRate: 0.001, LatencyMedian: 100, LatencySigma: 0.5},
			ErrorTolerance: 0.25, LatencyTolerance: 0.05, MaxErrorPercent: 1, MaxP99: 500, SLO: 250,
			MinRequests: 100, SubSteps: 10}
	}
	faulty := func(name, desc string, canary func(*Behaviour)) Scenario {
		s := healthy(name, desc)
		s.Healthy = false
		canary(&s.Canary)
		return s
	}
	edge := healthy("healthy-edge", "canary error rate 1.25x the baseline's, exactly at the tolerance (the worst healthy case)")
	edge.Canary.ErrorRate = 0.00125
	latEdge := healthy("healthy-latency-edge", "canary latency raised until its share of requests slower than the SLO is 1.05x the baseline's, exactly at the tolerance")
	latEdge.Canary.LatencyMedian = medianForSlowShare(latEdge.SLO, latEdge.Canary.LatencySigma,
		(1+latEdge.LatencyTolerance)*(1-latencyCDF(latEdge.Baseline, latEdge.SLO)))
	low := healthy("low-traffic", "healthy at 1 request/s in total; steps 10% for 30m, 50% for 10m")
	low.Rate, low.Steps = 1, []Step{{10, 30 * time.Minute}, {50, 10 * time.Minute}}
	alephHealthy := healthy("healthy-aleph", "a healthy canary with the aleph example's traffic (10 requests/s) and steps")
	alephHealthy.Rate = 10
	aleph := faulty("errors-50pct", "the seed's aleph v04: 50% of canary requests fail; 10 requests/s, 1% first",
		func(b *Behaviour) { b.ErrorRate = 0.5 })
	aleph.Rate = 10
	zero := faulty("zero-inflated", "errors are rare (0.01% on the baseline) and the canary adds some (0.2%)",
		func(b *Behaviour) { b.ErrorRate = 0.002 })
	zero.Baseline.ErrorRate = 0.0001
	out := []Scenario{
		healthy("healthy", "canary identical to the baseline"),
		edge,
		latEdge,
		low,
		alephHealthy,
	}
	out = append(out, productionScenarios(healthy)...)
	out = append(out,
		faulty("errors-x2", "canary error rate twice the baseline's (0.2% vs 0.1%)",
			func(b *Behaviour) { b.ErrorRate = 0.002 }),
		aleph,
		faulty("latency-shift-10pct", "every canary request 10% slower",
			func(b *Behaviour) { b.LatencyMedian *= 1.1 }),
		faulty("latency-tail", "2% of canary requests 10x slower, the rest as the baseline",
			func(b *Behaviour) { b.TailShare, b.TailFactor = 0.02, 10 }),
		zero,
	)
	return withLatencyQuantiles(append(out, productionFaults(faulty)...))
}

// medianForSlowShare is the log-normal median that puts a share of
// requests above slo: slo / exp(sigma * Φ⁻¹(1-share)).
func medianForSlowShare(slo, sigma, share float64) float64 {
	return slo / math.Exp(sigma*distuv.UnitNormal.Quantile(1-share))
}

// ScenarioNames returns the names of Scenarios, in order.
func ScenarioNames() []string {
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// Lookup returns the built-in scenario called name; the error wraps
// ErrUnknownScenario and lists the known names.
func Lookup(name string) (Scenario, error) {
	all := Scenarios()
	i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{}, fmt.Errorf("scenario %q (have %v): %w", name, ScenarioNames(), ErrUnknownScenario)
	}
	return all[i], nil
}
