package report

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// HTMLPage writes r as a self-contained HTML page (no external assets: the
// charts are PNG data URIs, the style is inline), for people and for
// attaching to incidents: `birdwatch report --html`. Charts are drawn with
// o; the zero value draws them at twice the default size, shown at the
// default size, so they stay sharp on high-density screens.
func HTMLPage(w io.Writer, r Report, o ChartOptions) error {
	if o.Width <= 0 && o.Height <= 0 {
		o = ChartOptions{Width: 2 * DefaultChartWidth, Height: 2 * DefaultChartHeight}
	}
	charts, err := ChartsPNG(r, o)
	if err != nil {
		return err
	}
	return HTML(w, r, charts)
}

// HTML writes r as a self-contained HTML page with the given charts
// (rendered by the caller, for example by ChartsPNG). Every text is
// escaped by html/template.
func HTML(w io.Writer, r Report, charts []Chart) error {
	if err := htmlPage.Execute(w, newHTMLView(r, charts)); err != nil {
		return fmt.Errorf("render html report of %s: %w", r.Canary, err)
	}
	return nil
}

// htmlView is what the page template reads.
type htmlView struct {
	R     Report
	Phase string
	Badge string // CSS class of the phase badge
	Span  string
	// Series says how the series were sampled; "" when there are none.
	Series  string
	Events  []htmlEvent
	Metrics []htmlMetric
	Charts  []htmlChart
}

type htmlEvent struct {
	At, Elapsed, Action, Trigger, Reason, Class string
	Step, Weight                                int
}

type htmlMetric struct {
	Name, Result, Class, Canary, Baseline, Guard, Evidence string
	Critical                                               bool
}

type htmlChart struct {
	Src           template.URL
	Title         string
	Width, Height int
}

func newHTMLView(r Report, charts []Chart) htmlView {
	v := htmlView{R: r, Phase: string(r.Phase), Badge: phaseClass(r.Phase)}
	if r.Start.IsZero() {
		v.Phase, v.Badge = "not started", "neutral"
	} else {
		v.Span = fmt.Sprintf("%s → %s (%s)", clock(r.Start), clock(r.End), fmtDuration(r.End.Sub(r.Start)))
	}
	if r.SeriesStep > 0 {
		v.Series = fmt.Sprintf("series at a %s step over %s windows", fmtDuration(r.SeriesStep), fmtDuration(r.SeriesWindow))
	}
	for _, e := range r.Events {
		v.Events = append(v.Events, htmlEvent{At: e.At.UTC().Format("15:04:05"), Elapsed: "+" + fmtDuration(e.At.Sub(r.Start)),
			Action: e.Action, Trigger: e.Trigger, Reason: e.Reason, Step: e.Step, Weight: e.Weight, Class: actionClass(e.Action)})
	}
	for _, m := range r.Metrics {
		hm := htmlMetric{Name: m.Name, Result: m.Classification, Class: resultClass(m.Classification), Critical: m.Critical,
			Canary: FormatValue(m.Canary, m.Unit), Baseline: FormatValue(m.Baseline, m.Unit), Guard: guards(m), Evidence: m.Reason}
		if hm.Result == "" {
			hm.Result = "not analysed"
		}
		if m.EValue > 0 && !strings.Contains(hm.Evidence, "e=") {
			hm.Evidence = strings.TrimSpace(fmt.Sprintf("e=%.3g %s", m.EValue, hm.Evidence))
		}
		v.Metrics = append(v.Metrics, hm)
	}
	for _, c := range charts {
		// The page shows the chart at its size or, if drawn larger, at the
		// default width, keeping the aspect ratio.
		w, h := c.Width, c.Height
		if w > DefaultChartWidth {
			w, h = DefaultChartWidth, c.Height*DefaultChartWidth/c.Width
		}
		v.Charts = append(v.Charts, htmlChart{Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG)),
			Title: c.Title, Width: w, Height: h})
	}
	return v
}

func phaseClass(p spec.Phase) string {
	switch p {
	case "Succeeded":
		return "good"
	case "RolledBack", "Failed":
		return "bad"
	case "Frozen", "Paused":
		return "warn"
	}
	return "neutral"
}

func actionClass(a string) string {
	switch a {
	case "rollback":
		return "bad"
	case "promote":
		return "good"
	case "freeze", "pause":
		return "warn"
	}
	return ""
}

func resultClass(c string) string {
	switch c {
	case "Pass":
		return "good"
	case "High", "Low":
		return "bad"
	case "Error", "NoData":
		return "warn"
	}
	return "neutral"
}

