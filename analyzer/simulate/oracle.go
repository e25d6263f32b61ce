package simulate

import (
	"fmt"
	"math"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// ScenarioJudge is a judge that needs to know the scenario it judges (a
// simulator-only reference that is told the truth). Run judges with
// ForScenario(&Config.Scenario).
type ScenarioJudge interface {
	judge.Judge
	ForScenario(s *Scenario) judge.Judge
}

// SequentialOracle is the power limit of an anytime-valid test on a
// scenario: on every count metric, Wald's sequential probability ratio test
// of H0: d = d0 = 1+tolerance against the point alternative d1 = the
// scenario's true rate ratio, looked at every interval. Its e-process is
// the likelihood ratio itself,
//
//	E_t = prod_i L_i(d1) / L_i(d0),   L_i(d) = p_i(d)^e_c,i (1 - p_i(d))^e_b,i,
//	p_i(d) = d rho_i / (d rho_i + 1)
//
// (the binomial of the canary's share of the interval's bad events given
// their total, rho_i the interval's canary/baseline requests, as in
// stats.CountTest), and a metric fails once E_t >= 1/alpha_m, alpha_m the
// metric's share of alpha (alpha split evenly over the count metrics, as
// the sequential judge splits it). By Ville's inequality it is valid at
// alpha_m under every d <= d0 with independent requests, like the mixture
// of stats.CountTest; unlike the mixture it knows d1. The likelihood ratio
// at the truth maximises the expected growth E[log E_t] among e-processes
// (Kelly 1956; the GROW criterion of Grünwald, de Heide & Koolen,
// "Safe testing", JRSS B 2024), so a mixture of likelihood ratios over d,
// the family birdwatch's test belongs to, is not expected to detect more
// often; it is not a strict bound on the chance of crossing 1/alpha_m
// within the rollout (only the fixed-horizon test, LikelihoodRatioReference,
// is). Not registered as a spec judge. Safe for concurrent use.
//
// The truth: for the error metric the ratio of the scenario's canary and
// baseline error rates, for the slow-request metric the ratio of their
// shares of requests slower than the SLO bucket (latencyCDF). A metric whose
// true ratio is within its tolerance gets the alternative 1.2 d0 (the gap of
// errors-x1-5: 1.5 against 1.25), so the oracle stays a valid test there.
type SequentialOracle struct {
	// Alternatives maps a metric name to d1; a metric not in it (the zero
	// value: every metric) gets 1.2 d0.
	Alternatives map[string]float64
}

// oracleFallback is the alternative over d0 of a metric within tolerance.
const oracleFallback = 1.2

// Name returns "sequential-oracle".
func (SequentialOracle) Name() string { return "sequential-oracle" }

// Incremental is true: each look's window starts where the previous ended.
func (SequentialOracle) Incremental() bool { return true }

// ForScenario returns the oracle told s's true rate ratios.
func (SequentialOracle) ForScenario(s *Scenario) judge.Judge {
	slow := func(b Behaviour) float64 { return 1 - latencyCDF(b, s.SLO) }
	alt := map[string]float64{}
	for _, m := range []struct {
		name       string
		canary, bl float64
		tol        float64
	}{{MetricErrors, s.Canary.ErrorRate, s.Baseline.ErrorRate, s.ErrorTolerance},
		{MetricLatency, slow(s.Canary), slow(s.Baseline), s.LatencyTolerance}} {
		if m.bl > 0 && m.canary/m.bl > 1+m.tol {
			alt[m.name] = m.canary / m.bl
		}
	}
	return SequentialOracle{Alternatives: alt}
}

// oracleKind names the state: the accumulated log-likelihood ratio.
const oracleKind = "sprt-llr/v1"

// Judge adds each count metric's window to its log-likelihood ratio and
// fails the metric once it reaches log(1/alpha_m).
func (o SequentialOracle) Judge(r judge.Request) judge.Result {
	out := judge.Result{Judge: o.Name()}
	counted := countMetrics(r.Metrics)
	for _, in := range r.Metrics {
		res := judge.MetricResult{Name: in.Config.Name, Unit: in.Config.Unit, Critical: in.Config.Critical,
			Classification: judge.Pass, Reason: "no counts: not tested"}
		if !in.Canary.HasCounts || !in.Baseline.HasCounts {
			out.Metrics = append(out.Metrics, res)
			continue
		}
		llr := 0.0
		if in.State != nil && len(in.State.Values) == 1 {
			llr = in.State.Values[0]
		}
		d0 := 1 + in.Config.Tolerance
		d1, ok := o.Alternatives[in.Config.Name]
		if !ok {
			d1 = oracleFallback * d0
		}
		if eC, eB := math.Round(in.Canary.Bad), math.Round(in.Baseline.Bad); eC+eB > 0 && in.Canary.Total > 0 && in.Baseline.Total > 0 {
			llr += sprtLLR(eC, eB, in.Canary.Total/in.Baseline.Total, d0, d1)
		}
		res.State = &judge.State{Kind: oracleKind, Values: []float64{llr}}
		res.EValue = math.Exp(llr)
		crit := math.Log(float64(counted) / r.Alpha)
		res.Reason = fmt.Sprintf("log LR %.3g of d=%.3g vs %.3g, needs %.3g", llr, d1, d0, crit)
		if llr >= crit {
			res.Classification = judge.High
		}
		out.Metrics = append(out.Metrics, res)
	}
	judge.Summarize(&out)
	return out
}

// sprtLLR is one interval's log L(d1)/L(d0) for the canary's eC of eC+eB
// bad events at request ratio rho.
func sprtLLR(eC, eB, rho, d0, d1 float64) float64 {
	// log p(d) = -log(1 + 1/(d rho)), log(1-p(d)) = -log(1 + d rho)
	return eC*(math.Log1p(1/(d0*rho))-math.Log1p(1/(d1*rho))) + eB*(math.Log1p(d0*rho)-math.Log1p(d1*rho))
}
