package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
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
	pod   string
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
				events = append(events, scrapeEvent{t: t, pod: p.name, inc: inc, error: code == "500"})
			}
			fam.Series = append(fam.Series, s)
		}
	}
	return []promtest.Family{fam}, events
}

// truth is the number of events the scrapes in (since, end] saw, but
// those of the pods in leftOut.
func truth(events []scrapeEvent, since, end time.Time, errorsOnly bool, leftOut ...string) float64 {
	n := 0.0
	for _, e := range events {
		if e.t.After(since) && !e.t.After(end) && (e.error || !errorsOnly) && !slices.Contains(leftOut, e.pod) {
			n += e.inc
		}
	}
	return n
}

// droppedPods returns the pods named in a Dropped list (`pod="b": ...`).
func droppedPods(dropped []string) []string {
	var pods []string
	for _, d := range dropped {
		if name, _, ok := strings.Cut(strings.TrimPrefix(d, `{pod="`), `"}`); ok {
			pods = append(pods, name)
		}
	}
	return pods
}

// TestRawCountsMatchTruthOnPrometheus checks Measure's counts on a real
// Prometheus against the true increments the test wrote, at 15, 30 and
// 60 s scrape intervals and one-minute looks, one look at a time
// (Measure) and as one range (MeasureRange, for charts and per-step
// samples). Pod "a" runs throughout (its 500 series begins in the middle
// of a look, as client libraries create labelled series: counted from 0);
// pod "b" restarts, "c" appears and "d" vanishes: each is left out of
// exactly the look whose window it does not cover whole, with the reason,
// and every other look and pod is counted exactly. It also asks
// Prometheus for increase() over the same windows, the counts birdwatch
// used before, and shows they are off.
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
			// The looks each pod must be left out of, from the scenario:
			// b's first scrape after its restart at 17m, c's first scrape,
			// and for d the first look ending two scrapes or more after its
			// last scrape (before that it may still be scraped).
			firstScrapeFrom := func(d time.Duration) time.Time {
				at := 7 * time.Second
				for at < d {
					at += scrape
				}
				return t0.Add(at)
			}
			lookOf := func(t time.Time) time.Time { return t.Truncate(time.Minute).Add(time.Minute) }
			dLast := firstScrapeFrom(25*time.Minute + 10*time.Second).Add(-scrape)
			dLook := lookOf(dLast)
			for dLook.Sub(dLast) < 2*scrape {
				dLook = dLook.Add(time.Minute)
			}
			wantDropped := map[time.Time]string{
				lookOf(firstScrapeFrom(17 * time.Minute)):                "b counter reset",
				lookOf(firstScrapeFrom(21*time.Minute + 20*time.Second)): "c appeared mid-window",
				dLook: "d vanished mid-window",
			}
			var sumTruth, sumIncrease, absOff float64
			looks, missing, wrong := 0, 0, 0
			var notes []string
			leftOut := map[time.Time][]string{}
			for end := t0.Add(11 * time.Minute); !end.After(t0.Add(30 * time.Minute)); end = end.Add(time.Minute) {
				v := Vars{Version: "v1", Window: time.Minute}
				m, err := Measure(t.Context(), p, counterTemplate, v, end)
				if err != nil {
					t.Fatalf("look at %s: %v", end.Sub(t0), err)
				}
				want := wantDropped[end]
				pods := droppedPods(m.Dropped)
				leftOut[end] = pods
				switch {
				case want == "" && len(m.Dropped) > 0:
					t.Errorf("look at %s left out %q, want every pod counted", end.Sub(t0), m.Dropped)
				case want != "" && (len(m.Dropped) != 1 || !strings.HasPrefix(want, pods[0]+" ") ||
					!strings.Contains(m.Dropped[0], strings.TrimPrefix(want, pods[0]+" "))):
					t.Errorf("look at %s left out %q, want %s", end.Sub(t0), m.Dropped, want)
				}
				since := end.Add(-time.Minute)
				wantReq, wantErr := truth(events, since, end, false, pods...), truth(events, since, end, true, pods...)
				if !m.Raw || m.Requests != wantReq || m.Errors != wantErr || m.Skipped != "" {
					t.Errorf("look at %s: counted %v errors of %v requests (raw %v, skipped %q), the scrapes of the pods kept saw %v of %v",
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
				wantAll := truth(events, since, end, false)
				sumIncrease += inc
				absOff += math.Abs(inc - wantAll)
				if math.Abs(inc-wantAll) > 0.5 {
					wrong++
				}
			}
			rm, err := MeasureRange(t.Context(), p, counterTemplate, Vars{Version: "v1", Window: time.Minute},
				Range{Start: t0.Add(11 * time.Minute), End: t0.Add(30 * time.Minute), Step: time.Minute})
			if err != nil || !rm.Raw || len(rm.Requests) != looks || len(rm.Dropped) != len(wantDropped) {
				t.Fatalf("range: %d points, raw %v, left out %q, error %v; want %d raw points, %d left out", len(rm.Requests), rm.Raw, rm.Dropped, err, looks, len(wantDropped))
			}
			for _, pt := range rm.Requests {
				if want := truth(events, pt.T.Add(-time.Minute), pt.T, false, leftOut[pt.T]...); pt.V != want {
					t.Errorf("range point at %s: %v requests, the scrapes of the pods kept saw %v", pt.T.Sub(t0), pt.V, want)
				}
			}
			t.Logf("scrape %s, %d looks: raw counts equal the truth of the pods kept (%.0f requests), %d pod-looks left out; increase(): %d looks off, %d without a result, "+
				"mean |error| %.1f%% of the truth, total %.0f", scrape, looks, sumTruth, len(wantDropped), wrong, missing,
				100*absOff/sumTruth, sumIncrease)
			if wrong+missing < looks/2 {
				t.Errorf("increase() was off in only %d and missing in %d of %d looks: the data does not show extrapolation", wrong, missing, looks)
			}
			if !strings.Contains(strings.Join(notes, "\n"), "started in the window") {
				t.Errorf("no look noted a series started in the window; notes: %v", notes)
			}
		})
	}
}

