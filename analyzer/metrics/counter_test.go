package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
	"github.com/prometheus/common/model"
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

// TestCountWindowPods: a pod is counted only when its samples cover the
// window whole; otherwise it is left out, named, with its reason.
func TestCountWindowPods(t *testing.T) {
	since, end := t0.Add(60*time.Second), t0.Add(120*time.Second)
	every15 := func(from, to int, step float64) []Point {
		var out []Point
		v := 0.0
		for s := from; s <= to; s += 15 {
			v += step
			out = append(out, Point{T: t0.Add(time.Duration(s) * time.Second), V: v})
		}
		return out
	}
	without := func(p []Point, secs ...int) []Point {
		return slices.DeleteFunc(slices.Clone(p), func(x Point) bool {
			return slices.Contains(secs, int(x.T.Sub(t0)/time.Second))
		})
	}
	steady := CounterSeries{Labels: `{pod="a"}`, Pod: `{pod="a"}`, Points: every15(0, 150, 10)}
	tests := []struct {
		name    string
		x       CounterSeries
		value   float64
		dropped string
	}{
		{"a steady second pod is counted", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: every15(0, 150, 1)}, 44, ""},
		{"appeared", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: every15(75, 150, 1)}, 40, `{pod="b"} appeared mid-window`},
		{"back after more than two scrape intervals", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: without(every15(0, 150, 1), 30, 45, 60)}, 40, `{pod="b"} appeared mid-window`},
		{"one missed scrape at the start is tolerated", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: without(every15(0, 150, 1), 60)}, 45, ""}, // the missed scrape's event shows at 75 s
		{"vanished", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: every15(0, 90, 1)}, 40, `{pod="b"} vanished mid-window`},
		{"gone before the window adds 0, unremarked", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: every15(0, 15, 1)}, 40, ""},
		{"reset", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: pts([]int{30, 45, 60, 75, 90, 105, 120}, 5, 6, 7, 1, 2, 3, 4)}, 40, `{pod="b"} series {pod="b"}: counter reset`},
		{"NaN", CounterSeries{Labels: `{pod="b"}`, Pod: `{pod="b"}`, Points: pts([]int{45, 60, 75, 90, 105, 120}, 1, 2, math.NaN(), 4, 5, 6)}, 40, `{pod="b"} series {pod="b"}: value NaN`},
		{"a pod's new series counts from 0", CounterSeries{Labels: `{pod="a",code="500"}`, Pod: `{pod="a"}`, Points: pts([]int{90, 105, 120}, 2, 3, 3)}, 43, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CountWindow([]CounterSeries{steady, tc.x}, since, end)
			if c.Value != tc.value || (tc.dropped == "") != (len(c.Dropped) == 0) || tc.dropped != "" && !strings.HasPrefix(c.Dropped[0], tc.dropped) {
				t.Errorf("got %v, left out %q; want %v, %q", c.Value, c.Dropped, tc.value, tc.dropped)
			}
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
	sw := func(a, b string) string {
		return `(label_replace(vector(1), "v", "` + a + `", "", "") and on(v) label_replace(vector(1), "v", "` + b + `", "", ""))`
	}
	envoy := `(sum(increase(c{cluster="canary"}[1m])) or vector(0)) and on() ` + sw("%s", "v2") +
		` or (sum(increase(c{cluster="stable"}[1m])) or vector(0)) unless on() ` + sw("%s", "v2")
	tests := []struct {
		name, q string
		wantErr bool
		sums    int    // sum(increase()) terms read
		orZero  bool   // "or vector(0)" at the top
		sel     string // first selector
	}{
		{name: "istio errors", q: `sum(increase(istio_requests_total{reporter="destination", response_code=~"5.."}[1m])) or vector(0)`,
			sums: 1, orZero: true, sel: `istio_requests_total{reporter="destination", response_code=~"5.."}`},
		{name: "requests", q: "sum(increase(x{a=\"}[(\"}[1m30s]))", sums: 1, sel: "x{a=\"}[(\"}"},
		{name: "difference", q: `sum(increase(c{v="1"}[5m])) - sum(increase(b{v="1",le="250"}[5m]))`, sums: 2, sel: `c{v="1"}`},
		{name: "parenthesised", q: `(sum(increase(c[5m])) + (sum(increase(d[5m])))) or vector(0)`, sums: 2, orZero: true},
		{name: "label-only selector", q: `sum(increase({__name__="c"}[5m]))`, sums: 1, sel: `{__name__="c"}`},
		{name: "comment", q: "sum(increase(c[5m])) # the count\n", sums: 1, sel: "c"},
		{name: "version switch, canary side", q: fmt.Sprintf(envoy, "v2", "v2"), sums: 1, orZero: true, sel: `c{cluster="canary"}`},
		{name: "version switch, stable side", q: fmt.Sprintf(envoy, "v1", "v1"), sums: 1, orZero: true, sel: `c{cluster="stable"}`},
		{name: "version switch with an escaped quote", q: fmt.Sprintf(envoy, `v\"2`, `v\"2`), sums: 1, orZero: true, sel: `c{cluster="stable"}`},
		{name: "switch value with $ (label_replace expands it)", q: fmt.Sprintf(envoy, "$1", "v2"), wantErr: true},
		{name: "switch on another label", q: `sum(increase(c[1m])) and on() (label_replace(vector(1), "v", "a", "", "") and on(w) label_replace(vector(1), "v", "a", "", ""))`, wantErr: true},
		{name: "switch with a regex", q: `sum(increase(c[1m])) and on() (label_replace(vector(1), "v", "a", "src", "(.*)") and on(v) label_replace(vector(1), "v", "a", "", ""))`, wantErr: true},
		{name: "and with a series", q: `sum(increase(c[5m])) and on() sum(increase(d[5m]))`, wantErr: true},
		{name: "sum by", q: `sum by (pod) (increase(c[5m]))`, wantErr: true},
		{name: "rate", q: `sum(rate(c[5m]))`, wantErr: true},
		{name: "offset", q: `sum(increase(c[5m] offset 1m))`, wantErr: true},
		{name: "subquery", q: `sum(increase(c[5m:1m]))`, wantErr: true},
		{name: "scaled", q: `sum(increase(c[5m])) * 2`, wantErr: true},
		{name: "single label_replace", q: `(sum(increase(c[5m]))) and on() label_replace(vector(1), "v", "a", "", "")`, wantErr: true},
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
			sums := e.sums()
			orZero := e.op == opOr && e.r.op == opNum && e.r.num == 0
			if len(sums) != tc.sums || orZero != tc.orZero || (tc.sel != "" && sums[0].selector != tc.sel) {
				t.Errorf("parse %q: %d sums, or vector(0) %v, first %q", tc.q, len(sums), orZero, sums[0].selector)
			}
		})
	}
}

