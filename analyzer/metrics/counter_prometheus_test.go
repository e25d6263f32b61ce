package metrics

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// counterTemplate counts demo_requests_total of one version, 500s as errors,
// in the shape Measure reads from raw samples.
var counterTemplate = templates.Template{Name: "demo-error-rate", Unit: "percent",
	Errors:   `sum(increase(demo_requests_total{version="{{ .Version }}", code="500"}[{{ .Window }}])) or vector(0)`,
	Requests: `sum(increase(demo_requests_total{version="{{ .Version }}"}[{{ .Window }}]))`}

// scrapeEvent is what one scrape of one series saw: inc new events (the
// truth), so the written counter value is the running sum (from 0 again
// after a reset).
type scrapeEvent struct {
	t     time.Time
	inc   float64
	error bool
}

// scrapedCounters writes version v1's counters as a Prometheus scraping
// every scrape (first scrape 7s after t0, so looks on the minute never
// fall on a scrape) would store them, and returns every scrape's true
// increment. Pods: "a" throughout, "b" restarts at 17m (its counters
// start from 0 again), "c" starts at 21m20s (its series begin in the
// middle of a look), "d" is gone after 25m10s; a pod's 500 series begins
// with its first 500, as client libraries create labelled series.
func scrapedCounters(scrape time.Duration, seed uint64) ([]promtest.Family, []scrapeEvent) {
	rng := rand.New(rand.NewPCG(seed, 1))
	fam := promtest.Family{Name: "demo_requests", Type: "counter"}
	var events []scrapeEvent
	pods := []struct {
		name       string
		from, to   time.Duration
		reset      time.Duration
		errorsFrom time.Duration
	}{
		{"a", 0, 40 * time.Minute, 0, 12*time.Minute + 30*time.Second},
		{"b", 0, 40 * time.Minute, 17 * time.Minute, 0},
		{"c", 21*time.Minute + 20*time.Second, 40 * time.Minute, 0, 21*time.Minute + 20*time.Second},
		{"d", 0, 25*time.Minute + 10*time.Second, 0, 5 * time.Minute},
	}
	for _, p := range pods {
		for _, code := range []string{"200", "500"} {
			s := promtest.Series{Name: "demo_requests_total", Labels: []promtest.Label{
				{Name: "version", Value: "v1"}, {Name: "pod", Value: p.name}, {Name: "code", Value: code}}}
			value, reset := 0.0, false
			for at := 7 * time.Second; at < 40*time.Minute; at += scrape {
				if at < p.from || at > p.to || (code == "500" && at < p.errorsFrom) {
					continue
				}
				inc := float64(rng.IntN(40))
				if code == "500" {
					inc = float64(rng.IntN(4))
				}
				if p.reset > 0 && at >= p.reset && !reset {
					value, reset = 0, true // restarted right after the previous scrape
				}
				value += inc
				t := t0.Add(at)
				s.Samples = append(s.Samples, promtest.Sample{T: t, V: value})
				events = append(events, scrapeEvent{t: t, inc: inc, error: code == "500"})
			}
			fam.Series = append(fam.Series, s)
		}
	}
	return []promtest.Family{fam}, events
}

// truth is the number of events the scrapes in (since, end] saw.
func truth(events []scrapeEvent, since, end time.Time, errorsOnly bool) float64 {
	n := 0.0
	for _, e := range events {
		if e.t.After(since) && !e.t.After(end) && (e.error || !errorsOnly) {
			n += e.inc
		}
	}
	return n
}

