// Package report renders decisions and analyses for people: plain text for
// commit messages and the terminal (more formats to come: Markdown, Slack).
package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

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
		for _, why := range m.LeftOut {
			fmt.Fprintf(&b, "\n%-*s  not evidence: %s", width, "", why)
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
		msg := st.Message
		if rt := RoutesText(st.Routes); rt != "" {
			msg = strings.TrimPrefix(msg+"; routes: "+rt, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\n", c.Key(), st.Stable, st.Generation, st.Phase,
			StepNumber(st.Step, len(c.Spec.Steps), st.Phase), len(c.Spec.Steps), st.Weight, msg)
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

// TerminalOptions tune Terminal.
type TerminalOptions struct {
	// Width is the number of sparkline cells; 0 means 40.
	Width int
	// Color adds ANSI colours: canary red, baseline blue, results.
	Color bool
}

// ANSI colours of the terminal view.
const (
	ansiRed, ansiBlue, ansiGreen, ansiYellow, ansiDim, ansiReset = "\x1b[31m", "\x1b[34m", "\x1b[32m", "\x1b[33m", "\x1b[2m", "\x1b[0m"
)

// Terminal writes r for a terminal: a header line, the weight over the
// rollout as a sparkline with its decisions and, per metric, canary and
// baseline sparklines on one scale with the last analysis' values, result
// and reason. Metrics without series get the values line only.
func Terminal(w io.Writer, r Report, o TerminalOptions) {
	width := o.Width
	if width <= 0 {
		width = 40
	}
	paint := func(code, s string) string {
		if !o.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	if r.Start.IsZero() {
		fmt.Fprintf(w, "%s  %s vs %s  not started\n", r.Canary, r.Generation, r.Stable)
		return
	}
	fmt.Fprintf(w, "%s  %s vs %s  %s  step %d/%d  weight %d%%  %s -> %s (%s)\n", r.Canary, paint(ansiRed, r.Generation),
		paint(ansiBlue, r.Stable), paint(phaseANSI(r.Phase), string(r.Phase)), StepNumber(r.Step, r.Steps, r.Phase), r.Steps, r.Weight,
		r.Start.UTC().Format("15:04:05Z"), r.End.UTC().Format("15:04:05Z"), fmtDuration(r.End.Sub(r.Start)))
	nameW := len("weight")
	for _, m := range r.Metrics {
		nameW = max(nameW, len(m.Name))
	}
	weights := make([]float64, width)
	for i := range weights {
		weights[i] = float64(r.WeightAt(r.Start.Add(time.Duration(float64(r.End.Sub(r.Start)) * (float64(i) + 0.5) / float64(width)))))
	}
	var decisions []string
	for _, e := range majorEvents(r.Events) {
		decisions = append(decisions, e.label)
	}
	fmt.Fprintf(w, "  %-*s  %-8s  %s  %s\n", nameW, "weight", "", paint(ansiYellow, Sparkline(weights, 0, 100)), strings.Join(decisions, " -> "))
	for _, m := range r.Metrics {
		result := paint(resultANSI(m.Classification), fmt.Sprintf("%-6s", orDash(m.Classification))) // pad before colouring
		if len(m.CanarySeries)+len(m.BaselineSeries) == 0 {
			note := m.Reason
			if m.SeriesErr != "" {
				note = paint(ansiDim, noDataText(&m))
			}
			fmt.Fprintf(w, "  %-*s  %s canary %s vs baseline %s  %s\n", nameW, m.Name, result, FormatValue(m.Canary, m.Unit),
				FormatValue(m.Baseline, m.Unit), note)
			continue
		}
		c, b := Resample(m.CanarySeries, r.Start, r.End, width), Resample(m.BaselineSeries, r.Start, r.End, width)
		if cell := r.End.Sub(r.Start) / time.Duration(width); cell > 0 {
			gap := int((r.SeriesStep + cell - 1) / cell) // cells per series step, rounded up
			holdShortGaps(c, gap-1)
			holdShortGaps(b, gap-1)
		}
		lo, hi := bounds(c, b)
		fmt.Fprintf(w, "  %-*s  %-8s  %s  %-9s %s %s\n", nameW, m.Name, "canary", paint(ansiRed, Sparkline(c, lo, hi)),
			FormatValue(m.Canary, m.Unit), result, m.Reason)
		fmt.Fprintf(w, "  %-*s  %-8s  %s  %-9s %s\n", nameW, "", "baseline", paint(ansiBlue, Sparkline(b, lo, hi)),
			FormatValue(m.Baseline, m.Unit), paint(ansiDim, "scale "+FormatValue(lo, m.Unit)+" .. "+FormatValue(hi, m.Unit)))
	}
}

func phaseANSI(p spec.Phase) string {
	switch p {
	case spec.PhaseSucceeded:
		return ansiGreen
	case spec.PhaseRolledBack, spec.PhaseFailed:
		return ansiRed
	case spec.PhaseFrozen, spec.PhasePaused:
		return ansiYellow
	}
	return ""
}

func resultANSI(c string) string {
	switch c {
	case "Pass":
		return ansiGreen
	case "High", "Low":
		return ansiRed
	case "Error", "NoData":
		return ansiYellow
	}
	return ""
}

// StepNumber is the 1-based number of the step a rollout is at, as status
// views show it ("step 2/7"): the step running or waited on, the number the
// rollout's messages use ("pause at step 2"); a finished rollout shows its
// last step. (A decision's commit instead counts the steps it completed.)
func StepNumber(step, steps int, phase spec.Phase) int {
	if phase.Terminal() || step >= steps {
		return min(step, steps)
	}
	return step + 1
}
