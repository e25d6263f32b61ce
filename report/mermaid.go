package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// Mermaid limits: GitHub renders a comment's charts in the browser, so a
// few small ones keep the comment light.
const (
	// MermaidMaxCharts is the most metrics Mermaid charts.
	MermaidMaxCharts = 4
	// MermaidPoints is the most points per line.
	MermaidPoints = 24
)

// Mermaid renders, for each key metric of r (failed ones first, then
// critical ones, then the rest; at most MermaidMaxCharts, only those with
// series), a caption and a fenced Mermaid xychart-beta block that GitHub
// draws in comments and Markdown files: the canary (red) and baseline
// (blue) lines and the max/min guard (grey) over the time the canary had
// data, averaged into at most MermaidPoints points (xychart has no gaps:
// a point without data takes its neighbours' average). "" when no metric
// has series.
func Mermaid(r Report) string {
	var b strings.Builder
	for _, m := range keyMetrics(r) {
		b.WriteString(mermaidChart(r, m))
	}
	return b.String()
}

// keyMetrics orders the metrics with series: failed, critical, others.
func keyMetrics(r Report) []*MetricReport {
	var out []*MetricReport
	for i := range r.Metrics {
		if m := &r.Metrics[i]; len(m.CanarySeries) > 0 && len(m.BaselineSeries) > 0 {
			out = append(out, m)
		}
	}
	rank := func(m *MetricReport) int {
		switch {
		case m.Classification == "High" || m.Classification == "Low":
			return 0
		case m.Critical:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b *MetricReport) int { return rank(a) - rank(b) })
	return out[:min(len(out), MermaidMaxCharts)]
}

// mermaidChart is one metric's caption and chart; "" when the canary has no value.
func mermaidChart(r Report, m *MetricReport) string {
	from, to, ok := finiteSpan(m.CanarySeries)
	if !ok {
		return ""
	}
	n := min(MermaidPoints, max(2, countIn(m.CanarySeries, from, to)))
	tu := chooseTimeUnit(r.End.Sub(r.Start))
	canary, baseline := bucketMeans(m.CanarySeries, from, to, n), bucketMeans(m.BaselineSeries, from, to, n)
	fillGaps(canary)
	fillGaps(baseline)
	lines := [][]float64{canary, baseline}
	palette := []string{hexColor(canaryColor), hexColor(baselineColor)}
	_, dataMax := yRange(lines)
	guards := []string{}
	for _, g := range guardLines(m, dataMax/1.1) {
		if g.inView {
			lines = append(lines, slices.Repeat([]float64{g.value}, n))
			palette = append(palette, hexColor(guardColor))
			guards = append(guards, g.label)
		} else {
			guards = append(guards, g.label+" (above the chart)")
		}
	}
	lo, hi := yRange(lines)
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**", mdCell(m.Name))
	if m.Classification != "" {
		fmt.Fprintf(&b, " · %s", mdCell(m.Classification))
	}
	fmt.Fprintf(&b, " · red: canary `%s`, blue: baseline `%s`", codeSpan(r.Generation), codeSpan(r.Stable))
	if len(guards) > 0 {
		fmt.Fprintf(&b, ", grey: %s", mdCell(strings.Join(guards, ", ")))
	}
	fmt.Fprintf(&b, " · one point per %s\n\n", pointWidth(to.Sub(from), n, r.SeriesWindow))
	fmt.Fprintf(&b, "```mermaid\n%%%%{init: {\"xyChart\": {\"width\": 700, \"height\": 340}, \"themeVariables\": {\"xyChart\": {\"plotColorPalette\": \"%s\"}}}}%%%%\nxychart-beta\n",
		strings.Join(palette, ", "))
	fmt.Fprintf(&b, "    title \"%s\"\n", mermaidText(chartTitle(r, m)))
	fmt.Fprintf(&b, "    x-axis \"%s\" [%s]\n", mermaidText(tu.label(r.Start)), xLabels(r.Start, from, to, n, tu))
	fmt.Fprintf(&b, "    y-axis \"%s\" %s --> %s\n", mermaidText(unitLabel(m)), num(lo), num(hi))
	for _, l := range lines {
		fmt.Fprintf(&b, "    line [%s]\n", joinNums(l))
	}
	b.WriteString("```\n\n")
	return b.String()
}

