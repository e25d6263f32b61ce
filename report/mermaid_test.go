package report

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

var updateReport = flag.Bool("update-report", false, "rewrite the golden files in testdata/report/")

// goldenReport compares got with testdata/report/name, or rewrites it with -update-report.
func goldenReport(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "report", name)
	if *updateReport {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update-report to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./report -update-report and review the diff):\n%s", name, got)
	}
}

func TestReportMarkdownGolden(t *testing.T) {
	notStarted := FromStatus(loadCanary(t, "v04"), nil, fixtureStart)
	hostile := fixture(t, "rolledback")
	hostile.Canary = "games/al|eph"
	hostile.Generation = "v04`\n```"
	hostile.Metrics[0].Name = `err"or %%{init} <b>*rate*</b>`
	hostile.Metrics[0].Reason = "line\nbreak | pipe"
	hostile.Message = "# not a heading [link](x)"
	tests := []struct {
		name   string
		report Report
	}{
		{"rolledback", fixture(t, "rolledback")},
		{"promoted", fixture(t, "promoted")},
		{"not-started", notStarted},
		{"escaping", hostile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ReportMarkdown(tc.report)
			goldenReport(t, tc.name+".md", got)
			assertMermaidWellFormed(t, got)
		})
	}
}

// assertMermaidWellFormed checks what GitHub's renderer needs of each
// block: the chart type, quoted texts without quotes inside, and as many
// values in every line as there are x-axis categories.
func assertMermaidWellFormed(t *testing.T, md string) {
	t.Helper()
	blocks := regexp.MustCompile("(?s)```mermaid\n(.*?)```").FindAllStringSubmatch(md, -1)
	if strings.Count(md, "```") != 2*len(blocks) {
		t.Errorf("unbalanced code fences: %d fences for %d blocks", strings.Count(md, "```"), len(blocks))
	}
	for _, b := range blocks {
		lines := strings.Split(strings.TrimSpace(b[1]), "\n")
		if len(lines) < 6 || !strings.HasPrefix(lines[0], "%%{init:") || lines[1] != "xychart-beta" {
			t.Errorf("block does not start with the directive and xychart-beta:\n%s", b[1])
			continue
		}
		var categories int
		for _, l := range lines[2:] {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "title "):
				if strings.Count(l, `"`) != 2 {
					t.Errorf("title %q", l)
				}
			case strings.HasPrefix(l, "x-axis "):
				categories = len(strings.Split(l[strings.Index(l, "[")+1:len(l)-1], ","))
			case strings.HasPrefix(l, "y-axis "):
				if !regexp.MustCompile(`^y-axis "[^"]*" -?[0-9.]+ --> [0-9.]+$`).MatchString(l) {
					t.Errorf("y-axis %q", l)
				}
			case strings.HasPrefix(l, "line "):
				if n := len(strings.Split(l, ",")); n != categories || !regexp.MustCompile(`^line \[(-?[0-9.]+(, )?)+\]$`).MatchString(l) {
					t.Errorf("line with %d values for %d categories: %q", n, categories, l)
				}
			default:
				t.Errorf("unexpected line %q", l)
			}
		}
	}
}

func TestMermaid(t *testing.T) {
	tests := []struct {
		name       string
		report     func(t *testing.T) Report
		assertions func(t *testing.T, got string)
	}{
		{"a chart per metric, the failed one first", func(t *testing.T) Report {
			r := fixture(t, "rolledback")
			r.Metrics[0], r.Metrics[1] = r.Metrics[1], r.Metrics[0]
			return r
		}, func(t *testing.T, got string) {
			if strings.Count(got, "xychart-beta") != 2 || strings.Index(got, "**error-rate**") > strings.Index(got, "**latency-p99**") {
				t.Errorf("got\n%s", got)
			}
		}},
		{"no series: no chart", func(t *testing.T) Report {
			return FromStatus(loadCanary(t, "v04"), loadStatus(t, "rolledback"), fixtureStart)
		}, func(t *testing.T, got string) {
			if got != "" {
				t.Errorf("got %q", got)
			}
		}},
		{"a canary that never had a value: no chart", func(t *testing.T) Report {
			r := fixture(t, "rolledback")
			for i := range r.Metrics {
				for j := range r.Metrics[i].CanarySeries {
					r.Metrics[i].CanarySeries[j].V = math.NaN()
				}
			}
			return r
		}, func(t *testing.T, got string) {
			if got != "" {
				t.Errorf("got %q", got)
			}
		}},
		{"at most MermaidPoints points, from the canary's first value", func(t *testing.T) Report { return fixture(t, "promoted") },
			func(t *testing.T, got string) {
				for _, l := range strings.Split(got, "\n") {
					if strings.HasPrefix(l, "    line [") && strings.Count(l, ",")+1 != MermaidPoints {
						t.Errorf("%d points: %q", strings.Count(l, ",")+1, l)
					}
					if strings.HasPrefix(l, "    x-axis") && !strings.Contains(l, `["1.5", `) {
						t.Errorf("x axis does not start at the canary's first value (1.5 minutes): %q", l)
					}
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Mermaid(tc.report(t))
			tc.assertions(t, got)
			assertMermaidWellFormed(t, got)
		})
	}
}

func TestBucketMeansAndGaps(t *testing.T) {
	at := func(s int) time.Time { return fixtureStart.Add(time.Duration(s) * time.Second) }
	nan := math.NaN()
	tests := []struct {
		name string
		pts  []metrics.Point
		n    int
		want []float64
	}{
		{"one point per bucket", []metrics.Point{{T: at(0), V: 1}, {T: at(10), V: 2}, {T: at(20), V: 3}}, 3, []float64{1, 2, 3}},
		{"two points averaged", []metrics.Point{{T: at(0), V: 1}, {T: at(4), V: 3}, {T: at(20), V: 5}}, 2, []float64{2, 5}},
		{"NaN values ignored, empty bucket from neighbours", []metrics.Point{{T: at(0), V: 2}, {T: at(10), V: nan}, {T: at(20), V: 4}}, 3, []float64{2, 3, 4}},
		{"empty edge takes its one neighbour", []metrics.Point{{T: at(10), V: 5}, {T: at(20), V: 7}}, 3, []float64{5, 5, 7}},
		{"points outside the span are ignored", []metrics.Point{{T: at(-30), V: 100}, {T: at(0), V: 1}, {T: at(20), V: 1}, {T: at(90), V: 100}}, 2, []float64{1, 1}},
		{"nothing at all is zeros", []metrics.Point{{T: at(0), V: nan}}, 2, []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bucketMeans(tc.pts, at(0), at(20), tc.n)
			fillGaps(got)
			for i := range tc.want {
				if math.Abs(got[i]-tc.want[i]) > 1e-12 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestMermaidText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "error-rate: canary v04 (ms)", "error-rate: canary v04 (ms)"},
		{"quotes and backticks", "a\"b`c", "a_b_c"},
		{"directive", "%%{init}%%", "%__init_%_"},
		{"markup", "<b>x</b>", "_b_x_/b_"},
		{"newline", "a\nb", "a_b"},
		{"non-ASCII letters", "Größe", "Gr__e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mermaidText(tc.in); got != tc.want {
				t.Errorf("mermaidText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {0.123456, "0.1235"}, {212.49, "212.5"}, {123456, "123500"}, {-2.5, "-2.5"}, {math.NaN(), "0"}, {math.Inf(1), "0"}}
	for _, tc := range tests {
		if got := num(tc.in); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