// HTMLStyle is the report's style sheet, for pages that embed HTMLRollout.
func HTMLStyle() template.CSS { return template.CSS(reportCSS) }

// HTMLRollout writes the report's content (heading, metrics, charts,
// decisions) without the page around it, for pages that show the report
// among other things, such as the live rollout page of `serve --ui`.
func HTMLRollout(w io.Writer, r Report, charts []Chart) error {
	if err := htmlPage.ExecuteTemplate(w, "rollout", newHTMLView(r, charts)); err != nil {
		return fmt.Errorf("render html report of %s: %w", r.Canary, err)
	}
	return nil
}

// reportCSS styles the report page and the pages that embed it.
const reportCSS = `body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 62em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.badge { display: inline-block; padding: 0.1em 0.6em; border-radius: 0.8em; font-size: 0.8em; vertical-align: middle; color: #fff; }
.badge.good { background: #2ca02c; } .badge.bad { background: #d62728; } .badge.warn { background: #e07b10; } .badge.neutral { background: #808080; }
.facts { color: #555; margin: 0.3em 0 1em; }
.message { background: #f6f6f6; border-left: 4px solid #bbb; padding: 0.5em 0.8em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
td.good { color: #2ca02c; font-weight: bold; } td.bad { color: #d62728; font-weight: bold; } td.warn { color: #e07b10; font-weight: bold; } td.neutral { color: #808080; }
tr.bad td { background: #fdecec; } tr.good td { background: #edf7ed; } tr.warn td { background: #fdf3e7; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; max-width: 100%; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.canary { color: #d62728; font-weight: bold; } .baseline { color: #1f77b4; font-weight: bold; }
footer { margin-top: 2em; color: #888; font-size: 0.8em; }
`

// htmlPage is the page. It must stay self-contained: no src or href to
// anything but data: URIs.
var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{"clock": func(t time.Time) string { return clock(t) },
	"css": HTMLStyle}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>birdwatch: {{.R.Canary}} {{.R.Generation}}: {{.Phase}}</title>
<style>
{{css}}</style>
</head>
<body>
{{template "rollout" .}}<footer>birdwatch report of {{.R.Canary}}{{with .Series}}; {{.}}{{end}}.</footer>
</body>
</html>
{{define "rollout"}}<h1>{{.R.Canary}}: canary <span class="canary">{{.R.Generation}}</span> vs baseline <span class="baseline">{{.R.Stable}}</span> <span class="badge {{.Badge}}">{{.Phase}}</span></h1>
<p class="facts">weight <b>{{.R.Weight}}%</b> · step {{.R.Step}}/{{.R.Steps}}{{with .Span}} · {{.}}{{end}}</p>
{{with .R.Message}}<p class="message">{{.}}</p>
{{end}}
<h2>Metrics</h2>
<table>
<tr><th>metric</th><th>result</th><th>canary</th><th>baseline</th><th>guard</th><th>evidence</th></tr>
{{range .Metrics}}<tr><td>{{.Name}}{{if .Critical}} <small>(critical)</small>{{end}}</td><td class="{{.Class}}">{{.Result}}</td><td class="num">{{.Canary}}</td><td class="num">{{.Baseline}}</td><td>{{.Guard}}</td><td>{{.Evidence}}</td></tr>
{{end}}</table>
{{with .R.Analysis}}<p class="facts">Score <b>{{printf "%.0f" .Score}}</b>, verdict <b>{{.Verdict}}</b> ({{.Judge}} judge) at {{clock .At}}.</p>
{{end}}
{{if .Charts}}<h2>Canary vs baseline over the rollout</h2>
<p class="facts"><span class="canary">red</span>: canary {{.R.Generation}} · <span class="baseline">blue</span>: baseline {{.R.Stable}} · grey dashes: guards · vertical lines: decisions · orange: the canary's traffic weight</p>
<div class="charts">
{{range .Charts}}<figure><img src="{{.Src}}" width="{{.Width}}" height="{{.Height}}" alt="{{.Title}}"></figure>
{{end}}</div>
{{end}}
{{if .Events}}<h2>Decisions</h2>
<table>
<tr><th>time (UTC)</th><th>since start</th><th>decision</th><th>step</th><th>weight</th><th>trigger</th><th>reason</th></tr>
{{range .Events}}<tr class="{{.Class}}"><td>{{.At}}</td><td class="num">{{.Elapsed}}</td><td>{{.Action}}</td><td class="num">{{.Step}}</td><td class="num">{{.Weight}}%</td><td>{{.Trigger}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
{{end}}
{{end}}`))
