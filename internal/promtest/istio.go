package promtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// IstioBuckets are Istio's default bucket bounds for
// istio_request_duration_milliseconds, in milliseconds.
var IstioBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// Gap is a scrape outage: no sample with From <= t < To is written.
type Gap struct {
	From, To time.Time
}

// IstioVersion describes the traffic that one workload version receives.
type IstioVersion struct {
	// Version is the destination_version label value; any string, including
	// quotes, backslashes and newlines, is allowed (it is escaped on output).
	Version string
	// RPS is the mean request rate in requests per second. Zero means the
	// series exist but never increase (a version with no traffic).
	RPS float64
	// ErrorRatio is the share of requests answered with response code 503,
	// in [0, 1]. Zero means no 503 series is written at all, as Istio only
	// creates a series once a request with that code was seen.
	ErrorRatio float64
	// LatencyMedianMs and LatencySigma define a log-normal request latency:
	// exp(ln(LatencyMedianMs) + LatencySigma*N(0,1)) milliseconds.
	LatencyMedianMs, LatencySigma float64
	// Resets are counter resets (a pod restart): at the first scrape at or
	// after each time, every counter of this version restarts from zero.
	Resets []time.Time
	// Gaps are scrape outages of this version's series.
	Gaps []Gap
}

// Istio generates Istio standard metrics (istio_requests_total and the
// istio_request_duration_milliseconds histogram) for one service.
// The zero value is not usable: set at least Start, End and Versions.
type Istio struct {
	Service, Namespace string
	// Start and End bound the scrapes: the first scrape is at Start, the
	// last at or before End.
	Start, End time.Time
	// Step is the scrape interval; zero means 10s. It must be whole seconds.
	Step time.Duration
	// Seed makes the pseudo-random traffic reproducible.
	Seed uint64
	// Buckets are the histogram upper bounds in ms, ascending, without +Inf;
	// nil means IstioBuckets.
	Buckets []float64
	// Versions are the workload versions to generate, in output order.
	Versions []IstioVersion
}

// versionState holds the running counters of one version per response code.
type versionState struct {
	requests map[string]float64
	buckets  map[string][]float64 // cumulative per bucket, +Inf last
	sum      map[string]float64
}

// Generate returns the metric families with every series' samples. The same
// Istio value always yields the same data. Per version and response code
// it writes istio_requests_total for reporter "destination" and, with the same
// values, for reporter "source" (so a query missing the reporter filter counts
// twice), plus the destination-reported latency histogram.
func (g Istio) Generate() ([]Family, error) {
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
	bounds := g.Buckets
	if bounds == nil {
		bounds = IstioBuckets
	}
	rng := rand.New(rand.NewPCG(g.Seed, 0x6269726477617463))
	reqs := Family{Name: "istio_requests", Type: "counter", Help: "Total requests."}
	hist := Family{Name: "istio_request_duration_milliseconds", Type: "histogram", Help: "Request duration."}
	for _, v := range g.Versions {
		r, h := g.generateVersion(v, step, bounds, rng)
		reqs.Series = append(reqs.Series, r...)
		hist.Series = append(hist.Series, h...)
	}
	return []Family{reqs, hist}, nil
}

func (g Istio) codes(v IstioVersion) []string {
	if v.ErrorRatio > 0 {
		return []string{"200", "503"}
	}
	return []string{"200"}
}

// generateVersion simulates one version scrape by scrape and returns its
// request-counter series and histogram series.
func (g Istio) generateVersion(v IstioVersion, step time.Duration, bounds []float64, rng *rand.Rand) (reqs, hist []Series) {
	codes := g.codes(v)
	st := newVersionState(codes, len(bounds)+1)
	out := map[string]*Series{}
	order := []string{}
	add := func(key string, name string, labels []Label, t time.Time, val float64) {
		s, ok := out[key]
		if !ok {
			s = &Series{Name: name, Labels: labels}
			out[key] = s
			order = append(order, key)
		}
		s.Samples = append(s.Samples, Sample{T: t, V: val})
	}
	resets := append([]time.Time(nil), v.Resets...)
	for t := g.Start; !t.After(g.End); t = t.Add(step) {
		if len(resets) > 0 && !t.Before(resets[0]) {
			st = newVersionState(codes, len(bounds)+1)
			for len(resets) > 0 && !t.Before(resets[0]) {
				resets = resets[1:]
			}
		}
		if t.After(g.Start) {
			st.advance(v, step, bounds, rng)
		}
		if inGap(v.Gaps, t) {
			continue
		}
		for _, code := range codes {
			for _, reporter := range []string{"destination", "source"} {
				add("r"+reporter+code, "istio_requests_total", g.labels(v, reporter, code), t, st.requests[code])
			}
			base := g.labels(v, "destination", code)
			for i, c := range st.buckets[code] {
				le := "+Inf"
				if i < len(bounds) {
					le = strconv.FormatFloat(bounds[i], 'g', -1, 64)
				}
				lbl := append(append([]Label(nil), base...), Label{Name: "le", Value: le})
				add("b"+code+le, "istio_request_duration_milliseconds_bucket", lbl, t, c)
			}
			add("s"+code, "istio_request_duration_milliseconds_sum", base, t, st.sum[code])
			add("c"+code, "istio_request_duration_milliseconds_count", base, t, st.requests[code])
		}
	}
	for _, k := range order {
		if k[0] == 'r' {
			reqs = append(reqs, *out[k])
		} else {
			hist = append(hist, *out[k])
		}
	}
	return reqs, hist
}

func newVersionState(codes []string, nBuckets int) *versionState {
	st := &versionState{requests: map[string]float64{}, buckets: map[string][]float64{}, sum: map[string]float64{}}
	for _, c := range codes {
		st.buckets[c] = make([]float64, nBuckets)
	}
	return st
}

// advance adds one scrape interval of simulated requests: a request count
// near RPS*step (10% normal noise), each request failing with ErrorRatio and
// taking a log-normal latency.
func (st *versionState) advance(v IstioVersion, step time.Duration, bounds []float64, rng *rand.Rand) {
	mean := v.RPS * step.Seconds()
	n := int(math.Round(mean * (1 + 0.1*rng.NormFloat64())))
	for range max(n, 0) {
		code := "200"
		if v.ErrorRatio > 0 && rng.Float64() < v.ErrorRatio {
			code = "503"
		}
		lat := v.LatencyMedianMs * math.Exp(v.LatencySigma*rng.NormFloat64())
		st.requests[code]++
		st.sum[code] += lat
		b := st.buckets[code]
		for i := range b {
			if i == len(bounds) || lat <= bounds[i] {
				b[i]++
			}
		}
	}
}

func inGap(gaps []Gap, t time.Time) bool {
	for _, g := range gaps {
		if !t.Before(g.From) && t.Before(g.To) {
			return true
		}
	}
	return false
}

// labels returns the standard Istio labels of one series.
func (g Istio) labels(v IstioVersion, reporter, code string) []Label {
	return []Label{
		{Name: "reporter", Value: reporter},
		{Name: "source_workload", Value: "istio-ingressgateway"},
		{Name: "source_workload_namespace", Value: "istio-system"},
		{Name: "destination_service_name", Value: g.Service},
		{Name: "destination_service_namespace", Value: g.Namespace},
		{Name: "destination_workload", Value: g.Service + "-" + v.Version},
		{Name: "destination_workload_namespace", Value: g.Namespace},
		{Name: "destination_version", Value: v.Version},
		{Name: "request_protocol", Value: "http"},
		{Name: "response_code", Value: code},
	}
}
