package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// demoBounds are the finite bucket bounds of the demo histogram, in ms.
var demoBounds = []float64{25, 50, 100, 250, 500, 1000}

// bucketTemplate reads demo_latency_ms of one version in the shape of
// istio-latency-buckets.
var bucketTemplate = templates.Template{Name: "demo-latency-buckets", Unit: "ms",
	Buckets: `sum by (le) (increase(demo_latency_ms_bucket{version="{{ .Version }}"}[{{ .Window }}]))`}

// bucketEvent is what one scrape of one pod saw: inc new requests in bucket
// i (not cumulative; i = len(demoBounds) is +Inf).
type bucketEvent struct {
	t   time.Time
	pod string
	i   int
	inc float64
}

// scrapedHistograms writes version v1's latency histogram as a Prometheus
// scraping every scrape (first scrape 7 s after t0) would store it, and
// returns every scrape's true increments. Pods: "a" throughout, "b"
// restarts at 17m (its counters start from 0 again), "c" starts at
// 21m20s, "d" is gone after 25m10s.
func scrapedHistograms(scrape time.Duration, seed uint64) ([]promtest.Family, []bucketEvent) {
	rng := rand.New(rand.NewPCG(seed, 2))
	fam := promtest.Family{Name: "demo_latency_ms", Type: "histogram"}
	var events []bucketEvent
	pods := []struct {
		name     string
		from, to time.Duration
		reset    time.Duration
	}{
		{"a", 0, 40 * time.Minute, 0},
		{"b", 0, 40 * time.Minute, 17 * time.Minute},
		{"c", 21*time.Minute + 20*time.Second, 40 * time.Minute, 0},
		{"d", 0, 25*time.Minute + 10*time.Second, 0},
	}
	for _, p := range pods {
		labels := []promtest.Label{{Name: "version", Value: "v1"}, {Name: "pod", Value: p.name}}
		buckets := make([]promtest.Series, len(demoBounds)+1)
		for i := range buckets {
			le := "+Inf"
			if i < len(demoBounds) {
				le = strconv.FormatFloat(demoBounds[i], 'g', -1, 64)
			}
			buckets[i] = promtest.Series{Name: "demo_latency_ms_bucket",
				Labels: append(slices.Clone(labels), promtest.Label{Name: "le", Value: le})}
		}
		count := promtest.Series{Name: "demo_latency_ms_count", Labels: labels}
		sum := promtest.Series{Name: "demo_latency_ms_sum", Labels: labels}
		cum := make([]float64, len(buckets))
		total, reset := 0.0, false
		for at := 7 * time.Second; at < 40*time.Minute; at += scrape {
			if at < p.from || at > p.to {
				continue
			}
			if p.reset > 0 && at >= p.reset && !reset {
				cum, total, reset = make([]float64, len(buckets)), 0, true
			}
			t := t0.Add(at)
			inc := make([]float64, len(buckets))
			for range rng.IntN(60) {
				x := 80 * math.Exp(0.8*rng.NormFloat64())
				i, _ := slices.BinarySearch(demoBounds, x)
				inc[i]++
				total += x
			}
			run := 0.0
			for i := range buckets {
				run += inc[i]
				cum[i] += run
				events = append(events, bucketEvent{t: t, pod: p.name, i: i, inc: inc[i]})
			}
			for i := range buckets {
				buckets[i].Samples = append(buckets[i].Samples, promtest.Sample{T: t, V: cum[i]})
			}
			count.Samples = append(count.Samples, promtest.Sample{T: t, V: cum[len(cum)-1]})
			sum.Samples = append(sum.Samples, promtest.Sample{T: t, V: total})
		}
		fam.Series = append(fam.Series, buckets...)
		fam.Series = append(fam.Series, count, sum)
	}
	return []promtest.Family{fam}, events
}

