package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"time"

	"github.com/birdwatch-gitops/birdwatch/report"
)

// page is the layout's data: the content (already rendered) and how the
// page refreshes.
type page struct {
	Title   string
	Body    template.HTML
	ETag    string
	Refresh time.Duration
	// Back links to the fleet.
	Back bool
}

// htmlOf marks markup this package rendered itself with html/template (or
// wrote as a constant) as safe.
func htmlOf(s string) template.HTML { return template.HTML(s) }

func notFoundHTML(key string) template.HTML {
	return htmlOf(`<h1>No canary ` + template.HTMLEscapeString(key) + `</h1><p>No spec under <code>.birdwatch/</code> names it. <a href="/">All canaries</a></p>`)
}

// liveScript fetches the page's content again every data-refresh seconds
// and swaps it in when its ETag changed; a failed fetch shows the "not
// updating" note until one succeeds. It is the pages' only script: the
// Content-Security-Policy allows it by its hash.
const liveScript = `(function () {
  var live = document.getElementById("live"), note = document.getElementById("offline");
  if (!live || !window.fetch) { return; }
  var every = (parseInt(live.getAttribute("data-refresh"), 10) || 10) * 1000, etag = live.getAttribute("data-etag");
  document.documentElement.className += " js";
  function tick() {
    var sep = location.search ? "&" : "?";
    fetch(location.pathname + location.search + sep + "fragment=1", {headers: {"If-None-Match": etag}, credentials: "same-origin", cache: "no-store"})
      .then(function (r) {
        if (r.status === 304) { return null; }
        if (r.status !== 200) { throw new Error("status " + r.status); }
        var next = r.headers.get("ETag");
        return r.text().then(function (html) { live.innerHTML = html; etag = next; live.setAttribute("data-etag", next); });
      })
      .then(function () { note.hidden = true; live.setAttribute("data-updated", new Date().toISOString()); },
            function () { note.hidden = false; })
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();`

// scriptHash is liveScript's CSP source expression.
var scriptHash = func() string {
	sum := sha256.Sum256([]byte(liveScript))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

// uiCSS adds the fleet table, sparklines and narrow screens to the report's style.
const uiCSS = `
body { max-width: 72em; }
nav { font-size: 0.9em; margin-bottom: 1em; } nav a { color: #1f77b4; }
.scroll { overflow-x: auto; }
.badge.live { background: #1f77b4; }
.problem { background: #fdecec; border-left: 4px solid #d62728; padding: 0.5em 0.8em; }
.updated { color: #888; font-size: 0.8em; }
#offline { background: #fdf3e7; border-left: 4px solid #e07b10; padding: 0.3em 0.8em; font-size: 0.85em; }
.weight { display: inline-block; width: 4em; height: 0.5em; background: #eee; vertical-align: middle; margin-left: 0.3em; }
.weight span { display: block; height: 100%; background: #e07b10; }
svg.spark { vertical-align: middle; background: #fafafa; border: 1px solid #eee; }
.sparks div { white-space: nowrap; font-size: 0.85em; }
td.err { color: #d62728; }
@media (max-width: 40em) {
  body { margin: 0.5em auto; font-size: 15px; }
  table.fleet thead { display: none; }
  table.fleet tr { display: block; border: 1px solid #ddd; margin-bottom: 0.8em; padding: 0.3em; }
  table.fleet td { display: block; border: none; padding: 0.15em 0.3em; }
  table.fleet td[data-label]::before { content: attr(data-label) ": "; color: #888; }
}
`

var funcs = template.FuncMap{"reportCSS": report.HTMLStyle, "uiCSS": func() template.CSS { return template.CSS(uiCSS) },
	"script": func() template.JS { return template.JS(liveScript) }, "seconds": func(d time.Duration) int { return int(d.Seconds()) }}

// layoutTemplate is every page's frame. Without JavaScript the page
// reloads itself every Refresh (the <noscript> refresh); with it, only
// #live is replaced.
var layoutTemplate = template.Must(template.New("layout").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
{{if .Refresh}}<noscript><meta http-equiv="refresh" content="{{seconds .Refresh}}"></noscript>
{{end}}<title>{{.Title}}</title>
<style>
{{reportCSS}}{{uiCSS}}</style>
</head>
<body>
{{if .Back}}<nav><a href="/">← all canaries</a></nav>
{{end}}<p id="offline" hidden>Not updating: birdwatch does not answer. Retrying.</p>
<main id="live" data-refresh="{{seconds .Refresh}}" data-etag="{{.ETag}}">
{{.Body}}</main>
{{if .Refresh}}<script>{{script}}</script>
{{end}}</body>
</html>
`))

// fleetTemplate is the fleet page's content.
var fleetTemplate = template.Must(template.New("fleet").Funcs(funcs).Parse(`<h1>Canaries</h1>
{{with .Problem}}<p class="problem">{{.}}</p>
{{end}}<p class="facts">{{.Summary}}{{with .ReadAt}} · read from Git at {{.}}{{end}}{{if .NoMetrics}} · no metrics backend configured: no sparklines{{end}}</p>
{{if .Rows}}<div class="scroll"><table class="fleet">
<thead><tr><th>canary</th><th>phase</th><th>stable → canary</th><th>step</th><th>weight</th><th>last decision</th><th>key metrics</th></tr></thead>
<tbody>
{{range .Rows}}<tr data-canary="{{.Key}}">
<td><a href="{{.Link}}">{{.Key}}</a></td>
<td data-label="phase"><span class="badge {{.Badge}}">{{.Phase}}</span></td>
{{if .Error}}<td class="err" colspan="5">{{.Error}}</td>
{{else}}<td data-label="versions"><span class="baseline">{{.Stable}}</span> → <span class="canary">{{.Canary}}</span></td>
<td data-label="step" class="num">{{.Step}}</td>
<td data-label="weight" class="num">{{.Weight}}%<span class="weight"><span style="width: {{.Weight}}%"></span></span></td>
<td data-label="last decision">{{with .Last}}<b>{{.}}</b> {{end}}<small>{{.LastAt}}</small>{{with .Message}}<br><small>{{.}}</small>{{end}}{{with .Routes}}<br><small>routes: {{.}}</small>{{end}}</td>
<td data-label="metrics" class="sparks">{{range .Sparks}}<div>{{if .SVG}}{{.SVG}}{{end}} {{.Name}} <span class="canary">{{.Canary}}</span> vs <span class="baseline">{{.Baseline}}</span>{{with .Err}} <small>({{.}})</small>{{end}}</div>{{end}}</td>
{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}`))

// rolloutTemplate wraps the report's content with the page's notes.
var rolloutTemplate = template.Must(template.New("rollout").Parse(`{{with .Problem}}<p class="problem">{{.}}</p>
{{end}}{{with .CanaryErr}}<h1>{{$.Key}}</h1><p class="problem">birdwatch cannot read this canary: {{.}}</p>
{{end}}{{with .ChartErr}}<p class="problem">{{.}}</p>
{{end}}{{if .NoMetrics}}<p class="facts">No metrics backend configured: no charts.</p>
{{end}}{{with .ReadAt}}<p class="updated">read from Git at {{.}}</p>
{{end}}`))

// writeRollout writes one rollout's content: notes, then the report.
func writeRollout(b *bytes.Buffer, v rolloutView) error {
	if err := rolloutTemplate.Execute(b, v); err != nil {
		return err
	}
	if v.Report == nil {
		return nil
	}
	return report.HTMLRollout(b, *v.Report, v.Charts)
}
