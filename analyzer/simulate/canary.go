package simulate

import (
	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Metric names of every scenario, as in the Canary spec the simulator builds.
const (
	MetricErrors  = "error-rate"
	MetricLatency = "latency"
)

// canarySpec builds the Canary spec a scenario stands for, with defaults
// applied: steps setWeight/analyze per Step and a final setWeight 100, sync
// engine none without delay, onFailure rollback, failureLimit 1 and
// inconclusiveLimit 10 (the defaults), both metrics critical. With guards
// (or Scenario.Guards) the metrics carry the scenario's absolute max guards.
func canarySpec(s *Scenario, judgeName string, alpha float64, guards bool) *spec.Canary {
	c := &spec.Canary{APIVersion: "birdwatch.dev/v1alpha1", Kind: "Canary",
		Metadata: spec.Metadata{Name: s.Name, Namespace: "simulate"}}
	c.Spec.Stable, c.Spec.Canary = "stable", "canary"
	c.Spec.Traffic = spec.Traffic{Provider: "istio", File: "virtualservice.yaml", StableSubset: "stable", CanarySubset: "canary"}
	for _, st := range s.Steps {
		w, d := st.Weight, spec.Duration(st.Analyze)
		c.Spec.Steps = append(c.Spec.Steps, spec.Step{SetWeight: &w}, spec.Step{Analyze: &d})
	}
	full := 100
	c.Spec.Steps = append(c.Spec.Steps, spec.Step{SetWeight: &full})
	a := &c.Spec.Analysis
	a.Interval, a.Judge, a.Alpha, a.MinRequests = spec.Duration(s.Interval), judgeName, alpha, s.MinRequests
	errTol, latTol := s.ErrorTolerance, s.LatencyTolerance
	a.Metrics = []spec.Metric{
		{Name: MetricErrors, Template: "istio-error-rate", Direction: string(judge.Increase), Tolerance: &errTol, Critical: true},
		{Name: MetricLatency, Template: "istio-slow-requests", Direction: string(judge.Increase), Tolerance: &latTol,
			Critical: true, Args: map[string]string{"le": formatBound(s.SLO)}},
	}
	if s.LatencyQuantile > 0 {
		a.Metrics[1].Template, a.Metrics[1].Args, a.Metrics[1].Quantile = "istio-latency-buckets", nil, s.LatencyQuantile
	}
	if guards || s.Guards {
		maxErr, maxP99 := s.MaxErrorPercent, s.MaxP99
		a.Metrics[0].Max, a.Metrics[1].Max = &maxErr, &maxP99
	}
	c.Spec.Sync.Engine = "none"
	spec.SetDefaults(c)
	return c
}

// metricConfigs turns the spec's metrics into judge configs, as
// functions/core does, with the units the simulated values have.
func metricConfigs(c *spec.Canary) []judge.MetricConfig {
	out := make([]judge.MetricConfig, len(c.Spec.Analysis.Metrics))
	for i, m := range c.Spec.Analysis.Metrics {
		out[i] = judge.MetricConfig{Name: m.Name, Direction: judge.Direction(m.Direction), Tolerance: *m.Tolerance,
			Critical: m.Critical, Max: m.Max, Min: m.Min, Quantile: m.Quantile, Unit: "percent"}
		if m.Name == MetricLatency {
			out[i].Unit = "ms"
		}
	}
	return out
}