// bucketTruth is the cumulative histogram of the requests the scrapes in
// (since, end] saw, on demoBounds and +Inf, but those of the pods in
// leftOut.
func bucketTruth(events []bucketEvent, since, end time.Time, leftOut ...string) []float64 {
	out := make([]float64, len(demoBounds)+1)
	for _, e := range events {
		if e.t.After(since) && !e.t.After(end) && !slices.Contains(leftOut, e.pod) {
			for j := e.i; j < len(out); j++ {
				out[j] += e.inc
			}
		}
	}
	return out
}

// TestBucketsMatchTruthOnPrometheus checks Measure's histogram on a real
// Prometheus against the true per-bucket increments the test wrote, at 15,
// 30 and 60 s scrape intervals and one-minute looks, over a counter reset,
// a pod that starts in the middle of a look and one that goes away (each
// left out of every bucket of the look it does not cover whole, see
// CountWindow): every le's count equals the truth of the pods kept. Where
// no pod was left out and no series went silent in the look, Prometheus'
// own histogram_quantile of the raw
// differences (bucket - bucket offset 1m) equals the measured histogram's
// Quantile.
func TestBucketsMatchTruthOnPrometheus(t *testing.T) {
	for _, scrape := range []time.Duration{15 * time.Second, 30 * time.Second, 60 * time.Second} {
		t.Run(scrape.String(), func(t *testing.T) {
			fams, events := scrapedHistograms(scrape, uint64(scrape.Seconds()))
			om, err := promtest.OpenMetrics(fams)
			if err != nil {
				t.Fatal(err)
			}
			srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
			p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			looks, compared := 0, 0
			var notes []string
			wantBounds := append(slices.Clone(demoBounds), math.Inf(1))
			for end := t0.Add(11 * time.Minute); !end.After(t0.Add(30 * time.Minute)); end = end.Add(time.Minute) {
				m, err := Measure(t.Context(), p, bucketTemplate, Vars{Version: "v1", Window: time.Minute}, end)
				if err != nil {
					t.Fatalf("look at %s: %v", end.Sub(t0), err)
				}
				looks++
				var leftOut []string
				for _, d := range m.Dropped {
					leftOut = append(leftOut, droppedPods([]string{strings.TrimPrefix(d, "buckets ")})...)
					notes = append(notes, d)
				}
				want := bucketTruth(events, end.Add(-time.Minute), end, leftOut...)
				if !m.HasBuckets || m.Skipped != "" || !slices.Equal(m.Buckets.Bounds, wantBounds) || !slices.Equal(m.Buckets.Counts, want) {
					t.Errorf("look at %s: histogram %v on %v (skipped %q), the scrapes saw %v",
						end.Sub(t0), m.Buckets.Counts, m.Buckets.Bounds, m.Skipped, want)
				}
				notes = append(notes, m.Notes...)
				if len(m.Notes) > 0 || len(m.Dropped) > 0 {
					continue
				}
				q, err := p.Query(t.Context(), `histogram_quantile(0.99, sum by (le) (demo_latency_ms_bucket{version="v1"}`+
					` - demo_latency_ms_bucket{version="v1"} offset 1m))`, end)
				if err != nil {
					t.Fatalf("look at %s: %v", end.Sub(t0), err)
				}
				compared++
				if got := m.Buckets.Quantile(0.99); math.Abs(got-q) > 1e-9*q {
					t.Errorf("look at %s: p99 %v, Prometheus' histogram_quantile says %v", end.Sub(t0), got, q)
				}
			}
			if compared < looks/2 {
				t.Errorf("only %d of %d looks compared with histogram_quantile", compared, looks)
			}
			for _, want := range []string{`{pod="b"}: series demo_latency_ms_bucket`, `{pod="c"}: appeared mid-window`, `{pod="d"}: vanished mid-window`} {
				if !strings.Contains(strings.Join(notes, "\n"), want) {
					t.Errorf("no look noted %q; notes: %v", want, notes)
				}
			}
		})
	}
}

