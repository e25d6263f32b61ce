package judge

import "fmt"

// Threshold is Flagger's judge: the canary's value against absolute limits
// (max, min). It ignores the baseline except to report it; a metric with no
// limit passes once it has data. Use it as a guard beside the statistical
// judges, or alone when a fixed SLO is what matters.
type Threshold struct{}

// Name returns "threshold".
func (Threshold) Name() string { return "threshold" }

// Judge classifies each metric against its max and min.
func (Threshold) Judge(r Request) Result {
	out := Result{Judge: "threshold"}
	for _, in := range r.Metrics {
		res, ok := preliminary(in, r.MinRequests)
		if ok {
			classifyThreshold(&res, in.Config, in.Canary.Value)
		}
		out.Metrics = append(out.Metrics, res)
	}
	Summarize(&out)
	return out
}

// classifyThreshold sets res's classification from the absolute guards.
func classifyThreshold(res *MetricResult, c MetricConfig, v float64) {
	switch {
	case c.Max != nil && v > *c.Max:
		res.Classification = High
		res.Reason = fmt.Sprintf("%s above max %s", formatValue(v, c.Unit), formatValue(*c.Max, c.Unit))
	case c.Min != nil && v < *c.Min:
		res.Classification = Low
		res.Reason = fmt.Sprintf("%s below min %s", formatValue(v, c.Unit), formatValue(*c.Min, c.Unit))
	default:
		res.Classification = Pass
		res.Reason = "within limits"
		if c.Max == nil && c.Min == nil {
			res.Reason = "no limit set"
		}
	}
}

// formatValue prints a value with its unit the way reports show it.
func formatValue(v float64, unit string) string {
	switch unit {
	case "percent", "%":
		return fmt.Sprintf("%.3g%%", v)
	case "":
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%.4g%s", v, unit)
}
