package ui

import (
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/report"
)

// sparkCells is the number of points of a fleet sparkline.
const sparkCells = 30

// sparkMetrics is how many metrics the fleet shows per canary.
const sparkMetrics = 2

type fleetView struct {
	// Problem says why the data is missing or stale; "" when fresh.
	Problem string
	// ReadAt is when the shown data was read from Git.
	ReadAt    string
	Summary   string
	NoMetrics bool
	Rows      []fleetRow
}

type fleetRow struct {
	Key, Link, Stable, Canary string
	Phase, Badge              string
	Step                      string
	Weight                    int
	Last, LastAt, Message     string
	Routes                    string
	// Error is why the canary cannot be shown; the rest is empty then.
	Error  string
	Sparks []spark
}

type spark struct {
	Name, Canary, Baseline, Err string
	SVG                         template.HTML
}

type rolloutView struct {
	Key, Problem, ReadAt string
	CanaryErr, ChartErr  string
	NoMetrics            bool
	Report               *report.Report
	Charts               []report.Chart
}

func newFleetRow(e Entry, r report.Report) fleetRow {
	row := fleetRow{Key: e.Key, Link: "/canaries/" + url.PathEscape(namespaceOf(e.Key)) + "/" + url.PathEscape(nameOf(e.Key))}
	if e.Err != nil {
		row.Error, row.Phase, row.Badge = e.Err.Error(), "unreadable", "bad"
		return row
	}
	row.Stable, row.Canary, row.Weight, row.Message = r.Stable, r.Generation, r.Weight, r.Message
	row.Phase, row.Badge = string(r.Phase), badge(string(r.Phase))
	if r.Start.IsZero() {
		row.Phase, row.Badge = "not started", "neutral"
	}
	row.Step = fmt.Sprintf("%d/%d", report.StepNumber(r.Step, r.Steps, r.Phase), r.Steps)
	if e.Status != nil {
		row.Routes = report.RoutesText(e.Status.Routes)
	}
	if n := len(r.Events); n > 0 {
		last := r.Events[n-1]
		row.Last, row.LastAt = last.Action, last.At.UTC().Format("2006-01-02 15:04:05Z")
		if row.Message == "" {
			row.Message = last.Reason
		}
	}
	for _, m := range keyMetrics(r) {
		row.Sparks = append(row.Sparks, newSpark(r, m))
	}
	return row
}

// keyMetrics are the metrics a fleet row shows: failing ones first, then
// critical ones, then the rest, at most sparkMetrics.
func keyMetrics(r report.Report) []report.MetricReport {
	ms := slices.Clone(r.Metrics)
	rank := func(m report.MetricReport) int {
		switch {
		case m.Classification == "High" || m.Classification == "Low":
			return 0
		case m.Critical:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(ms, func(a, b report.MetricReport) int { return rank(a) - rank(b) })
	return ms[:min(len(ms), sparkMetrics)]
}

func newSpark(r report.Report, m report.MetricReport) spark {
	s := spark{Name: m.Name, Canary: report.FormatValue(m.Canary, m.Unit), Baseline: report.FormatValue(m.Baseline, m.Unit)}
	switch {
	case m.SeriesUnavailable:
		s.Err = "no series: the metrics backend did not answer"
	case len(m.CanarySeries) == 0 && len(m.BaselineSeries) == 0 && m.SeriesErr != "":
		s.Err = "no series: " + m.SeriesErr
	case len(m.CanarySeries) == 0 && len(m.BaselineSeries) == 0:
		s.Err = "no series yet"
	default:
		end := r.End
		if end.IsZero() {
			end = time.Now()
		}
		c := report.Resample(m.CanarySeries, r.Start, end, sparkCells)
		b := report.Resample(m.BaselineSeries, r.Start, end, sparkCells)
		s.SVG = sparkSVG(m.Name, c, b)
	}
	return s
}

// sparkSVG draws the canary (red) and baseline (blue) on one scale as an
// inline SVG; a gap in a series breaks its line. Only numbers go into the
// markup, and the label is escaped, so the result is safe HTML.
func sparkSVG(name string, canary, baseline []float64) template.HTML {
	const w, h, pad = 120.0, 28.0, 2.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range append(slices.Clone(canary), baseline...) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return ""
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`, w, h, w, h,
		template.HTMLEscapeString(name+": canary red, baseline blue"))
	for _, line := range []struct {
		values []float64
		color  string
	}{{baseline, "#1f77b4"}, {canary, "#d62728"}} {
		n := len(line.values)
		var pts []string
		flush := func() {
			if len(pts) == 1 {
				pts = append(pts, pts[0])
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, line.color, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for i, v := range line.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				flush()
				continue
			}
			x := pad + (w-2*pad)*float64(i)/float64(max(n-1, 1))
			y := h - pad - (h-2*pad)*(v-lo)/(hi-lo)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		flush()
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers and an escaped label only
}

func summary(rows []fleetRow) string {
	if len(rows) == 0 {
		return "no canaries"
	}
	count := map[string]int{}
	for _, r := range rows {
		count[strings.ToLower(r.Phase)]++
	}
	phases := slices.Sorted(maps.Keys(count))
	parts := make([]string, 0, len(phases))
	for _, p := range phases {
		parts = append(parts, fmt.Sprintf("%d %s", count[p], p))
	}
	noun := "canaries"
	if len(rows) == 1 {
		noun = "canary"
	}
	return fmt.Sprintf("%d %s: %s", len(rows), noun, strings.Join(parts, ", "))
}

func badge(phase string) string {
	switch phase {
	case "Succeeded":
		return "good"
	case "RolledBack", "Failed":
		return "bad"
	case "Frozen", "Paused":
		return "warn"
	case "Progressing":
		return "live"
	}
	return "neutral"
}

func namespaceOf(key string) string { ns, _, _ := strings.Cut(key, "/"); return ns }

func nameOf(key string) string { _, name, _ := strings.Cut(key, "/"); return name }
