package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ErrUnknownMetric is returned for a metric name the report does not have.
var ErrUnknownMetric = errors.New("no such metric in the report")

// Default chart size in pixels: at Slack's 360-pixel thumbnail width the
// text is still about 10 pixels high.
const (
	DefaultChartWidth  = 640
	DefaultChartHeight = 400
)

// ChartOptions size a chart. The zero value gives DefaultChartWidth x
// DefaultChartHeight pixels.
type ChartOptions struct {
	// Width and Height in pixels; 0 means the default. Text is sized for
	// the width, so a larger chart is a sharper one, not a busier one.
	Width, Height int
}

// Chart is one rendered chart: a PNG image of one metric.
type Chart struct {
	// Metric is the metric's name (safe to use in a file name only after
	// sanitizing: it comes from the spec).
	Metric string
	// Title describes the chart in words, for alt text and captions.
	Title string
	// PNG is the encoded image.
	PNG []byte
	// Width and Height are the image's size in pixels.
	Width, Height int
}

// Colours shared by every renderer: the canary red, the baseline blue.
var (
	canaryColor   = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	baselineColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	guardColor    = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	weightFill    = color.RGBA{R: 0xff, G: 0xbf, B: 0x80, A: 0xff}
	weightLine    = color.RGBA{R: 0xe0, G: 0x7b, B: 0x10, A: 0xff}
	promoteColor  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	neutralColor  = color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff}
	freezeColor   = color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}
)

// ChartsPNG draws one chart per metric of r, in spec order.
func ChartsPNG(r Report, o ChartOptions) ([]Chart, error) {
	out := make([]Chart, 0, len(r.Metrics))
	for _, m := range r.Metrics {
		c, err := ChartPNG(r, m.Name, o)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ChartPNG draws the named metric of r: canary and baseline over the
// rollout, the max/min guards, each decision as a marker, and under it the
// canary weight as a step band, on one time axis. A metric without series
// is drawn with its weight band and a "no data" note. Errors wrap
// ErrUnknownMetric or come from rendering.
func ChartPNG(r Report, metric string, o ChartOptions) (Chart, error) {
	m := r.metric(metric)
	if m == nil {
		return Chart{}, fmt.Errorf("chart %q: %w", metric, ErrUnknownMetric)
	}
	w, h := o.Width, o.Height
	if w <= 0 {
		w = DefaultChartWidth
	}
	if h <= 0 {
		h = DefaultChartHeight
	}
	sc := newScale(w)
	tu := chooseTimeUnit(r.End.Sub(r.Start))
	top := metricPlot(r, m, tu, sc)
	bottom := weightPlot(r, tu, sc)

	img := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	split := dc.Min.Y + (dc.Max.Y-dc.Min.Y)*0.30
	pad := sc.px(6)
	topC := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: dc.Min.X + pad, Y: split}, Max: vg.Point{X: dc.Max.X - pad, Y: dc.Max.Y - pad}}}
	botC := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: dc.Min.X + pad, Y: dc.Min.Y + pad}, Max: vg.Point{X: dc.Max.X - pad, Y: split}}}
	alignX(top, &topC, bottom, &botC)
	top.Draw(topC)
	bottom.Draw(botC)

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return Chart{}, fmt.Errorf("encode chart %q: %w", metric, err)
	}
	return Chart{Metric: m.Name, Title: chartTitle(r, m), PNG: buf.Bytes(), Width: w, Height: h}, nil
}

// alignX shifts the two canvases so that both plots' data areas span the
// same x range, whatever the widths of their y tick labels.
func alignX(a *plot.Plot, ac *draw.Canvas, b *plot.Plot, bc *draw.Canvas) {
	da, db := a.DataCanvas(*ac), b.DataCanvas(*bc)
	left := max(da.Min.X, db.Min.X)
	right := min(da.Max.X, db.Max.X)
	ac.Min.X += left - da.Min.X
	ac.Max.X -= da.Max.X - right
	bc.Min.X += left - db.Min.X
	bc.Max.X -= db.Max.X - right
}

// Text sizes in pixels at the default width: 640 pixels shown 360 wide
// keep them at 11 and 10 pixels.
const (
	titleSize = 20
	textSize  = 18
)

// scale sizes text and lines for a chart width.
type scale struct{ f float64 }

func newScale(width int) scale { return scale{f: float64(width) / DefaultChartWidth} }

func (s scale) px(n float64) vg.Length { return vg.Length(n * s.f) }

// font returns Liberation Sans at n pixels (at the default width).
func (s scale) font(n float64) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, s.px(n))
}

// style sets a plot's fonts, sizes and padding for legibility when small.
func (s scale) style(p *plot.Plot) {
	p.Title.TextStyle.Font = font.From(font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 700}, s.px(titleSize))
	p.Title.Padding = s.px(6)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = s.font(textSize)
		ax.Tick.Label.Font = s.font(textSize)
		ax.LineStyle.Width = s.px(1)
		ax.Tick.LineStyle.Width = s.px(1)
		ax.Tick.Length = s.px(5)
		ax.Padding = s.px(2)
		ax.Label.Padding = s.px(3)
	}
}

// timeUnit is the unit of the x axis: seconds, minutes or hours since the start.
type timeUnit struct {
	d    time.Duration
	name string
}

func chooseTimeUnit(span time.Duration) timeUnit {
	switch {
	case span <= 3*time.Minute:
		return timeUnit{time.Second, "seconds"}
	case span <= 3*time.Hour:
		return timeUnit{time.Minute, "minutes"}
	}
	return timeUnit{time.Hour, "hours"}
}

// x is t as a position on the axis: units since start.
func (u timeUnit) x(start, t time.Time) float64 { return float64(t.Sub(start)) / float64(u.d) }

