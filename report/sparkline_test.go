package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

func TestSparkline(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		values []float64
		lo, hi float64
		want   string
	}{
		{"every height", []float64{0, 1, 2, 3, 4, 5, 6, 7}, 0, 7, "▁▂▃▄▅▆▇█"},
		{"gaps are spaces", []float64{0, nan, 7, math.Inf(1)}, 0, 7, "▁ █ "},
		{"clamped outside the scale", []float64{-5, 50}, 0, 10, "▁█"},
		{"flat scale is middle bars", []float64{3, 3}, 3, 3, "▄▄"},
		{"rounded to the nearest bar", []float64{0.49, 0.51}, 0, 7, "▁▂"},
		{"empty", nil, 0, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sparkline(tc.values, tc.lo, tc.hi); got != tc.want {
				t.Errorf("Sparkline(%v, %v, %v) = %q, want %q", tc.values, tc.lo, tc.hi, got, tc.want)
			}
		})
	}
}

func TestResample(t *testing.T) {
	at := func(s int) time.Time { return fixtureStart.Add(time.Duration(s) * time.Second) }
	pts := []metrics.Point{{T: at(-5), V: 100}, {T: at(0), V: 1}, {T: at(4), V: 3}, {T: at(12), V: math.NaN()}, {T: at(25), V: 8}, {T: at(30), V: 10}, {T: at(31), V: 100}}
	tests := []struct {
		name  string
		width int
		want  []float64
	}{
		{"three buckets: mean, gap, mean", 3, []float64{2, math.NaN(), 9}},
		{"one bucket", 1, []float64{5.5}},
		{"no width", 0, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Resample(pts, at(0), at(30), tc.width)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !(got[i] == tc.want[i] || math.IsNaN(got[i]) && math.IsNaN(tc.want[i])) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestHoldShortGaps(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		in     []float64
		maxGap int
		want   string
	}{
		{"one-cell holes filled", []float64{1, nan, 2, nan, 3}, 1, "1 1 2 2 3"},
		{"longer holes stay", []float64{1, nan, nan, 2}, 1, "1 1 NaN 2"},
		{"nothing before the first value", []float64{nan, 1, nan}, 1, "NaN 1 1"},
		{"no hold", []float64{1, nan}, 0, "1 NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			holdShortGaps(tc.in, tc.maxGap)
			got := strings.Trim(strings.ReplaceAll(fmt.Sprint(tc.in), "NaN", "NaN"), "[]")
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	noSeries := FromStatus(loadCanary(t, "v04"), loadStatus(t, "rolledback"), fixtureStart)
	noSeries.Metrics[1].SeriesErr = "error querying: no data"
	tests := []struct {
		name   string
		report Report
		opts   TerminalOptions
		// golden is the file under testdata/report; "" checks assertions only.
		golden     string
		assertions func(t *testing.T, got string)
	}{
		{"rolled back", fixture(t, "rolledback"), TerminalOptions{}, "terminal-rolledback.txt", func(t *testing.T, got string) {
			if strings.Contains(got, "\x1b[") {
				t.Error("colours without Color")
			}
		}},
		{"promoted, narrow", fixture(t, "promoted"), TerminalOptions{Width: 20}, "terminal-promoted.txt", nil},
		{"without series", noSeries, TerminalOptions{}, "terminal-noseries.txt", nil},
		{"not started", FromStatus(loadCanary(t, "v04"), nil, fixtureStart), TerminalOptions{}, "", func(t *testing.T, got string) {
			if got != "games/aleph  v04 vs v03  not started\n" {
				t.Errorf("got %q", got)
			}
		}},
		{"colours", fixture(t, "rolledback"), TerminalOptions{Color: true}, "", func(t *testing.T, got string) {
			for _, want := range []string{ansiRed + "v04" + ansiReset, ansiBlue + "v03" + ansiReset, ansiRed + "RolledBack", ansiRed + "High", ansiGreen + "Pass"} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			Terminal(&b, tc.report, tc.opts)
			if tc.golden != "" {
				goldenReport(t, tc.golden, b.String())
			}
			if tc.assertions != nil {
				tc.assertions(t, b.String())
			}
		})
	}
}
