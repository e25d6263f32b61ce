package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// CounterLookback is how far before a window's start the raw samples of a
// counter are fetched, to find each series' value at the start: Prometheus'
// default lookback delta, the age after which an instant query no longer
// sees a series either. A series with no sample in it is taken as created
// in the window (see CountWindow).
const CounterLookback = 5 * time.Minute

// PodLabels are the labels that name the pod a series comes from, in the
// order they are looked for: "pod" (kube-prometheus, Prometheus Operator),
// "kubernetes_pod_name" and "pod_name" (older relabelings). Not
// "instance": one scrape target often exports the series of several
// workloads and versions (an ingress controller, a mesh gateway, a
// single exporter), so a version's first series there would make the
// target look new and leave the canary's first errors out; such series
// are read one by one, as increase() reads them.
var PodLabels = []string{"pod", "kubernetes_pod_name", "pod_name"}

// PodOf names the pod of a series with labels m, as `pod="x"`: the first
// of PodLabels it has; "" when it has none.
func PodOf(m model.Metric) string {
	for _, l := range PodLabels {
		if v, ok := m[model.LabelName(l)]; ok && v != "" {
			return model.LabelSet{model.LabelName(l): v}.String()
		}
	}
	return ""
}

// CounterSeries is the raw samples of one counter series, oldest first,
// as Prometheus stored them (a range selector's answer, not rate() or
// increase() of it).
type CounterSeries struct {
	// Labels names the series for reasons and notes, for example
	// {pod="aleph-v04-1",response_code="503"}.
	Labels string
	// Pod names the pod the series comes from (PodOf); "" when unknown.
	Pod string
	// Metric is the series' labels, when known; reasons then name a
	// pod's series by the labels that tell it from the pod's others.
	Metric model.Metric
	// Points are the samples, oldest first.
	Points []Point
}

// CounterCount is what happened to a set of counter series in one window
// (since, end]: the events counted, and how each series was read.
type CounterCount struct {
	// Value is the number of events of the series counted: for each, the
	// sum of its increases from its value at since to its last sample at
	// or before end. NaN when Skipped is not empty.
	Value float64
	// Series is how many series had a sample in the fetched range. A
	// count query whose series are all Silent measured nothing: Measure
	// reports that as no data, not as 0 events.
	Series int
	// Started counts the series counted from 0: created in the window (a
	// pod's first 5xx), or not exported at its start by a pod that was.
	Started int
	// Resets counts the decreases taken as counter resets, in series
	// without a pod label (a pod's reset leaves the pod out: Dropped).
	Resets int
	// Silent counts the series with no sample in the window itself (a pod
	// gone, or a target not scraped): they add 0.
	Silent int
	// Dropped says, per pod left out of the count, why (see CountWindow);
	// sorted, nil when none.
	Dropped []string
	// Skipped says, per series without a pod label that cannot be read as
	// a counter (a NaN or infinite sample, a negative value), why; nil
	// when none. Such a series cannot be taken out of the other count of
	// the same metric, so its window is not evidence at all: Value is NaN.
	Skipped []string
}

// CountWindow counts the events of series in the window (since, end] from
// their raw samples. Each event is attributed to the first scrape that saw
// it, so consecutive windows (a, b], (b, c] count every event of the pods
// they keep exactly once: nothing is extrapolated, unlike increase(),
// which scales the growth between the window's first and last samples up
// to the window's length.
//
// Pods (CounterSeries.Pod) are read whole. A pod whose window is partial
// is left out of the count, with the reason in Dropped, because its
// events in the window are not all known:
//   - it appeared: no sample of any of its series in the two scrape
//     intervals before since (a new pod, or a target back after a gap;
//     its value at since is unknown or stale);
//   - it vanished: none in the two scrape intervals before end (its
//     events after its last scrape are lost);
//   - a counter reset: one of its series decreased (the process
//     restarted; the events between its last scrape and the restart are
//     lost);
//   - a NaN, infinite or negative sample at or before end.
//
// The scrape interval is the pod's smallest distance between two samples
// of one series; two intervals allow one missed scrape and ingestion lag
// (Prometheus' own "series starts or ends in the range" test in increase()
// is 1.1 average intervals). A pod with no sample in the window and none
// in the two intervals before it left earlier: it adds 0, unremarked.
//
// In a pod kept, a series with no sample at or before since, or whose
// last one is older than two scrape intervals (the pod did not export it
// then: a response code's series begins with its first event, and a
// restarted pod recreates its series), counts from 0. Samples after end
// are ignored.
//
// Series without a pod label are read one by one, as Prometheus'
// increase() reads them: a decrease is a reset (the value after it is all
// increase), a series created in the window counts from 0, and a NaN,
// infinite or negative sample makes Value NaN with the reason in Skipped.
//
// No series: Series is 0 and Value 0 (the caller decides whether that is
// no data).
//
// Written by hand: Prometheus has no function for it (increase()
// extrapolates; the "anchored" modifier of Prometheus 3.7 is experimental
// and missing from Prometheus 2 and most compatible backends).
func CountWindow(series []CounterSeries, since, end time.Time) CounterCount {
	w := readWindow(series, since, end)
	return w.count(w.dropped)
}