// TestRawCountsMatchTruthOnPrometheus checks Measure's counts on a real
// Prometheus against the true increments the test wrote, at 15, 30 and
// 60 s scrape intervals and one-minute looks, over a counter reset, a pod
// that starts in the middle of a look, one that goes away and 500 series
// that begin with their first 500, one look at a time (Measure) and as
// one range (MeasureRange, for charts and per-step samples). It also asks Prometheus for increase()
// over the same windows, the counts birdwatch used before, and shows they
// are off.
func TestRawCountsMatchTruthOnPrometheus(t *testing.T) {
	for _, scrape := range []time.Duration{15 * time.Second, 30 * time.Second, 60 * time.Second} {
		t.Run(scrape.String(), func(t *testing.T) {
			fams, events := scrapedCounters(scrape, uint64(scrape.Seconds()))
			om, err := promtest.OpenMetrics(fams)
			if err != nil {
				t.Fatal(err)
			}
			srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
			p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			var sumTruth, sumIncrease, absOff float64
			looks, missing, wrong := 0, 0, 0
			var notes []string
			for end := t0.Add(11 * time.Minute); !end.After(t0.Add(30 * time.Minute)); end = end.Add(time.Minute) {
				v := Vars{Version: "v1", Window: time.Minute}
				m, err := Measure(t.Context(), p, counterTemplate, v, end)
				if err != nil {
					t.Fatalf("look at %s: %v", end.Sub(t0), err)
				}
				since := end.Add(-time.Minute)
				wantReq, wantErr := truth(events, since, end, false), truth(events, since, end, true)
				if !m.Raw || m.Requests != wantReq || m.Errors != wantErr || m.Skipped != "" {
					t.Errorf("look at %s: counted %v errors of %v requests (raw %v, skipped %q), the scrapes saw %v of %v",
						end.Sub(t0), m.Errors, m.Requests, m.Raw, m.Skipped, wantErr, wantReq)
				}
				notes = append(notes, m.Notes...)
				looks++
				sumTruth += wantReq
				inc, err := p.Query(t.Context(), `sum(increase(demo_requests_total{version="v1"}[1m]))`, end)
				if err != nil {
					missing++ // no series has two samples in the range
					continue
				}
				sumIncrease += inc
				absOff += math.Abs(inc - wantReq)
				if math.Abs(inc-wantReq) > 0.5 {
					wrong++
				}
			}
			rm, err := MeasureRange(t.Context(), p, counterTemplate, Vars{Version: "v1", Window: time.Minute},
				Range{Start: t0.Add(11 * time.Minute), End: t0.Add(30 * time.Minute), Step: time.Minute})
			if err != nil || !rm.Raw || len(rm.Requests) != looks {
				t.Fatalf("range: %d points, raw %v, error %v; want %d raw points", len(rm.Requests), rm.Raw, err, looks)
			}
			for _, pt := range rm.Requests {
				if want := truth(events, pt.T.Add(-time.Minute), pt.T, false); pt.V != want {
					t.Errorf("range point at %s: %v requests, the scrapes saw %v", pt.T.Sub(t0), pt.V, want)
				}
			}
			t.Logf("scrape %s, %d looks: raw counts equal the truth (%.0f requests); increase(): %d looks off, %d without a result, "+
				"mean |error| %.1f%% of the truth, total %.0f of %.0f", scrape, looks, sumTruth, wrong, missing,
				100*absOff/sumTruth, sumIncrease, sumTruth)
			if wrong+missing < looks/2 {
				t.Errorf("increase() was off in only %d and missing in %d of %d looks: the data does not show extrapolation", wrong, missing, looks)
			}
			for _, want := range []string{"started in the window", "counter resets"} {
				if !strings.Contains(strings.Join(notes, "\n"), want) {
					t.Errorf("no look noted %q; notes: %v", want, notes)
				}
			}
		})
	}
}

