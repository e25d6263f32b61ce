package report

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// pointXY is a chart point; Y may be NaN (a gap).
type pointXY = plotter.XY

// toXY places series points on the time axis. Where more than 1.5 steps
// pass between two points (no data at the steps between), a NaN breaks
// the line, so a gap is not drawn as a slope.
func toXY(pts []metrics.Point, start time.Time, tu timeUnit, step time.Duration) []pointXY {
	out := make([]pointXY, 0, len(pts))
	for i, p := range pts {
		if i > 0 && step > 0 && p.T.Sub(pts[i-1].T) > step*3/2 {
			out = append(out, pointXY{X: tu.x(start, p.T), Y: math.NaN()})
		}
		out = append(out, pointXY{X: tu.x(start, p.T), Y: p.V})
	}
	return out
}

// addSeries adds a line broken at NaN gaps (single points become dots); it
// returns the largest finite value (0 if none).
func addSeries(p *plot.Plot, pts []pointXY, c color.Color, width vg.Length) float64 {
	ymax := 0.0
	style := lineStyle(c, width, 0)
	for _, seg := range segments(pts) {
		for _, q := range seg {
			ymax = max(ymax, q.Y)
		}
		if len(seg) == 1 {
			s, err := plotter.NewScatter(plotter.XYs(seg))
			if err != nil {
				continue
			}
			s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: width * 1.3, Shape: draw.CircleGlyph{}}
			p.Add(s)
			continue
		}
		l, err := plotter.NewLine(plotter.XYs(seg))
		if err != nil {
			continue
		}
		l.LineStyle = style
		p.Add(l)
	}
	return ymax
}

// segments splits pts at non-finite values.
func segments(pts []pointXY) [][]pointXY {
	var out [][]pointXY
	var cur []pointXY
	for _, q := range pts {
		if math.IsNaN(q.Y) || math.IsInf(q.Y, 0) || math.IsNaN(q.X) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, q)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// guide is a labelled horizontal line (a max or min guard).
type guide struct {
	y     float64
	label string
	style draw.LineStyle
	font  font.Font
}

// Plot implements plot.Plotter.
func (g *guide) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(g.y)
	if !c.ContainsY(y) {
		return
	}
	c.StrokeLine2(g.style, c.Min.X, y, c.Max.X, y)
	// Under the line: the rows of marker labels run along the top.
	ts := text.Style{Color: g.style.Color, Font: g.font, Handler: p.TextHandler, XAlign: draw.XRight, YAlign: draw.YTop}
	c.FillText(ts, vg.Point{X: c.Max.X - 4, Y: y - 2}, g.label)
}

// DataRange implements plot.DataRanger so the guard is always in view.
func (g *guide) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), g.y, g.y
}

// markers draws each decision as a vertical line over the whole panel,
// labelled at the top when labels is set; labels that would overlap are
// moved down a row.
type markers struct {
	events []labelledEvent
	start  time.Time
	tu     timeUnit
	font   font.Font
	width  vg.Length
	labels bool
}

// Plot implements plot.Plotter.
func (m *markers) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	var rowEnd []vg.Length // right edge of the last label in each row
	for _, e := range m.events {
		x := trX(m.tu.x(m.start, e.At))
		if !c.ContainsX(x) {
			continue
		}
		clr := actionColor(e.Action)
		c.StrokeLine2(lineStyle(clr, m.width, m.width*3), x, c.Min.Y, x, c.Max.Y)
		if !m.labels {
			continue
		}
		ts := text.Style{Color: clr, Font: m.font, Handler: p.TextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
		label := e.label
		w := ts.Width(label)
		lx, left, right := x+3, x+3, x+3+w
		if right > c.Max.X {
			lx, left, right, ts.XAlign = x-3, x-3-w, x-3, draw.XRight
		}
		row := 0
		for row < len(rowEnd) && rowEnd[row] > left {
			row++
		}
		if row == len(rowEnd) {
			rowEnd = append(rowEnd, 0)
		}
		rowEnd[row] = right + 4
		c.FillText(ts, vg.Point{X: lx, Y: c.Max.Y - 2 - vg.Length(row)*ts.Height(label)}, label)
	}
}

// legendRow is the legend, drawn in one row above the data area (in the
// blank line the title reserves), so it never hides data.
type legendRow struct {
	entries []legendEntry
	font    font.Font
	gap     vg.Length
}

// legendEntry is one legend item: a sample of the line style, then text.
type legendEntry struct {
	text  string
	style draw.LineStyle
}

// Plot implements plot.Plotter.
func (l *legendRow) Plot(c draw.Canvas, p *plot.Plot) {
	ts := text.Style{Color: color.Black, Font: l.font, Handler: p.TextHandler, XAlign: draw.XLeft, YAlign: draw.YCenter}
	lineH := ts.Height("Mg")
	mid := c.Max.Y + l.gap + lineH/2
	thumb := 1.6 * lineH
	x := c.Min.X
	for _, e := range l.entries {
		c.StrokeLine2(e.style, x, mid, x+thumb, mid)
		c.FillText(ts, vg.Point{X: x + thumb + l.gap/2, Y: mid}, e.text)
		x += thumb + l.gap/2 + ts.Width(e.text) + 2*l.gap
	}
}

// note writes a message in the middle of a panel.
type note struct {
	text string
	font font.Font
}

// Plot implements plot.Plotter.
func (n *note) Plot(c draw.Canvas, p *plot.Plot) {
	ts := text.Style{Color: neutralColor, Font: n.font, Handler: p.TextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
	c.FillText(ts, c.Center(), n.text)
}

// majorEvents keeps the decisions worth a marker, labelled: weight changes
// ("10%"), pauses and resumes, promotion, rollback and freezes; one per
// instant (the last of one invocation's decisions that is worth one).
func majorEvents(events []Event) []labelledEvent {
	var out []labelledEvent
	prevWeight := 0
	for _, e := range events {
		label := ""
		switch {
		case e.Action == "promote" || e.Action == "rollback" || e.Action == "freeze":
			label = e.Action
		case e.Weight != prevWeight:
			label = fmt.Sprintf("%d%%", e.Weight)
		case e.Action == "pause" || e.Action == "resume":
			label = e.Action
		}
		prevWeight = e.Weight
		if label == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].At.Equal(e.At) {
			out[n-1] = labelledEvent{e, label}
			continue
		}
		out = append(out, labelledEvent{e, label})
	}
	return out
}

// labelledEvent is a decision with its marker label.
type labelledEvent struct {
	Event
	label string
}

// actionColor colours a decision: red rollback, green promotion, cyan freeze.
func actionColor(action string) color.Color {
	switch action {
	case "rollback":
		return canaryColor
	case "promote":
		return promoteColor
	case "freeze":
		return freezeColor
	}
	return neutralColor
}
