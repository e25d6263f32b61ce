// Package report renders decisions and analyses for people: plain text for
// commit messages and the terminal (more formats to come: Markdown, Slack).
package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// FormatValue prints a metric value with its unit; "-" when there is none.
func FormatValue(v float64, unit string) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case unit == "percent" || unit == "%":
		return fmt.Sprintf("%.2f%%", v)
	case unit == "":
		return fmt.Sprintf("%.4g", v)
	}
	return fmt.Sprintf("%.4g%s", v, unit)
}

// formatPtr is FormatValue for an optional value.
func formatPtr(v *float64, unit string) string {
	if v == nil {
		return "-"
	}
	return FormatValue(*v, unit)
}

// AnalysisTable renders a judged analysis as aligned lines, one per metric,
// then the score: the body of decision commits and the CLI's output.
func AnalysisTable(r *judge.Result) string {
	width := 0
	for _, m := range r.Metrics {
		width = max(width, len(m.Name))
	}
	var b strings.Builder
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "%-*s  %-6s  canary %s vs baseline %s", width, m.Name, m.Classification,
			FormatValue(m.Canary, m.Unit), FormatValue(m.Baseline, m.Unit))
		if m.Reason != "" {
			fmt.Fprintf(&b, " (%s)", m.Reason)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "score %.0f, %s (%s judge)\n", r.Score, r.Verdict, r.Judge)
	return b.String()
}

// FleetEntry is one canary and its status (nil when not started).
type FleetEntry struct {
	Canary *spec.Canary
	Status *spec.Status
}

// Fleet writes one table row per canary, then each last analysis.
func Fleet(w io.Writer, fleet []FleetEntry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CANARY\tSTABLE\tCANARY\tPHASE\tSTEP\tWEIGHT\tMESSAGE")
	for _, en := range fleet {
		c, st := en.Canary, en.Status
		if st == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\tnot started\n", c.Key(), c.Spec.Stable, c.Spec.Canary)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\n", c.Key(), st.Stable, st.Generation, st.Phase,
			st.Step, len(c.Spec.Steps), st.Weight, st.Message)
	}
	tw.Flush()
	for _, en := range fleet {
		if en.Status == nil || en.Status.LastAnalysis == nil {
			continue
		}
		a := en.Status.LastAnalysis
		fmt.Fprintf(w, "\n%s: last analysis %s, %s judge, score %.0f, %s\n", en.Canary.Key(),
			a.At.Format("2006-01-02 15:04:05Z07:00"), a.Judge, a.Score, a.Verdict)
		for _, m := range a.Metrics {
			fmt.Fprintf(w, "  %-16s %-6s canary %s vs baseline %s  %s\n", m.Name, m.Classification,
				formatPtr(m.Canary, m.Unit), formatPtr(m.Baseline, m.Unit), m.Reason)
		}
	}
}