// TestBucketsBadSeriesOnPrometheus writes histograms no exporter should
// produce: the window's histogram is not evidence, and Skipped says why.
func TestBucketsBadSeriesOnPrometheus(t *testing.T) {
	bucket := func(version, le string, vals ...float64) promtest.Series {
		s := promtest.Series{Name: "demo_latency_ms_bucket", Labels: []promtest.Label{
			{Name: "version", Value: version}, {Name: "le", Value: le}}}
		for i, v := range vals {
			s.Samples = append(s.Samples, promtest.Sample{T: t0.Add(time.Duration(i) * 30 * time.Second), V: v})
		}
		return s
	}
	fams := []promtest.Family{{Name: "demo_latency_ms", Type: "histogram", Series: []promtest.Series{
		bucket("good", "100", 0, 5, 10, 15, 20, 25), bucket("good", "+Inf", 0, 10, 20, 30, 40, 50),
		bucket("noinf", "100", 0, 5, 10, 15, 20, 25), bucket("noinf", "250", 0, 10, 20, 30, 40, 50),
		// le=100 grows faster than +Inf: not a cumulative histogram.
		bucket("nonmonotone", "100", 0, 5, 10, 15, 40, 60), bucket("nonmonotone", "+Inf", 0, 10, 20, 30, 40, 50),
		bucket("nan", "100", 0, 5, 10, math.NaN(), 20, 25), bucket("nan", "+Inf", 0, 10, 20, 30, 40, 50),
		// +Inf decreases: a counter reset (counted from 0 again), not bad input.
		bucket("reset", "100", 0, 5, 10, 15, 3, 8), bucket("reset", "+Inf", 0, 10, 20, 30, 6, 16),
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
	end := t0.Add(150 * time.Second)
	for _, tc := range []struct {
		version, want string // want in Skipped; "" means evidence
		counts        []float64
	}{
		{"good", "", []float64{10, 20}},
		{"noinf", "no +Inf bucket", nil},
		{"nonmonotone", "cumulative count decreases", nil},
		{"nan", "NaN", nil},
		{"reset", "", []float64{8, 16}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			m, err := Measure(t.Context(), p, bucketTemplate, Vars{Version: tc.version, Window: time.Minute}, end)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if m.Skipped != "" || !slices.Equal(m.Buckets.Counts, tc.counts) {
					t.Errorf("histogram %v (skipped %q), want %v", m.Buckets.Counts, m.Skipped, tc.counts)
				}
				return
			}
			if !strings.Contains(m.Skipped, tc.want) || len(m.Buckets.Bounds) != 0 || !m.HasBuckets {
				t.Errorf("histogram %+v, skipped %q; want none and a reason with %q", m.Buckets, m.Skipped, tc.want)
			}
		})
	}
	if _, err := Measure(t.Context(), p, bucketTemplate, Vars{Version: "absent", Window: time.Minute}, end); !errors.Is(err, ErrNoData) {
		t.Errorf("a version without series: err %v, want ErrNoData", err)
	}
	withRequests := bucketTemplate
	withRequests.Requests = `sum(increase(nothing_total{version="{{ .Version }}"}[{{ .Window }}]))`
	if m, err := Measure(t.Context(), p, withRequests, Vars{Version: "good", Window: time.Minute}, end); !errors.Is(err, ErrNoData) || !m.HasBuckets {
		t.Errorf("a failed requests query: err %v, HasBuckets %v; want ErrNoData and still a histogram metric (for the judge's alpha split)", err, m.HasBuckets)
	}
	if _, err := Measure(t.Context(), queryOnly{p}, bucketTemplate, Vars{Version: "good", Window: time.Minute}, end); !errors.Is(err, ErrQuery) {
		t.Errorf("a provider without raw samples: err %v, want ErrQuery", err)
	}
}

func TestParseBucketExpr(t *testing.T) {
	for _, c := range []struct {
		q, selector string
		ok          bool
	}{
		{`sum by (le) (increase(x_bucket{a="b"}[1m]))`, `x_bucket{a="b"}`, true},
		{"sum  by(le)(\n increase(x_bucket[5m]) )", "x_bucket", true},
		{`sum by (le) (rate(x_bucket[1m]))`, "", false},
		{`sum by (le, pod) (increase(x_bucket[1m]))`, "", false},
		{`sum(increase(x_bucket[1m]))`, "", false},
		{`sum by (le) (increase(x_bucket[1m]) + increase(y_bucket[1m]))`, "", false},
	} {
		term, err := parseBucketExpr(c.q)
		if (err == nil) != c.ok || term.selector != c.selector || (err != nil && !errors.Is(err, ErrTemplate)) {
			t.Errorf("%q: %+v, %v; want selector %q ok %v", c.q, term, err, c.selector, c.ok)
		}
	}
}

// TestIstioLatencyBucketsOnPrometheus runs the embedded istio-latency-buckets
// template on a real Prometheus holding Istio's histogram scraped every 30 s
// (two response codes, so two series per le): at every one-minute look,
// each le's count equals the difference of the written cumulative values
// between the look's ends, summed over the version's series.
func TestIstioLatencyBucketsOnPrometheus(t *testing.T) {
	g := promtest.Istio{Service: "aleph", Namespace: "games", Start: t0, End: t0.Add(30 * time.Minute), Step: 30 * time.Second, Seed: 7,
		Versions: []promtest.IstioVersion{
			{Version: "v1", RPS: 40, ErrorRatio: 0.05, LatencyMedianMs: 120, LatencySigma: 0.6},
			{Version: "v2", RPS: 4, ErrorRatio: 0.01, LatencyMedianMs: 200, LatencySigma: 0.9},
		}}
	fams, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	p, err := NewPrometheus(PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := mustMetric(t, "istio-latency-buckets")
	// valueAt is a series' last written value at or before at (0 before any).
	valueAt := func(s promtest.Series, at time.Time) float64 {
		v := 0.0
		for _, x := range s.Samples {
			if x.T.After(at) {
				break
			}
			v = x.V
		}
		return v
	}
	for _, version := range []string{"v1", "v2"} {
		series := promtest.Select(fams, "istio_request_duration_milliseconds_bucket",
			map[string]string{"destination_version": version, "reporter": "destination"})
		if len(series) != 2*(len(promtest.IstioBuckets)+1) {
			t.Fatalf("%s: %d bucket series, want two codes x %d", version, len(series), len(promtest.IstioBuckets)+1)
		}
		for end := t0.Add(5 * time.Minute); !end.After(t0.Add(25 * time.Minute)); end = end.Add(time.Minute) {
			m, err := Measure(t.Context(), p, tmpl, Vars{Service: "aleph", Namespace: "games", Version: version, Window: time.Minute}, end)
			if err != nil {
				t.Fatalf("%s at %s: %v", version, end.Sub(t0), err)
			}
			want := map[float64]float64{}
			for _, s := range series {
				le, err := strconv.ParseFloat(s.Label("le"), 64)
				if err != nil {
					t.Fatal(err)
				}
				want[le] += valueAt(s, end) - valueAt(s, end.Add(-time.Minute))
			}
			if len(m.Buckets.Bounds) != len(want) || m.Skipped != "" {
				t.Fatalf("%s at %s: %d buckets (skipped %q), want %d", version, end.Sub(t0), len(m.Buckets.Bounds), m.Skipped, len(want))
			}
			for i, le := range m.Buckets.Bounds {
				if m.Buckets.Counts[i] != want[le] {
					t.Errorf("%s at %s: le=%v counted %v, the scrapes saw %v", version, end.Sub(t0), le, m.Buckets.Counts[i], want[le])
				}
			}
			if m.Requests != m.Buckets.Total() {
				t.Errorf("%s at %s: requests %v but the +Inf bucket %v", version, end.Sub(t0), m.Requests, m.Buckets.Total())
			}
		}
	}
}