// countGroups counts each group of series over (since, end] as
// CountWindow does, with the pods judged over all the groups: a pod left
// out of one group is left out of all (so that every bucket of a
// histogram counts the same pods). dropped says, per pod left out, why.
func countGroups(groups [][]CounterSeries, since, end time.Time) (counts []CounterCount, dropped []string) {
	var all []CounterSeries
	for _, g := range groups {
		all = append(all, g...)
	}
	spans := podSpans(all, since, end)
	drop := map[string]string{}
	reads := make([]windowRead, len(groups))
	for i, g := range groups {
		reads[i] = readWindowPods(g, since, end, spans)
		for pod, why := range reads[i].dropped {
			if _, ok := drop[pod]; !ok {
				drop[pod] = why
			}
		}
	}
	for _, r := range reads {
		counts = append(counts, r.count(drop))
	}
	for pod, why := range drop {
		dropped = append(dropped, pod+": "+why)
	}
	slices.Sort(dropped)
	return counts, dropped
}

// windowRead is a set of series read over one window, before pods are
// left out: per series its count, per pod why it must be left out.
type windowRead struct {
	series  []seriesRead
	dropped map[string]string // pod -> why
}

// seriesRead is one series over one window.
type seriesRead struct {
	labels, pod       string
	n                 float64
	inWindow, started bool
	resets            int
	bad               string // not a counter: why
}

// podSpan is what the samples of one pod's series show about the pod.
type podSpan struct {
	gap                time.Duration // smallest distance between two samples of one series; 0 unknown
	beforeStart, atEnd time.Time     // last sample at or before since, and at or before end
	firstIn            time.Time     // first sample in (since, end]
}

// readWindow reads series over (since, end] (see CountWindow), the pods
// judged from the series themselves.
func readWindow(series []CounterSeries, since, end time.Time) windowRead {
	return readWindowPods(series, since, end, podSpans(series, since, end))
}

// podSpans gathers what the series show about each pod over (since, end].
func podSpans(series []CounterSeries, since, end time.Time) map[string]*podSpan {
	pods := map[string]*podSpan{}
	for _, s := range series {
		if s.Pod == "" {
			continue
		}
		p := pods[s.Pod]
		if p == nil {
			p = &podSpan{}
			pods[s.Pod] = p
		}
		for i, pt := range s.Points {
			if pt.T.After(end) {
				break
			}
			if i > 0 {
				if g := pt.T.Sub(s.Points[i-1].T); g > 0 && (p.gap == 0 || g < p.gap) {
					p.gap = g
				}
			}
			if !pt.T.After(since) && pt.T.After(p.beforeStart) {
				p.beforeStart = pt.T
			}
			if pt.T.After(since) && (p.firstIn.IsZero() || pt.T.Before(p.firstIn)) {
				p.firstIn = pt.T
			}
			if pt.T.After(p.atEnd) {
				p.atEnd = pt.T
			}
		}
	}
	return pods
}

// readWindowPods reads series over (since, end] with pods' spans taken
// from pods: gathered over every series of the measurement, so that a
// pod's first 5xx series, created in the window, does not make the pod
// look new.
func readWindowPods(series []CounterSeries, since, end time.Time, pods map[string]*podSpan) windowRead {
	w := windowRead{dropped: map[string]string{}}
	for _, s := range series {
		if p := pods[s.Pod]; p != nil {
			if why := p.partial(since, end); why != "" {
				w.dropped[s.Pod] = why
			}
		}
	}
	for _, s := range series {
		var fresh time.Duration // a start sample older than this is stale
		if p := pods[s.Pod]; p != nil && p.gap > 0 {
			fresh = 2 * p.gap
		}
		r := readSeries(s, since, end, fresh)
		if r.bad != "" && s.Pod != "" {
			w.drop(s.Pod, fmt.Sprintf("series %s: %s", podSeriesName(s, series), r.bad))
		}
		if r.resets > 0 && s.Pod != "" && r.bad == "" {
			w.drop(s.Pod, fmt.Sprintf("series %s: counter reset (the pod restarted; its events between the last scrape and the restart are unknown)", podSeriesName(s, series)))
		}
		w.series = append(w.series, r)
	}
	return w
}

// podSeriesName names s, a series of a pod, for a reason that already
// names the pod: its metric name and the labels whose values differ
// between the pod's series in all (for example
// istio_requests_total{response_code="200"}); s.Labels when s.Metric is
// not known.
func podSeriesName(s CounterSeries, all []CounterSeries) string {
	if s.Metric == nil {
		return s.Labels
	}
	out := model.LabelSet{}
	for name, v := range s.Metric {
		if name == model.MetricNameLabel {
			continue
		}
		for _, o := range all {
			if o.Pod == s.Pod && o.Metric != nil && o.Metric[name] != v {
				out[name] = v
				break
			}
		}
	}
	name := string(s.Metric[model.MetricNameLabel])
	if len(out) == 0 {
		return name
	}
	return name + out.String()
}

