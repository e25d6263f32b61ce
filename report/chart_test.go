package report

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// chartDir, when set (BIRDWATCH_CHART_DIR), receives the test charts, to
// look at them.
func keepChart(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := os.Getenv("BIRDWATCH_CHART_DIR")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pixelStats counts the pixels that are not white and the distinct colours
// of an image, and whether it holds the canary red and the baseline blue.
type pixelStats struct {
	nonWhite, colours   int
	hasCanary, hasBasel bool
}

func statsOf(img image.Image) pixelStats {
	var s pixelStats
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				s.nonWhite++
			}
			s.hasCanary = s.hasCanary || c == canaryColor
			s.hasBasel = s.hasBasel || c == baselineColor
		}
	}
	s.colours = len(seen)
	return s
}

func countColour(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == want {
				n++
			}
		}
	}
	return n
}

func TestChartPNG(t *testing.T) {
	empty := fixture(t, "rolledback")
	for i := range empty.Metrics {
		empty.Metrics[i].CanarySeries, empty.Metrics[i].BaselineSeries = nil, nil
		empty.Metrics[i].SeriesErr = "error querying: metrics provider unavailable"
	}
	tests := []struct {
		name       string
		report     Report
		metric     string
		opts       ChartOptions
		assertions func(t *testing.T, img image.Image, s pixelStats)
	}{
		{"rolled back error rate at the default size", fixture(t, "rolledback"), "error-rate", ChartOptions{},
			func(t *testing.T, img image.Image, s pixelStats) {
				if img.Bounds().Dx() != DefaultChartWidth || img.Bounds().Dy() != DefaultChartHeight {
					t.Errorf("size %v", img.Bounds())
				}
				if !s.hasCanary || !s.hasBasel {
					t.Errorf("canary red %v, baseline blue %v: want both", s.hasCanary, s.hasBasel)
				}
			}},
		{"promoted latency at Slack thumbnail size", fixture(t, "promoted"), "latency-p99", ChartOptions{Width: 360, Height: 225},
			func(t *testing.T, img image.Image, s pixelStats) {
				if img.Bounds().Dx() != 360 || img.Bounds().Dy() != 225 {
					t.Errorf("size %v", img.Bounds())
				}
				if !s.hasCanary || !s.hasBasel {
					t.Errorf("canary red %v, baseline blue %v: want both", s.hasCanary, s.hasBasel)
				}
			}},
		{"large chart", fixture(t, "promoted"), "error-rate", ChartOptions{Width: 1280, Height: 800},
			func(t *testing.T, img image.Image, _ pixelStats) {
				if img.Bounds().Dx() != 1280 || img.Bounds().Dy() != 800 {
					t.Errorf("size %v", img.Bounds())
				}
			}},
		{"no series: weight band and a note, no data lines", empty, "error-rate", ChartOptions{},
			func(t *testing.T, img image.Image, _ pixelStats) {
				// Only the legend's short thumbnails may be blue or red.
				for _, c := range []color.RGBA{canaryColor, baselineColor} {
					if n := countColour(img, c); n > 400 {
						t.Errorf("%d pixels of %v without a series", n, c)
					}
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ChartPNG(tc.report, tc.metric, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			keepChart(t, filepath.Base(t.Name())+".png", c.PNG)
			img, err := png.Decode(bytes.NewReader(c.PNG))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			s := statsOf(img)
			area := img.Bounds().Dx() * img.Bounds().Dy()
			// Not blank: ink on at least 3% of the pixels, in many shades
			// (anti-aliased text and lines), yet mostly background.
			if s.nonWhite < area*3/100 || s.nonWhite > area*60/100 || s.colours < 50 {
				t.Errorf("%d of %d pixels inked, %d colours: blank or solid", s.nonWhite, area, s.colours)
			}
			if c.Width != img.Bounds().Dx() || c.Height != img.Bounds().Dy() || c.Metric != tc.metric || c.Title == "" {
				t.Errorf("chart %q %dx%d %q", c.Metric, c.Width, c.Height, c.Title)
			}
			tc.assertions(t, img, s)
		})
	}
}

func TestChartsPNG(t *testing.T) {
	r := fixture(t, "rolledback")
	charts, err := ChartsPNG(r, ChartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 2 || charts[0].Metric != "error-rate" || charts[1].Metric != "latency-p99" {
		t.Fatalf("charts %d", len(charts))
	}
	if bytes.Equal(charts[0].PNG, charts[1].PNG) {
		t.Error("two metrics drew the same picture")
	}
	if _, err := ChartPNG(r, "nope", ChartOptions{}); !errors.Is(err, ErrUnknownMetric) {
		t.Errorf("unknown metric: %v", err)
	}
}

func BenchmarkChartPNG(b *testing.B) {
	r := fixture(b, "promoted")
	for b.Loop() {
		if _, err := ChartPNG(r, "error-rate", ChartOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestToXYBreaksGaps(t *testing.T) {
	at := func(s int) time.Time { return fixtureStart.Add(time.Duration(s) * time.Second) }
	pts := []metrics.Point{{T: at(0), V: 1}, {T: at(10), V: 2}, {T: at(20), V: 3}, {T: at(50), V: 4}, {T: at(60), V: math.NaN()}, {T: at(70), V: 5}}
	tests := []struct {
		name string
		step time.Duration
		want []int // segment lengths
	}{
		{"a missing step breaks the line", 10 * time.Second, []int{3, 1, 1}},
		{"unknown step: only NaN breaks", 0, []int{4, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, s := range segments(toXY(pts, fixtureStart, timeUnit{time.Second, "seconds"}, tc.step)) {
				got = append(got, len(s))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("segments %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi float64
		n      int
		want   []string
	}{
		{"seconds", 0, 30, 6, []string{"0", "5", "10", "15", "20", "25", "30"}},
		{"minutes", 0, 9.7, 6, []string{"0", "2", "4", "6", "8"}},
		{"percent", 0, 3.2, 4, []string{"0", "1", "2", "3"}},
		{"small values", 0, 0.8, 4, []string{"0", "0.2", "0.4", "0.6", "0.8"}},
		{"offset range", 95, 114, 4, []string{"95", "100", "105", "110"}},
		{"empty range", 1, 1, 4, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, tk := range (niceTicks{tc.n}).Ticks(tc.lo, tc.hi) {
				got = append(got, tk.Label)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ticks %v, want %v", got, tc.want)
			}
		})
	}
}
