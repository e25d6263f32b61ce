package promtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Shape describes how a mesh, ingress or library exposes request metrics: a
// request counter whose failing requests carry a distinct label value, and a
// latency histogram. It lets one generator (Traffic) produce Linkerd, NGINX
// ingress, Envoy and generic HTTP data.
type Shape struct {
	// Counter is the request counter's family name and CounterSeries the
	// name of its series (for example "response" and "response_total"; Envoy
	// counters have no _total suffix, so both are "envoy_cluster_upstream_rq").
	Counter, CounterSeries string
	// CounterType is the OpenMetrics type of the counter family; "" means
	// "counter". Use "unknown" for counters without the _total suffix.
	CounterType string
	// Histogram is the latency histogram's family name (series get the
	// _bucket, _sum and _count suffixes).
	Histogram string
	// Buckets are the histogram upper bounds in the histogram's unit,
	// ascending, without +Inf.
	Buckets []float64
	// UnitPerMs converts milliseconds into the histogram's unit: 1 for a
	// histogram in ms, 0.001 for one in seconds.
	UnitPerMs float64
	// CodeLabel is the label that tells success from failure, with the values
	// OK and Fail (for example "classification", "success" and "failure").
	CodeLabel, OK, Fail string
	// HistogramCode is true when histogram series carry CodeLabel too.
	HistogramCode bool
}

// PrometheusBuckets are client_golang's default histogram buckets (seconds).
var PrometheusBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// LinkerdBuckets are the Linkerd proxy's response_latency_ms bounds.
var LinkerdBuckets = []float64{1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000}

// LinkerdShape is the Linkerd proxy's response_total and
// response_latency_ms histogram; failures are classification="failure".
func LinkerdShape() Shape {
	return Shape{Counter: "response", CounterSeries: "response_total", Histogram: "response_latency_ms",
		Buckets: LinkerdBuckets, UnitPerMs: 1, CodeLabel: "classification", OK: "success", Fail: "failure", HistogramCode: true}
}

// NginxShape is ingress-nginx's nginx_ingress_controller_requests and its
// request duration histogram in seconds; failures have status="503".
func NginxShape() Shape {
	return Shape{Counter: "nginx_ingress_controller_requests", CounterSeries: "nginx_ingress_controller_requests",
		CounterType: "unknown", Histogram: "nginx_ingress_controller_request_duration_seconds",
		Buckets: PrometheusBuckets, UnitPerMs: 0.001, CodeLabel: "status", OK: "200", Fail: "503", HistogramCode: true}
}

// EnvoyShape is Envoy's envoy_cluster_upstream_rq counter (no _total suffix,
// one series per envoy_response_code) and the upstream_rq_time histogram in
// ms, which has no code label.
func EnvoyShape() Shape {
	return Shape{Counter: "envoy_cluster_upstream_rq", CounterSeries: "envoy_cluster_upstream_rq", CounterType: "unknown",
		Histogram: "envoy_cluster_upstream_rq_time", Buckets: IstioBuckets, UnitPerMs: 1,
		CodeLabel: "envoy_response_code", OK: "200", Fail: "503"}
}

// HTTPShape is the conventional http_requests_total counter and
// http_request_duration_seconds histogram of an instrumented application.
func HTTPShape() Shape {
	return Shape{Counter: "http_requests", CounterSeries: "http_requests_total", Histogram: "http_request_duration_seconds",
		Buckets: PrometheusBuckets, UnitPerMs: 0.001, CodeLabel: "code", OK: "200", Fail: "503", HistogramCode: true}
}

// TrafficVersion is the traffic of one version: the labels that identify its
// series and the simulated load (see IstioVersion for the fields' meaning).
type TrafficVersion struct {
	// Labels are put on every series of the version, in order.
	Labels []Label
	// RPS, ErrorRatio, latency, Resets and Gaps mean what they mean in
	// IstioVersion. ErrorRatio zero writes no failure series.
	RPS, ErrorRatio               float64
	LatencyMedianMs, LatencySigma float64
	Resets                        []time.Time
	Gaps                          []Gap
}

// Traffic generates request metrics of Shape for several versions, scrape
// by scrape, with the same simulation as Istio. The zero value is not
// usable: set Shape, Start, End and Versions.
type Traffic struct {
	Shape      Shape
	Start, End time.Time
	// Step is the scrape interval; zero means 10s. It must be whole seconds.
	Step time.Duration
	// Seed makes the pseudo-random traffic reproducible.
	Seed     uint64
	Versions []TrafficVersion
}