// TestRawCountsBadSeriesOnPrometheus writes counters no exporter should
// produce (a NaN, a negative value) and counts that cannot be right (more
// errors than requests): the window's counts are NaN, with the reason,
// so a count test skips them instead of judging them.
func TestRawCountsBadSeriesOnPrometheus(t *testing.T) {
	series := func(version, pod, code string, vals ...float64) promtest.Series {
		s := promtest.Series{Name: "demo_requests_total", Labels: []promtest.Label{
			{Name: "version", Value: version}, {Name: "pod", Value: pod}, {Name: "code", Value: code}}}
		for i, v := range vals {
			s.Samples = append(s.Samples, promtest.Sample{T: t0.Add(time.Duration(i) * 30 * time.Second), V: v})
		}
		return s
	}
	fams := []promtest.Family{{Name: "demo_requests", Type: "counter", Series: []promtest.Series{
		series("nan", "a", "200", 0, 10, 20, math.NaN(), 40, 50),
		series("nan", "a", "500", 0, 1, 2, 3, 4, 5),
		series("negative", "a", "200", 0, 10, 20, -5, 40, 50),
		series("good", "a", "200", 0, 10, 20, 30, 40, 50),
		series("good", "a", "500", 0, 0, 1, 1, 2, 2),
	}}, {Name: "other_errors", Type: "counter", Series: []promtest.Series{
		{Name: "other_errors_total", Labels: []promtest.Label{{Name: "version", Value: "good"}},
			Samples: []promtest.Sample{{T: t0, V: 0}, {T: t0.Add(time.Minute), V: 100}, {T: t0.Add(2 * time.Minute), V: 200}}},
	}}}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	mismatched := counterTemplate
	mismatched.Errors = `sum(increase(other_errors_total{version="{{ .Version }}"}[{{ .Window }}]))`
	end := t0.Add(150 * time.Second)
	tests := []struct {
		name    string
		tmpl    templates.Template
		version string
		want    string // in Skipped; "" means counted
	}{
		{"NaN sample", counterTemplate, "nan", "NaN"},
		{"negative counter", counterTemplate, "negative", "negative value -5"},
		{"more errors than requests", mismatched, "good", "more errors (100) than requests (21)"},
		{"good data is counted", counterTemplate, "good", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Measure(t.Context(), p, tc.tmpl, Vars{Version: tc.version, Window: time.Minute}, end)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if m.Skipped != "" || m.Requests != 21 || m.Errors != 1 {
					t.Errorf("got %v of %v (skipped %q), want 1 of 21 (20 + 1 from the 500 series)", m.Errors, m.Requests, m.Skipped)
				}
				return
			}
			if !strings.Contains(m.Skipped, tc.want) || !math.IsNaN(m.Errors) || !math.IsNaN(m.Requests) || !math.IsNaN(m.Value) {
				t.Errorf("got %v of %v = %v, skipped %q; want NaN and a reason with %q", m.Errors, m.Requests, m.Value, m.Skipped, tc.want)
			}
		})
	}
}

// queryOnly hides every method of a provider but Query, so Measure runs
// count queries as written (increase()), as it did before raw counts.
type queryOnly struct{ Provider }

// BenchmarkMeasureCounts measures the error-rate template (errors and
// requests) of one version over a 1m and a 10m window on a local
// Prometheus holding the Istio test hour (7 versions, 15 s scrapes): raw
// counts (two range-selector queries, the window plus CounterLookback of
// raw samples) against increase() as written (two instant queries).
func BenchmarkMeasureCounts(b *testing.B) {
	_, om := istioData(b)
	srv := promtest.Start(b, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	tmpl := mustMetric(b, "istio-error-rate")
	at := t0.Add(30 * time.Minute)
	for _, window := range []time.Duration{time.Minute, 10 * time.Minute} {
		for _, mode := range []struct {
			name string
			p    Provider
		}{{"raw", p}, {"increase", queryOnly{p}}} {
			b.Run(mode.name+"/"+window.String(), func(b *testing.B) {
				v := Vars{Service: "aleph", Namespace: "games", Version: "v04", Window: window}
				for b.Loop() {
					m, err := Measure(b.Context(), mode.p, tmpl, v, at)
					if err != nil || m.Raw != (mode.name == "raw") {
						b.Fatalf("%v (raw %v)", err, m.Raw)
					}
				}
			})
		}
	}
}
