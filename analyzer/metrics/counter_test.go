package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// pts builds samples at t0+sec[i] with values vals[i].
func pts(secs []int, vals ...float64) []Point {
	out := make([]Point, len(secs))
	for i, s := range secs {
		out[i] = Point{T: t0.Add(time.Duration(s) * time.Second), V: vals[i]}
	}
	return out
}

func TestCountWindow(t *testing.T) {
	since, end := t0.Add(60*time.Second), t0.Add(120*time.Second)
	every30 := []int{0, 30, 60, 90, 120, 150}
	tests := []struct {
		name       string
		series     []CounterSeries
		assertions func(t *testing.T, c CounterCount)
	}{
		{name: "steady counter: last at or before end minus last at or before since",
			series: []CounterSeries{{Labels: "a", Points: pts(every30, 0, 10, 20, 30, 40, 50)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 20 || c.Started != 0 || c.Resets != 0 || c.Silent != 0 || c.Skipped != nil {
					t.Errorf("got %+v, want 20 events and nothing to note", c)
				}
			}},
		{name: "scrapes off the window's edges: the window starts at the last scrape before it",
			series: []CounterSeries{{Labels: "a", Points: pts([]int{45, 105, 165}, 7, 19, 31)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 12 {
					t.Errorf("got %v, want 12 (19 at 105s minus 7 at 45s)", c.Value)
				}
			}},
		{name: "reset: the value after a decrease is all increase",
			series: []CounterSeries{{Labels: "a", Points: pts(every30, 0, 10, 20, 3, 8, 50)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 8 || c.Resets != 1 {
					t.Errorf("got %+v, want 8 events (3 then 5) and one reset", c)
				}
			}},
		{name: "series created in the window counts from 0",
			series: []CounterSeries{{Labels: "new", Points: pts([]int{90, 120}, 4, 6)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 6 || c.Started != 1 {
					t.Errorf("got %+v, want 6 events from one started series", c)
				}
			}},
		{name: "series gone in the window counts up to its last sample",
			series: []CounterSeries{{Labels: "gone", Points: pts([]int{0, 30, 60, 90}, 1, 2, 3, 9)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 6 || c.Silent != 0 {
					t.Errorf("got %+v, want 6 events", c)
				}
			}},
		{name: "series without a sample in the window adds 0 and is noted",
			series: []CounterSeries{{Labels: "quiet", Points: pts([]int{0, 30}, 5, 6)}, {Labels: "a", Points: pts(every30, 0, 1, 2, 3, 4, 5)}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 2 || c.Silent != 1 || c.Series != 2 {
					t.Errorf("got %+v, want 2 events and one silent series", c)
				}
			}},
		{name: "NaN sample: skipped, the window is not evidence",
			series: []CounterSeries{{Labels: `{pod="p1"}`, Points: pts(every30, 0, 1, 2, math.NaN(), 4, 5)}, {Labels: "b", Points: pts(every30, 0, 1, 2, 3, 4, 5)}},
			assertions: func(t *testing.T, c CounterCount) {
				if !math.IsNaN(c.Value) || len(c.Skipped) != 1 || !strings.Contains(c.Skipped[0], `{pod="p1"}`) || !strings.Contains(c.Skipped[0], "NaN") {
					t.Errorf("got %+v, want NaN and the series named", c)
				}
			}},
		{name: "negative value: skipped",
			series: []CounterSeries{{Labels: "neg", Points: pts(every30, 0, 1, -2, 3, 4, 5)}},
			assertions: func(t *testing.T, c CounterCount) {
				if !math.IsNaN(c.Value) || len(c.Skipped) != 1 || !strings.Contains(c.Skipped[0], "negative") {
					t.Errorf("got %+v, want NaN and the reason", c)
				}
			}},
		{name: "bad sample after the window is ignored",
			series: []CounterSeries{{Labels: "late", Points: pts(every30, 0, 1, 2, 3, 4, math.Inf(1))}},
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 2 || c.Skipped != nil {
					t.Errorf("got %+v, want 2", c)
				}
			}},
		{name: "no series: zero, Series 0",
			assertions: func(t *testing.T, c CounterCount) {
				if c.Value != 0 || c.Series != 0 {
					t.Errorf("got %+v", c)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.assertions(t, CountWindow(tc.series, since, end))
		})
	}
}

// TestCountWindowAddsUp: consecutive windows count every event once, so
// their counts add up to the count of their union, whatever the scrape
// offset; this is what the sequential judge's incremental looks rely on.
func TestCountWindowAddsUp(t *testing.T) {
	var p []Point
	v := 0.0
	for s := 7; s < 600; s += 45 {
		v += float64(s % 13)
		if s == 322 {
			v = 2 // reset
		}
		p = append(p, Point{T: t0.Add(time.Duration(s) * time.Second), V: v})
	}
	series := []CounterSeries{{Labels: "a", Points: p}}
	total := 0.0
	for w := 0; w < 9; w++ {
		total += CountWindow(series, t0.Add(time.Duration(w)*time.Minute), t0.Add(time.Duration(w+1)*time.Minute)).Value
	}
	if whole := CountWindow(series, t0, t0.Add(9*time.Minute)).Value; total != whole {
		t.Errorf("nine one-minute windows count %v, the nine minutes %v", total, whole)
	}
}

func TestParseCountExpr(t *testing.T) {
	tests := []struct {
		name, q string
		wantErr bool
		terms   int
		orSet   bool
		sel     string
	}{
		{name: "istio errors", q: `sum(increase(istio_requests_total{reporter="destination", response_code=~"5.."}[1m])) or vector(0)`,
			terms: 1, orSet: true, sel: `istio_requests_total{reporter="destination", response_code=~"5.."}`},
		{name: "requests", q: "sum(increase(x{a=\"}[(\"}[1m30s]))", terms: 1, sel: "x{a=\"}[(\"}"},
		{name: "difference", q: `sum(increase(c{v="1"}[5m])) - sum(increase(b{v="1",le="250"}[5m]))`, terms: 2, sel: `c{v="1"}`},
		{name: "parenthesised", q: `(sum(increase(c[5m])) + (sum(increase(d[5m])))) or vector(0)`, terms: 2, orSet: true},
		{name: "label-only selector", q: `sum(increase({__name__="c"}[5m]))`, terms: 1, sel: `{__name__="c"}`},
		{name: "comment", q: "sum(increase(c[5m])) # the count\n", terms: 1, sel: "c"},
		{name: "sum by", q: `sum by (pod) (increase(c[5m]))`, wantErr: true},
		{name: "rate", q: `sum(rate(c[5m]))`, wantErr: true},
		{name: "offset", q: `sum(increase(c[5m] offset 1m))`, wantErr: true},
		{name: "subquery", q: `sum(increase(c[5m:1m]))`, wantErr: true},
		{name: "scaled", q: `sum(increase(c[5m])) * 2`, wantErr: true},
		{name: "label_replace switch", q: `(sum(increase(c[5m]))) and on() label_replace(vector(1), "v", "a", "", "")`, wantErr: true},
		{name: "unclosed", q: `sum(increase(c{a="b"[5m]))`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := parseCountExpr(tc.q)
			if tc.wantErr {
				if !errors.Is(err, errNotCountExpr) {
					t.Fatalf("parse %q = %+v, %v; want errNotCountExpr", tc.q, e, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, term := range e.terms {
				if term.sub != nil {
					n += len(term.sub.terms)
				} else {
					n++
				}
			}
			if n != tc.terms || e.orSet != tc.orSet || (tc.sel != "" && e.terms[0].selector != tc.sel) {
				t.Errorf("parse %q = %+v", tc.q, e)
			}
		})
	}
}

// TestEmbeddedCountTemplatesAreRaw: every count query of the embedded
// Prometheus templates is read from raw samples, but Envoy's and NGINX's,
// whose label_replace switch picks the version's series.
func TestEmbeddedCountTemplatesAreRaw(t *testing.T) {
	asWritten := map[string]bool{"envoy-error-rate": true, "nginx-error-rate": true, "envoy-latency-p99": true, "nginx-latency-p99": true}
	for _, name := range templates.Names() {
		tmpl := mustMetric(t, name)
		if tmpl.ProviderType() != "prometheus" {
			continue
		}
		args := map[string]string{}
		for a := range tmpl.Args {
			args[a] = "250"
		}
		for field, q := range map[string]string{"errors": tmpl.Errors, "requests": tmpl.Requests} {
			if q == "" {
				continue
			}
			expr, err := RenderDialect(PromQL, q, placeholderVars("v1", args))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseCountExpr(expr)
			if (err == nil) == asWritten[name] {
				t.Errorf("%s %s: read raw %v, want %v (%v)", name, field, err == nil, !asWritten[name], err)
			}
		}
	}
}

// refusingCounter answers instant queries with 7 but refuses raw samples,
// as a backend that cannot answer a range selector does.
type refusingCounter struct{ queries []string }

func (r *refusingCounter) Query(_ context.Context, expr string, _ time.Time) (float64, error) {
	r.queries = append(r.queries, expr)
	return 7, nil
}

func (r *refusingCounter) CounterSamples(context.Context, string, time.Time, time.Time) ([]CounterSeries, []string, error) {
	return nil, nil, fmt.Errorf("%w: result type vector, want a range vector of raw samples", ErrQuery)
}

func TestMeasureCountsAsWrittenWhenRawIsRefused(t *testing.T) {
	p := &refusingCounter{}
	tmpl := templates.Template{Name: "c", Unit: "percent",
		Errors:   `sum(increase(c{v="{{ .Version }}",code="500"}[{{ .Window }}]))`,
		Requests: `sum(increase(c{v="{{ .Version }}"}[{{ .Window }}]))`}
	m, err := Measure(t.Context(), p, tmpl, Vars{Version: "v1", Window: time.Minute}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Raw || m.Requests != 7 || len(p.queries) != 2 || len(m.Notes) != 2 || !strings.Contains(m.Notes[0], "raw samples refused") {
		t.Errorf("got %+v after queries %q", m, p.queries)
	}
}

// fixedCounter serves the same raw series for every selector.
type fixedCounter struct{ series []CounterSeries }

func (f fixedCounter) Query(context.Context, string, time.Time) (float64, error) {
	return 0, errors.New("fixedCounter: no instant queries")
}

func (f fixedCounter) CounterSamples(_ context.Context, _ string, start, end time.Time) ([]CounterSeries, []string, error) {
	return clip(f.series, start, end), nil, nil
}

// TestMeasureScrapeGapIsNoData: a window in which no series has a sample
// observed nothing, which is no data, not zero requests.
func TestMeasureScrapeGapIsNoData(t *testing.T) {
	p := fixedCounter{series: []CounterSeries{{Labels: "a", Points: pts([]int{0, 30, 60, 150, 180}, 0, 5, 10, 25, 30)}}}
	tmpl := templates.Template{Name: "c", Unit: "percent",
		Errors:   `sum(increase(c{v="{{ .Version }}",code="500"}[{{ .Window }}])) or vector(0)`,
		Requests: `sum(increase(c{v="{{ .Version }}"}[{{ .Window }}]))`}
	v := Vars{Version: "v1", Window: time.Minute}
	if m, err := Measure(t.Context(), p, tmpl, v, t0.Add(2*time.Minute)); !errors.Is(err, ErrNoData) {
		t.Errorf("window (60s, 120s] without a sample: %+v, %v; want ErrNoData", m, err)
	}
	m, err := Measure(t.Context(), p, tmpl, v, t0.Add(3*time.Minute))
	if err != nil || m.Requests != 20 || !m.Raw {
		t.Errorf("window (120s, 180s]: %+v, %v; want the 20 requests since the sample at 60s", m, err)
	}
}