// Generate returns the counter and histogram families. The same Traffic
// value always yields the same data.
func (g Traffic) Generate() ([]Family, error) {
	step := g.Step
	if step == 0 {
		step = 10 * time.Second
	}
	if step < time.Second || step%time.Second != 0 {
		return nil, fmt.Errorf("step %s: must be whole seconds", step)
	}
	if !g.End.After(g.Start) {
		return nil, errors.New("end must be after start")
	}
	sh := g.Shape
	if sh.UnitPerMs <= 0 || len(sh.Buckets) == 0 || sh.CodeLabel == "" {
		return nil, errors.New("shape needs UnitPerMs, Buckets and CodeLabel")
	}
	msBounds := make([]float64, len(sh.Buckets))
	for i, b := range sh.Buckets {
		msBounds[i] = b / sh.UnitPerMs
	}
	ctype := sh.CounterType
	if ctype == "" {
		ctype = "counter"
	}
	rng := rand.New(rand.NewPCG(g.Seed, 0x6269726477617463))
	reqs := Family{Name: sh.Counter, Type: ctype, Help: "Requests."}
	hist := Family{Name: sh.Histogram, Type: "histogram", Help: "Request latency."}
	for _, v := range g.Versions {
		r, h := g.generateVersion(v, step, msBounds, rng)
		reqs.Series = append(reqs.Series, r...)
		hist.Series = append(hist.Series, h...)
	}
	return []Family{reqs, hist}, nil
}

// generateVersion simulates one version; internally the failing code is
// "503" and the succeeding one "200" (see versionState.advance).
func (g Traffic) generateVersion(v TrafficVersion, step time.Duration, msBounds []float64, rng *rand.Rand) (reqs, hist []Series) {
	sim := IstioVersion{RPS: v.RPS, ErrorRatio: v.ErrorRatio, LatencyMedianMs: v.LatencyMedianMs, LatencySigma: v.LatencySigma}
	codes := Istio{}.codes(sim)
	st := newVersionState(codes, len(msBounds)+1)
	var rs, bs, ss, cs []*Series
	series := func(list *[]*Series, i int, name string, labels []Label) *Series {
		for len(*list) <= i {
			*list = append(*list, nil)
		}
		if (*list)[i] == nil {
			(*list)[i] = &Series{Name: name, Labels: labels}
		}
		return (*list)[i]
	}
	resets := append([]time.Time(nil), v.Resets...)
	for t := g.Start; !t.After(g.End); t = t.Add(step) {
		if len(resets) > 0 && !t.Before(resets[0]) {
			st = newVersionState(codes, len(msBounds)+1)
			for len(resets) > 0 && !t.Before(resets[0]) {
				resets = resets[1:]
			}
		}
		if t.After(g.Start) {
			st.advance(sim, step, msBounds, rng)
		}
		if inGap(v.Gaps, t) {
			continue
		}
		g.scrape(v, st, codes, t, func(kind byte, i int, name string, labels []Label, val float64) {
			list := map[byte]*[]*Series{'r': &rs, 'b': &bs, 's': &ss, 'c': &cs}[kind]
			s := series(list, i, name, labels)
			s.Samples = append(s.Samples, Sample{T: t, V: val})
		})
	}
	for _, s := range rs {
		reqs = append(reqs, *s)
	}
	for _, list := range [][]*Series{bs, ss, cs} {
		for _, s := range list {
			if s != nil {
				hist = append(hist, *s)
			}
		}
	}
	return reqs, hist
}

// scrape emits one scrape's samples through add: kind 'r' counter, 'b'
// bucket, 's' sum, 'c' count; i identifies the series within its kind.
func (g Traffic) scrape(v TrafficVersion, st *versionState, codes []string, t time.Time, add func(kind byte, i int, name string, labels []Label, val float64)) {
	sh := g.Shape
	with := func(extra ...Label) []Label {
		return append(append([]Label(nil), v.Labels...), extra...)
	}
	nb := len(sh.Buckets) + 1
	var bucketSum []float64
	var sum, count float64
	for ci, code := range codes {
		codeLabel := Label{Name: sh.CodeLabel, Value: sh.OK}
		if code == "503" {
			codeLabel.Value = sh.Fail
		}
		add('r', ci, sh.CounterSeries, with(codeLabel), st.requests[code])
		if !sh.HistogramCode {
			if bucketSum == nil {
				bucketSum = make([]float64, nb)
			}
			for i, c := range st.buckets[code] {
				bucketSum[i] += c
			}
			sum += st.sum[code] * sh.UnitPerMs
			count += st.requests[code]
			continue
		}
		g.histogram(ci, with(codeLabel), st.buckets[code], st.sum[code]*sh.UnitPerMs, st.requests[code], add)
	}
	if !sh.HistogramCode {
		g.histogram(0, with(), bucketSum, sum, count, add)
	}
}

func (g Traffic) histogram(ci int, base []Label, buckets []float64, sum, count float64, add func(byte, int, string, []Label, float64)) {
	sh := g.Shape
	nb := len(sh.Buckets) + 1
	for i, c := range buckets {
		le := "+Inf"
		if i < len(sh.Buckets) {
			le = strconv.FormatFloat(sh.Buckets[i], 'g', -1, 64)
		}
		add('b', ci*nb+i, sh.Histogram+"_bucket", append(append([]Label(nil), base...), Label{Name: "le", Value: le}), c)
	}
	add('s', ci, sh.Histogram+"_sum", base, sum)
	add('c', ci, sh.Histogram+"_count", base, count)
}