func (u timeUnit) label(start time.Time) string {
	if start.IsZero() {
		return u.name
	}
	return fmt.Sprintf("%s since %s", u.name, start.UTC().Format("2006-01-02 15:04:05Z"))
}

// metricPlot is the upper panel: canary and baseline lines, guards, markers.
func metricPlot(r Report, m *MetricReport, tu timeUnit, sc scale) *plot.Plot {
	p := plot.New()
	sc.style(p)
	p.Title.Text = chartTitle(r, m) + "\n " // the second line holds the legend
	p.Y.Label.Text = unitLabel(m)
	p.Y.Tick.Marker = niceTicks{4}
	p.X.Tick.Marker = niceTicks{6}
	p.X.Tick.Label.Color = color.Transparent // the weight panel below carries the time axis
	p.X.Min, p.X.Max = 0, tu.x(r.Start, r.End)
	p.Add(plotter.NewGrid())
	ymax := 0.0
	legend := &legendRow{font: sc.font(textSize - 1), gap: sc.px(8)}
	for _, s := range []struct {
		name  string
		pts   []pointXY
		color color.Color
		width float64
	}{
		{"baseline " + r.Stable, toXY(m.BaselineSeries, r.Start, tu, r.SeriesStep), baselineColor, 2.5},
		{"canary " + r.Generation, toXY(m.CanarySeries, r.Start, tu, r.SeriesStep), canaryColor, 3.5},
	} {
		ymax = max(ymax, addSeries(p, s.pts, s.color, sc.px(s.width)))
		legend.entries = append(legend.entries, legendEntry{s.name, lineStyle(s.color, sc.px(s.width), 0)})
	}
	for _, g := range guardLines(m, ymax) {
		if !g.inView {
			legend.entries = append(legend.entries, legendEntry{g.label + " (above)", lineStyle(guardColor, sc.px(2), sc.px(8))})
			continue
		}
		ymax = max(ymax, g.value)
		p.Add(&guide{y: g.value, label: g.label, style: lineStyle(guardColor, sc.px(2), sc.px(8)), font: sc.font(textSize - 1)})
	}
	p.Add(&markers{events: majorEvents(r.Events), start: r.Start, tu: tu, font: sc.font(textSize - 1), width: sc.px(1.5), labels: true})
	if len(m.CanarySeries)+len(m.BaselineSeries) == 0 {
		p.Add(&note{text: noDataText(m), font: sc.font(textSize)})
	}
	p.Add(legend)
	p.Y.Min = math.Min(0, p.Y.Min)
	if ymax <= 0 {
		ymax = 1
	}
	p.Y.Max = ymax * 1.25 // headroom for the marker labels
	return p
}

// weightPlot is the lower panel: the committed canary weight as a filled step line.
func weightPlot(r Report, tu timeUnit, sc scale) *plot.Plot {
	p := plot.New()
	sc.style(p)
	p.X.Label.Text = tu.label(r.Start)
	p.X.Tick.Marker = niceTicks{6}
	p.Y.Label.Text = "weight %"
	p.X.Min, p.X.Max = 0, tu.x(r.Start, r.End)
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 50, Label: "50"}, {Value: 100, Label: "100"}})
	p.Add(plotter.NewGrid())
	if pts := weightSteps(r, tu); len(pts) > 1 {
		l, err := plotter.NewLine(pts)
		if err == nil {
			l.StepStyle = plotter.PostStep
			l.FillColor = weightFill
			l.LineStyle = lineStyle(weightLine, sc.px(2), 0)
			p.Add(l)
		}
	}
	p.Add(&markers{events: majorEvents(r.Events), start: r.Start, tu: tu, font: sc.font(textSize - 1), width: sc.px(1.5)})
	return p
}

// niceTicks are about n ticks at 1, 2, 2.5 or 5 times a power of ten,
// labelled as people write numbers ("750", "0.5", "2.5").
type niceTicks struct{ n int }

// Ticks implements plot.Ticker.
func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || t.n <= 0 || !finite(lo) || !finite(hi) {
		return nil
	}
	raw := (hi - lo) / float64(t.n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step); i*step <= hi+step*1e-9; i++ {
		v := i * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 6, 64)})
	}
	return ticks
}

// weightSteps is the weight after each event, held until the next, to End.
func weightSteps(r Report, tu timeUnit) plotter.XYs {
	var pts plotter.XYs
	w := 0
	for _, e := range r.Events {
		pts = append(pts, plotter.XY{X: tu.x(r.Start, e.At), Y: float64(e.Weight)})
		w = e.Weight
	}
	if len(pts) > 0 {
		pts = append(pts, plotter.XY{X: tu.x(r.Start, r.End), Y: float64(w)})
	}
	return pts
}

// chartTitle names the metric, the versions and the last classification.
func chartTitle(r Report, m *MetricReport) string {
	t := fmt.Sprintf("%s: canary %s vs baseline %s", m.Name, orDash(r.Generation), orDash(r.Stable))
	if m.Classification != "" {
		t += " · " + m.Classification
	}
	return t
}

// unitLabel is the y axis label: the unit spelled for people.
func unitLabel(m *MetricReport) string {
	switch m.Unit {
	case "percent", "%":
		return m.Name + " (%)"
	case "":
		return m.Name
	}
	return fmt.Sprintf("%s (%s)", m.Name, m.Unit)
}

func noDataText(m *MetricReport) string {
	if m.SeriesErr != "" {
		return "no data: " + truncate(m.SeriesErr, 60)
	}
	return "no series fetched"
}

func lineStyle(c color.Color, width, dash vg.Length) draw.LineStyle {
	ls := draw.LineStyle{Color: c, Width: width}
	if dash > 0 {
		ls.Dashes = []vg.Length{dash, dash / 2}
	}
	return ls
}