// TestEmbeddedCountTemplatesAreRaw: every count query of the embedded
// Prometheus templates is read from raw samples, for the canary and for
// the stable version (Envoy's and NGINX's version switch picks a
// different series for each).
func TestEmbeddedCountTemplatesAreRaw(t *testing.T) {
	for _, name := range templates.Names() {
		tmpl := mustMetric(t, name)
		if tmpl.ProviderType() != "prometheus" {
			continue
		}
		args := map[string]string{}
		for a := range tmpl.Args {
			args[a] = "arg-" + a
		}
		for field, q := range map[string]string{"errors": tmpl.Errors, "requests": tmpl.Requests} {
			if q == "" {
				continue
			}
			selectors := map[string]bool{}
			for _, version := range []string{"canary", "stable"} {
				expr, err := RenderDialect(PromQL, q, placeholderVars(version, args))
				if err != nil {
					t.Fatal(err)
				}
				e, err := parseCountExpr(expr)
				if err != nil {
					t.Errorf("%s %s for the %s: not read raw: %v", name, field, version, err)
					continue
				}
				for _, s := range e.sums() {
					selectors[s.selector] = true
				}
			}
			if strings.Contains(q, "label_replace") && len(selectors) != 2 {
				t.Errorf("%s %s: the canary and the stable read %d selectors, want 2: %v", name, field, len(selectors), selectors)
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
	if m.Raw || m.Requests != 7 || len(p.queries) != 2 || len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "raw samples refused") {
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

// TestPodOfIgnoresInstance: a scrape target that exports several versions'
// series (an ingress controller, a gateway) is not a pod, so a version's
// first series there counts from 0 instead of leaving the target out as a
// pod that appeared (the demo's v04 lost its first errors that way).
func TestPodOfIgnoresInstance(t *testing.T) {
	tests := []struct {
		name string
		m    model.Metric
		want string
	}{
		{"pod", model.Metric{"pod": "aleph-v04-1", "instance": "10.0.0.1:15020"}, `{pod="aleph-v04-1"}`},
		{"older relabeling", model.Metric{"kubernetes_pod_name": "aleph-v04-1"}, `{kubernetes_pod_name="aleph-v04-1"}`},
		{"instance only", model.Metric{"instance": "ingress-nginx:10254", "canary": "aleph-v04"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodOf(tc.m); got != tc.want {
				t.Errorf("PodOf(%v) = %q, want %q", tc.m, got, tc.want)
			}
		})
	}
	first := CounterSeries{Labels: `{instance="ingress-nginx:10254",code="500"}`,
		Pod: PodOf(model.Metric{"instance": "ingress-nginx:10254"}), Points: pts([]int{90, 105, 120}, 2, 3, 3)}
	if c := CountWindow([]CounterSeries{first}, t0.Add(60*time.Second), t0.Add(120*time.Second)); c.Value != 3 || len(c.Dropped) != 0 {
		t.Errorf("a version's first series on a shared target: got %v, left out %q; want 3 counted", c.Value, c.Dropped)
	}
}