// drop leaves pod out, keeping the first reason.
func (w windowRead) drop(pod, why string) {
	if _, ok := w.dropped[pod]; !ok {
		w.dropped[pod] = why
	}
}

// partial says why a pod's window (since, end] is partial (see
// CountWindow), "" when it is whole or the pod left before it.
func (p *podSpan) partial(since, end time.Time) string {
	tol := 2 * p.gap
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	within := func(t, ref time.Time) bool { return !t.IsZero() && (p.gap == 0 || ref.Sub(t) < tol) }
	atStart, atEnd := within(p.beforeStart, since), within(p.atEnd, end)
	switch {
	case !atStart && p.firstIn.IsZero():
		return "" // gone before the window
	case !atStart:
		return fmt.Sprintf("appeared mid-window: no sample in the %s before the window, first at %s", tolText(tol), ts(p.firstIn))
	case !atEnd:
		return fmt.Sprintf("vanished mid-window: last sample at %s, none in the %s before the look", ts(p.atEnd), tolText(tol))
	}
	return ""
}

// tolText describes the freshness tolerance 2 scrape intervals.
func tolText(tol time.Duration) string {
	if tol == 0 {
		return "fetched range"
	}
	return fmt.Sprintf("2 scrape intervals (%s)", tol)
}

// readSeries counts one series over (since, end]. A start sample older
// than fresh before since (fresh > 0) is stale: the series counts from 0.
func readSeries(s CounterSeries, since, end time.Time, fresh time.Duration) seriesRead {
	r := seriesRead{labels: s.Labels, pod: s.Pod}
	prev, seen := 0.0, false
	for _, p := range s.Points {
		if p.T.After(end) {
			break
		}
		switch {
		case math.IsNaN(p.V) || math.IsInf(p.V, 0):
			r.bad = fmt.Sprintf("value %v at %s is not a counter value", p.V, p.T.UTC().Format(time.RFC3339))
		case p.V < 0:
			r.bad = fmt.Sprintf("negative value %v at %s", p.V, p.T.UTC().Format(time.RFC3339))
		}
		if r.bad != "" {
			r.inWindow = r.inWindow || s.Points[len(s.Points)-1].T.After(since)
			return r
		}
		if !p.T.After(since) {
			prev, seen = p.V, fresh == 0 || since.Sub(p.T) < fresh
			if !seen {
				prev = 0
			}
			continue
		}
		r.inWindow = true
		if p.V < prev {
			r.resets++
			r.n += p.V
		} else {
			r.n += p.V - prev
		}
		prev = p.V
	}
	r.started = !seen && r.inWindow
	return r
}

// count sums the series of w but those of the pods in drop.
func (w windowRead) count(drop map[string]string) CounterCount {
	var c CounterCount
	for _, s := range w.series {
		c.Series++
		if _, ok := drop[s.pod]; ok && s.pod != "" {
			continue
		}
		if s.bad != "" {
			c.Skipped = append(c.Skipped, fmt.Sprintf("series %s: %s", s.labels, s.bad))
			continue
		}
		if !s.inWindow {
			c.Silent++
		}
		if s.started {
			c.Started++
		}
		c.Resets += s.resets
		c.Value += s.n
	}
	for pod, why := range drop {
		if w.hasPod(pod) {
			c.Dropped = append(c.Dropped, pod+" "+why)
		}
	}
	slices.Sort(c.Dropped)
	if len(c.Skipped) > 0 {
		c.Value = math.NaN()
	}
	return c
}

// hasPod reports whether a series of w comes from pod.
func (w windowRead) hasPod(pod string) bool {
	return slices.ContainsFunc(w.series, func(s seriesRead) bool { return s.pod == pod })
}

// podValue is the count of pod's series of w, and whether one of them has
// a sample in the window.
func (w windowRead) podValue(pod string) (float64, bool) {
	n, present := 0.0, false
	for _, s := range w.series {
		if s.pod == pod {
			n += s.n
			present = present || s.inWindow
		}
	}
	return n, present
}

// notes describes how c was read, for Measurement.Notes: "" when every
// series had samples before and in the window and none was reset.
func (c CounterCount) notes(field string) string {
	var parts []string
	if c.Started > 0 {
		parts = append(parts, fmt.Sprintf("%d started in the window (counted from 0)", c.Started))
	}
	if c.Silent > 0 {
		parts = append(parts, fmt.Sprintf("%d without a sample in the window (added 0)", c.Silent))
	}
	if c.Resets > 0 {
		parts = append(parts, fmt.Sprintf("%d counter resets", c.Resets))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d series, %s", field, c.Series, strings.Join(parts, ", "))
}
