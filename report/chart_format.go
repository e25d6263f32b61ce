package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

func joinNums(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = num(x)
	}
	return strings.Join(s, ", ")
}

// num prints a value with 4 significant digits, plainly ("0.1234", "212.5").
func num(v float64) string {
	if !finite(v) {
		return "0"
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	if err != nil {
		return "0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func hexColor(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// truncate shortens s to n runes, with an ellipsis when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// fmtDuration prints d rounded to the second without zero units: "1m",
// "1m30s", "2h", "0s".
func fmtDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// guardLine is a max or min guard as a chart draws it.
type guardLine struct {
	value  float64
	label  string
	inView bool
}

// guardLines are m's guards. A max guard more than 2.5 times above the
// data would squash the lines into the floor of the chart, so it is then
// only named (inView false).
func guardLines(m *MetricReport, dataMax float64) []guardLine {
	var out []guardLine
	for _, g := range []struct {
		name string
		v    *float64
	}{{"max", m.Max}, {"min", m.Min}} {
		if g.v == nil || !finite(*g.v) {
			continue
		}
		in := g.name == "min" || dataMax <= 0 || *g.v <= 2.5*dataMax
		out = append(out, guardLine{value: *g.v, label: g.name + " " + FormatValue(*g.v, m.Unit), inView: in})
	}
	return out
}