// TestRawCountsBadInputOnPrometheus writes, per case (a version label),
// a healthy pod "good" and a pod "x" with one kind of bad input, scraped
// every 15 s, and measures the window (3m, 4m] on a real Prometheus: x is
// left out of both counts with its reason, and good is counted exactly
// (44 requests, 4 errors: 4 scrapes of +10 200s and +1 500). Bad input
// that cannot be pinned on a pod (a series without a pod label), or a
// window in which every pod is left out, skips the window whole: NaN
// counts with the reason, so the count test skips it and counts it as
// skipped.
func TestRawCountsBadInputOnPrometheus(t *testing.T) {
	type sample struct {
		at time.Duration
		v  float64
	}
	// counter is a counter scraped every 15 s in [from, to), growing by
	// step, with values replaced at some times.
	counter := func(from, to time.Duration, step float64, replace ...sample) []sample {
		var out []sample
		v := 0.0
		for at := from; at < to; at += 15 * time.Second {
			v += step
			val := v
			for _, r := range replace {
				if r.at == at {
					val = r.v
					if r.v >= 0 && !math.IsNaN(r.v) {
						v = r.v // a reset: the counter goes on from there
					}
				}
			}
			out = append(out, sample{at, val})
		}
		return out
	}
	series := func(name, version, pod, code string, samples []sample) promtest.Series {
		s := promtest.Series{Name: name, Labels: []promtest.Label{{Name: "version", Value: version}, {Name: "code", Value: code}}}
		if pod != "" {
			s.Labels = append(s.Labels, promtest.Label{Name: "pod", Value: pod})
		}
		for _, x := range samples {
			s.Samples = append(s.Samples, promtest.Sample{T: t0.Add(x.at), V: x.v})
		}
		return s
	}
	const all = 6 * time.Minute
	good := func(version string) []promtest.Series {
		return []promtest.Series{
			series("demo_requests_total", version, "good", "200", counter(0, all, 10)),
			series("demo_requests_total", version, "good", "500", counter(0, all, 1)),
		}
	}
	var reqs, others []promtest.Series
	add := func(version string, x ...promtest.Series) {
		reqs = append(reqs, good(version)...)
		reqs = append(reqs, x...)
	}
	add("appears", series("demo_requests_total", "appears", "x", "200", counter(200*time.Second, all, 10)))
	add("vanishes", series("demo_requests_total", "vanishes", "x", "200", counter(0, 200*time.Second, 10)))
	add("missing", series("demo_requests_total", "missing", "x", "200",
		append(counter(0, 175*time.Second, 10), counter(270*time.Second, all, 10)...)))
	add("reset", series("demo_requests_total", "reset", "x", "200", counter(0, all, 10, sample{210 * time.Second, 3})))
	add("nan", series("demo_requests_total", "nan", "x", "200", counter(0, all, 10, sample{210 * time.Second, math.NaN()})))
	add("negative", series("demo_requests_total", "negative", "x", "200", counter(0, all, 10, sample{210 * time.Second, -5})))
	add("more-errors", series("demo_requests_total", "more-errors", "x", "200", counter(0, all, 10)))
	others = append(others,
		series("other_errors_total", "more-errors", "good", "500", counter(0, all, 1)),
		series("other_errors_total", "more-errors", "x", "500", counter(0, all, 50)))
	add("more-errors-in-all", series("demo_requests_total", "more-errors-in-all", "x", "200", counter(0, all, 10)))
	others = append(others, series("other_errors_total", "more-errors-in-all", "", "500", counter(0, all, 50)))
	add("unlabelled-nan", series("demo_requests_total", "unlabelled-nan", "", "200", counter(0, all, 10, sample{210 * time.Second, math.NaN()})))
	// Only a pod that appears: nothing is left to count.
	reqs = append(reqs, series("demo_requests_total", "only-new", "x", "200", counter(200*time.Second, all, 10)))
	fams := []promtest.Family{{Name: "demo_requests", Type: "counter", Series: reqs}, {Name: "other_errors", Type: "counter", Series: others}}
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
	tests := []struct {
		name    string
		tmpl    templates.Template
		version string
		end     time.Duration
		dropped string // the reason x is left out with; "" none
		skipped string // the reason the window is skipped with; "" counted
	}{
		{"a pod appears mid-window", counterTemplate, "appears", 4 * time.Minute, `{pod="x"}: appeared mid-window: no sample in the 2 scrape intervals (30s) before the window, first at 2024-01-01T00:03:20Z`, ""},
		{"a pod vanishes mid-window", counterTemplate, "vanishes", 4 * time.Minute, `{pod="x"}: vanished mid-window: last sample at 2024-01-01T00:03:15Z`, ""},
		{"a pod not scraped in the window", counterTemplate, "missing", 4 * time.Minute, `{pod="x"}: vanished mid-window: last sample at 2024-01-01T00:02:45Z`, ""},
		{"the same pod back after the gap", counterTemplate, "missing", 5 * time.Minute, `{pod="x"}: appeared mid-window: no sample in the 2 scrape intervals (30s) before the window, first at 2024-01-01T00:04:30Z`, ""},
		{"a counter reset", counterTemplate, "reset", 4 * time.Minute, `{pod="x"}: series demo_requests_total: counter reset`, ""},
		{"a NaN sample", counterTemplate, "nan", 4 * time.Minute, `{pod="x"}: series demo_requests_total: value NaN at 2024-01-01T00:03:30Z is not a counter value`, ""},
		{"a negative counter", counterTemplate, "negative", 4 * time.Minute, `{pod="x"}: series demo_requests_total: negative value -5 at 2024-01-01T00:03:30Z`, ""},
		{"more errors than requests on one pod", mismatched, "more-errors", 4 * time.Minute, `{pod="x"}: more errors (200) than requests (40) in the window`, ""},
		{"more errors than requests in all, not per pod", mismatched, "more-errors-in-all", 4 * time.Minute, "", "more errors (200) than requests (84)"},
		{"a NaN in a series without a pod label", counterTemplate, "unlabelled-nan", 4 * time.Minute, "", `requests: series demo_requests_total{code="200", version="unlabelled-nan"}: value NaN at 2024-01-01T00:03:30Z is not a counter value`},
		{"every pod left out", counterTemplate, "only-new", 4 * time.Minute, `{pod="x"}: appeared mid-window`, "requests: every pod with samples in the window was left out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Measure(t.Context(), p, tc.tmpl, Vars{Version: tc.version, Window: time.Minute}, t0.Add(tc.end))
			if err != nil {
				t.Fatal(err)
			}
			if tc.dropped == "" && len(m.Dropped) > 0 || tc.dropped != "" && (len(m.Dropped) != 1 || !strings.HasPrefix(m.Dropped[0], tc.dropped)) {
				t.Errorf("left out %q, want one pod: %q", m.Dropped, tc.dropped)
			}
			if tc.skipped != "" {
				if !strings.Contains(m.Skipped, tc.skipped) || !math.IsNaN(m.Errors) || !math.IsNaN(m.Requests) || !math.IsNaN(m.Value) {
					t.Errorf("got %v of %v = %v, skipped %q; want NaN and a reason with %q", m.Errors, m.Requests, m.Value, m.Skipped, tc.skipped)
				}
				return
			}
			if m.Skipped != "" || m.Requests != 44 || m.Errors != 4 || !m.Raw {
				t.Errorf("got %v of %v (skipped %q, raw %v), want 4 of 44: the good pod's window", m.Errors, m.Requests, m.Skipped, m.Raw)
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

// TestRouterTemplatesRawCountsOnPrometheus checks the envoy-error-rate and
// nginx-error-rate templates, whose label_replace switch picks the
// version's series, on a real Prometheus at 15, 30 and 60 s scrapes: for
// the canary and the stable, over one-minute looks, the counts are read
// from raw samples and equal the true increments the test wrote (two
// proxy pods; a 5xx series begins with its first 5xx).
func TestRouterTemplatesRawCountsOnPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("six real Prometheus servers; runs in make test")
	}
	type side struct {
		version string
		labels  []promtest.Label
	}
	routers := []struct {
		template, metric, code string
		args                   map[string]string
		sides                  []side
	}{
		{"envoy-error-rate", "envoy_cluster_upstream_rq", "envoy_response_code",
			map[string]string{"stableCluster": "games_aleph-v1_80", "canaryCluster": "games_aleph-v2_80"},
			[]side{{"v1", []promtest.Label{{Name: "envoy_cluster_name", Value: "games_aleph-v1_80"}}},
				{"v2", []promtest.Label{{Name: "envoy_cluster_name", Value: "games_aleph-v2_80"}}}}},
		{"nginx-error-rate", "nginx_ingress_controller_requests", "status",
			map[string]string{"ingress": "aleph"},
			[]side{{"v1", []promtest.Label{{Name: "namespace", Value: "games"}, {Name: "ingress", Value: "aleph"}, {Name: "canary", Value: "-"}}},
				{"v2", []promtest.Label{{Name: "namespace", Value: "games"}, {Name: "ingress", Value: "aleph"}, {Name: "canary", Value: "games-aleph-canary-80"}}}}},
	}
	for _, rt := range routers {
		for _, scrape := range []time.Duration{15 * time.Second, 30 * time.Second, 60 * time.Second} {
			t.Run(rt.template+"/"+scrape.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(scrape.Seconds()), 2))
				fam := promtest.Family{Name: rt.metric, Type: "counter"}
				events := map[string][]scrapeEvent{}
				for _, sd := range rt.sides {
					for _, pod := range []string{"proxy-1", "proxy-2"} {
						for _, code := range []string{"200", "503"} {
							s := promtest.Series{Name: rt.metric, Labels: append(slices.Clone(sd.labels),
								promtest.Label{Name: rt.code, Value: code}, promtest.Label{Name: "pod", Value: pod})}
							v := 0.0
							for at := 7 * time.Second; at < 30*time.Minute; at += scrape {
								inc := float64(rng.IntN(30))
								if code == "503" {
									if at < 12*time.Minute+30*time.Second {
										continue // the 5xx series begins with its first 5xx
									}
									inc = float64(rng.IntN(3))
								}
								v += inc
								s.Samples = append(s.Samples, promtest.Sample{T: t0.Add(at), V: v})
								events[sd.version] = append(events[sd.version], scrapeEvent{t: t0.Add(at), pod: pod, inc: inc, error: code == "503"})
							}
							fam.Series = append(fam.Series, s)
						}
					}
				}
				om, err := promtest.OpenMetrics([]promtest.Family{fam})
				if err != nil {
					t.Fatal(err)
				}
				srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
				p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
				if err != nil {
					t.Fatal(err)
				}
				tmpl := mustMetric(t, rt.template)
				increaseOff := 0
				for _, sd := range rt.sides {
					for end := t0.Add(11 * time.Minute); !end.After(t0.Add(25 * time.Minute)); end = end.Add(time.Minute) {
						v := Vars{Namespace: "games", Version: sd.version, Stable: "v1", Canary: "v2", Window: time.Minute, Args: rt.args}
						m, err := Measure(t.Context(), p, tmpl, v, end)
						if err != nil {
							t.Fatalf("%s at %s: %v", sd.version, end.Sub(t0), err)
						}
						since := end.Add(-time.Minute)
						wantReq, wantErr := truth(events[sd.version], since, end, false), truth(events[sd.version], since, end, true)
						if !m.Raw || m.Requests != wantReq || m.Errors != wantErr || m.Skipped != "" || len(m.Dropped) > 0 {
							t.Errorf("%s at %s: counted %v errors of %v requests (raw %v, skipped %q, left out %q), the scrapes saw %v of %v",
								sd.version, end.Sub(t0), m.Errors, m.Requests, m.Raw, m.Skipped, m.Dropped, wantErr, wantReq)
						}
						if inc, err := p.Query(t.Context(), m.Queries[0], end); err != nil || math.Abs(inc-wantReq) > 0.5 {
							increaseOff++ // the query as written: increase() extrapolates, or no result at 60 s
						}
					}
				}
				t.Logf("%s, scrape %s: raw counts equal the truth for both versions; the query as written was off or empty in %d of 30 looks", rt.template, scrape, increaseOff)
			})
		}
	}
}