// pointWidth says what one chart point stands for.
func pointWidth(span time.Duration, n int, window time.Duration) string {
	s := fmtDuration(span / time.Duration(max(n-1, 1)))
	if window > 0 {
		s += " (" + fmtDuration(window) + " windows)"
	}
	return s
}

// finiteSpan is the time of the first and last finite value.
func finiteSpan(pts []metrics.Point) (from, to time.Time, ok bool) {
	for _, p := range pts {
		if !finite(p.V) {
			continue
		}
		if !ok {
			from, ok = p.T, true
		}
		to = p.T
	}
	return from, to, ok
}

func countIn(pts []metrics.Point, from, to time.Time) int {
	n := 0
	for _, p := range pts {
		if !p.T.Before(from) && !p.T.After(to) {
			n++
		}
	}
	return n
}

// bucketMeans averages the finite values of pts in n equal time buckets
// centred on from, ..., to; NaN for an empty bucket.
func bucketMeans(pts []metrics.Point, from, to time.Time, n int) []float64 {
	sum, cnt := make([]float64, n), make([]int, n)
	width := float64(to.Sub(from)) / float64(n-1)
	for _, p := range pts {
		if !finite(p.V) {
			continue
		}
		i := int(math.Round(float64(p.T.Sub(from)) / width))
		if i < 0 || i >= n {
			continue
		}
		sum[i] += p.V
		cnt[i]++
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
		if cnt[i] > 0 {
			out[i] = sum[i] / float64(cnt[i])
		}
	}
	return out
}

// fillGaps replaces each NaN with the mean of its nearest finite
// neighbours (or the one it has); all NaN becomes all 0.
func fillGaps(v []float64) {
	for i := range v {
		if finite(v[i]) {
			continue
		}
		prev, next := math.NaN(), math.NaN()
		for j := i - 1; j >= 0 && math.IsNaN(prev); j-- {
			if finite(v[j]) {
				prev = v[j]
			}
		}
		for j := i + 1; j < len(v) && math.IsNaN(next); j++ {
			if finite(v[j]) {
				next = v[j]
			}
		}
		switch {
		case finite(prev) && finite(next):
			v[i] = (prev + next) / 2
		case finite(prev):
			v[i] = prev
		case finite(next):
			v[i] = next
		default:
			v[i] = 0
		}
	}
}

// yRange is 0 (or the lowest value, if negative) to 10% above the highest.
func yRange(lines [][]float64) (lo, hi float64) {
	for _, l := range lines {
		for _, v := range l {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi * 1.1
}

// xLabels are the bucket times in the axis unit, quoted.
func xLabels(start, from, to time.Time, n int, tu timeUnit) string {
	labels := make([]string, n)
	for i := range labels {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / float64(n-1)))
		labels[i] = `"` + strconv.FormatFloat(math.Round(tu.x(start, t)*10)/10, 'f', -1, 64) + `"`
	}
	return strings.Join(labels, ", ")
}

// mermaidText keeps what is safe inside a quoted Mermaid string: no quote,
// no backtick (it could end the Markdown fence), no %% (a directive), no
// markup, no newline; other characters outside a small set become "_".
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" .,:;/()+-_=%·", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return strings.ReplaceAll(b.String(), "%%", "%_")
}

// mdCellEscaper backslash-escapes what Markdown or HTML would interpret in
// a table cell, so a metric name or reason cannot break the table or
// inject markup.
var mdCellEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"|", `\|`, "#", `\#`, "~", `\~`, "\r\n", " ", "\n", " ", "\r", " ")

func mdCell(s string) string { return mdCellEscaper.Replace(s) }

