package judge

import (
	"fmt"
	"math"
	"strings"
)

// finding is one harmful change that a test found.
type finding struct {
	class Classification
	ratio float64 // the effect size compared with the guards: Kayenta's mean ratio
	what  string  // for the reason
}

// decide sets res's classification, criticality and reason from the
// location test and res.Tails (step 6 of MannWhitney).
func decide(res *MetricResult, loc location, c mwConfig) {
	var found []finding
	if loc.high && c.harmsUp() {
		found = append(found, finding{High, res.Ratio, locationText(loc, res, c)})
	}
	if loc.low && c.harmsDown() {
		found = append(found, finding{Low, res.Ratio, locationText(loc, res, c)})
	}
	for _, t := range res.Tails {
		if t.Significant {
			class := High
			if t.Side == LowerTail {
				class = Low
			}
			found = append(found, finding{class, res.Ratio, t.String()})
		}
	}
	var kept []finding
	var waived []string
	for _, f := range found {
		if note := allowedChange(f, c); note != "" {
			waived = append(waived, f.what+", but the mean "+note)
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) == 0 {
		res.Classification = Pass
		res.Reason = strings.Join(append([]string{passText(loc, res, c)}, waived...), "; ")
		return
	}
	res.Classification = Low
	for _, f := range kept {
		if f.class == High { // both ways (direction either): High is reported
			res.Classification = High
		}
	}
	critical, texts := false, []string(nil)
	for _, f := range kept {
		if f.class == res.Classification {
			critical = critical || isCriticalChange(f, c)
			texts = append(texts, f.what)
		}
	}
	for _, f := range kept {
		if f.class != res.Classification {
			texts = append(texts, f.what)
		}
	}
	res.Critical = c.Critical && critical
	res.Reason = strings.Join(append(texts, waived...), "; ")
}

// allowedChange returns why the effect-size guard lets f pass, or "".
// A NaN ratio (the baseline's mean is 0) is never allowed, as in Kayenta.
func allowedChange(f finding, c mwConfig) string {
	switch {
	case math.IsNaN(f.ratio):
		return ""
	case f.class == High && c.AllowedIncrease > 0 && f.ratio < c.AllowedIncrease:
		return fmt.Sprintf("ratio %.3g is under the allowed increase %.3g", f.ratio, c.AllowedIncrease)
	case f.class == Low && c.AllowedDecrease > 0 && f.ratio > c.AllowedDecrease:
		return fmt.Sprintf("ratio %.3g is above the allowed decrease %.3g", f.ratio, c.AllowedDecrease)
	}
	return ""
}

// isCriticalChange reports whether f is large enough to be critical for a
// critical metric.
func isCriticalChange(f finding, c mwConfig) bool {
	switch {
	case math.IsNaN(f.ratio):
		return true
	case f.class == High:
		return c.CriticalIncrease == 0 || f.ratio >= c.CriticalIncrease
	case f.class == Low:
		return c.CriticalDecrease == 0 || f.ratio <= c.CriticalDecrease
	}
	return false
}

// locationText describes a location finding.
func locationText(loc location, res *MetricResult, c mwConfig) string {
	if loc.degenerate {
		return fmt.Sprintf("canary constant at %s, baseline at %s: shift %s, p=%.2g, mean ratio %.3g",
			formatValue(loc.est+res.BaselineSamples.Mean, c.Unit), formatValue(res.BaselineSamples.Mean, c.Unit),
			signed(loc.est, c.Unit), loc.p, res.Ratio)
	}
	side, bound := "above", signed(loc.bound, c.Unit)
	if loc.low {
		side, bound = "below", signed(-loc.bound, c.Unit)
	}
	return fmt.Sprintf("shift %s, %.4g%% CI [%s, %s] %s %s (%.3g × |shift|), p=%.2g, mean ratio %.3g",
		signed(loc.est, c.Unit), 100*c.confidence, signed(loc.lower, c.Unit), signed(loc.upper, c.Unit),
		side, bound, c.Tolerance, loc.p, res.Ratio)
}

// passText describes a metric that no test flagged.
func passText(loc location, res *MetricResult, c mwConfig) string {
	var s string
	if loc.degenerate {
		s = fmt.Sprintf("canary constant at %s, baseline at %s: shift %s, p=%.2g above %.2g",
			formatValue(loc.est+res.BaselineSamples.Mean, c.Unit), formatValue(res.BaselineSamples.Mean, c.Unit),
			signed(loc.est, c.Unit), loc.p, 1-c.confidence)
	} else {
		s = fmt.Sprintf("shift %s, %.4g%% CI [%s, %s], p=%.2g, mean ratio %.3g",
			signed(loc.est, c.Unit), 100*c.confidence, signed(loc.lower, c.Unit), signed(loc.upper, c.Unit), loc.p, res.Ratio)
	}
	if len(res.Tails) > 0 {
		minP := 1.0
		for _, t := range res.Tails {
			minP = math.Min(minP, t.PValue)
		}
		s += fmt.Sprintf("; tails alike (smallest p=%.2g)", minP)
	}
	return s
}

// signed formats v with its unit and an explicit sign.
func signed(v float64, unit string) string {
	s := formatValue(v, unit)
	if v >= 0 && !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	return s
}