// codeSpan makes s safe inside a `code span` in a table cell.
func codeSpan(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", `\|`).Replace(s)
}

// MarkdownTable renders r's metrics as a compact Markdown table (result,
// canary and baseline values of the last analysis, guards, evidence) and
// the analysis' score line. Text from specs and metrics is escaped.
func MarkdownTable(r Report) string {
	var b strings.Builder
	b.WriteString("| metric | result | canary | baseline | guard | evidence |\n| :-- | :-- | --: | --: | :-- | :-- |\n")
	for _, m := range r.Metrics {
		name := mdCell(m.Name)
		if m.Critical {
			name += " (critical)"
		}
		result := "not analysed"
		if m.Classification != "" {
			result = resultIcon(m.Classification) + " " + mdCell(m.Classification)
		}
		evidence := m.Reason
		if m.EValue > 0 && !strings.Contains(evidence, "e=") {
			evidence = strings.TrimSpace(fmt.Sprintf("e=%.3g %s", m.EValue, evidence))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, result, mdCell(FormatValue(m.Canary, m.Unit)),
			mdCell(FormatValue(m.Baseline, m.Unit)), mdCell(guards(m)), mdCell(evidence))
	}
	if a := r.Analysis; a != nil {
		fmt.Fprintf(&b, "\nScore **%.0f**, verdict **%s** (%s judge) at %s.\n", a.Score, mdCell(a.Verdict), mdCell(a.Judge), clock(a.At))
	}
	return b.String()
}

// ReportMarkdown renders the whole report for a PR comment, a commit status
// detail or a file: heading, where the rollout stands, the decisions, the
// metrics table and the Mermaid charts.
func ReportMarkdown(r Report) string {
	var b strings.Builder
	phase := string(r.Phase)
	if r.Start.IsZero() {
		phase = "not started"
	}
	fmt.Fprintf(&b, "### %s `%s` vs `%s`: %s\n\n", mdCell(r.Canary), codeSpan(orDash(r.Generation)), codeSpan(orDash(r.Stable)),
		mdCell(orDash(phase)))
	if r.Start.IsZero() {
		b.WriteString("Not started: the next run starts the rollout.\n\n")
		b.WriteString(MarkdownTable(r))
		return b.String()
	}
	fmt.Fprintf(&b, "weight **%d%%** · step %d/%d · %s → %s (%s)\n", r.Weight, StepNumber(r.Step, r.Steps, r.Phase), r.Steps,
		clock(r.Start), clock(r.End), fmtDuration(r.End.Sub(r.Start)))
	if r.Message != "" {
		fmt.Fprintf(&b, "\n%s\n", mdCell(r.Message))
	}
	if ev := majorEvents(r.Events); len(ev) > 0 {
		parts := make([]string, len(ev))
		for i, e := range ev {
			label := e.label
			if strings.HasSuffix(label, "%") {
				label = "weight " + label
			}
			parts[i] = fmt.Sprintf("%s %s", e.At.UTC().Format("15:04:05"), mdCell(label))
		}
		fmt.Fprintf(&b, "\n**Decisions:** %s\n", strings.Join(parts, " → "))
	}
	b.WriteString("\n" + MarkdownTable(r) + "\n")
	b.WriteString(Mermaid(r))
	return b.String()
}

// guards prints a metric's max and min.
func guards(m MetricReport) string {
	var g []string
	if m.Max != nil {
		g = append(g, "max "+FormatValue(*m.Max, m.Unit))
	}
	if m.Min != nil {
		g = append(g, "min "+FormatValue(*m.Min, m.Unit))
	}
	if len(g) == 0 {
		return "-"
	}
	return strings.Join(g, ", ")
}

// resultIcon marks a classification for people skimming a table.
func resultIcon(c string) string {
	switch c {
	case "Pass":
		return "✅"
	case "High", "Low":
		return "❌"
	case "Error":
		return "⚠️"
	}
	return "⚪"
}

// clock is a time as people read it in reports, in UTC.
func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
