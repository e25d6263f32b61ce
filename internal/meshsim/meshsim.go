// Package meshsim plays a tiny Istio mesh for the demo and for end-to-end
// tests: it generates requests for one service, splits them between the
// stable and canary subsets by the weights it is told, lets each version
// answer with its own error rate and latency, and exposes the result as
// Istio's standard metrics (istio_requests_total,
// istio_request_duration_milliseconds) for a real Prometheus to scrape.
//
// It is hand-written because its job is to be a controllable stand-in for a
// mesh; the metrics themselves are produced by client_golang.
package meshsim

import (
	"math"
	"math/rand/v2"
	"net/http"
	gosync "sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Profile is how one version behaves.
type Profile struct {
	// ErrorRate is the share of requests answered with a 500, 0 to 1.
	ErrorRate float64
	// LatencyMedian and LatencySigma shape a log-normal latency, in milliseconds.
	LatencyMedian float64
	LatencySigma  float64
}

// Routing is what the applier applied: which version each subset runs and
// the canary's share of traffic in percent.
type Routing struct {
	StableVersion, CanaryVersion string
	CanaryWeight                 int
}

// istioBuckets are Istio's default duration buckets, in milliseconds.
var istioBuckets = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// Mesh generates traffic for one service. Its methods are safe for concurrent use.
type Mesh struct {
	service, namespace string
	rps                float64
	registry           *prometheus.Registry
	requests           *prometheus.CounterVec
	durations          *prometheus.HistogramVec

	mu       gosync.Mutex
	routing  Routing
	profiles map[string]Profile
	rng      *rand.Rand
}

// New returns a mesh serving rps requests per second to service in namespace.
// seed makes the traffic reproducible.
func New(service, namespace string, rps float64, seed uint64) *Mesh {
	labels := []string{"reporter", "destination_service_name", "destination_workload_namespace", "destination_version", "response_code"}
	m := &Mesh{
		service: service, namespace: namespace, rps: rps,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_requests_total",
			Help: "Requests handled, as Istio's standard metric."}, labels),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "istio_request_duration_milliseconds",
			Help: "Request duration in milliseconds, as Istio's standard metric.", Buckets: istioBuckets}, labels),
		profiles: map[string]Profile{},
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	m.registry.MustRegister(m.requests, m.durations)
	return m
}

// SetProfile sets how version behaves.
func (m *Mesh) SetProfile(version string, p Profile) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.profiles[version] = p
}

// Apply changes the routing, as Flux or Argo CD applying a commit would.
func (m *Mesh) Apply(r Routing) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.routing = r
}

// Routing returns the routing in force.
func (m *Mesh) Routing() Routing {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.routing
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Mesh) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Tick generates the requests of a period of length dt.
func (m *Mesh) Tick(dt time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.routing
	if r.StableVersion == "" {
		return
	}
	total := m.rps * dt.Seconds()
	share := float64(r.CanaryWeight) / 100
	m.serve(r.StableVersion, m.poisson(total*(1-share)))
	if r.CanaryVersion != "" && r.CanaryVersion != r.StableVersion {
		m.serve(r.CanaryVersion, m.poisson(total*share))
	}
}

// Run ticks every period until stop is closed.
func (m *Mesh) Run(stop <-chan struct{}, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.Tick(period)
		}
	}
}

// serve records n requests to version. The caller holds m.mu.
func (m *Mesh) serve(version string, n int) {
	p := m.profiles[version]
	for range n {
		code := "200"
		if m.rng.Float64() < p.ErrorRate {
			code = "500"
		}
		ms := p.LatencyMedian * math.Exp(p.LatencySigma*m.rng.NormFloat64())
		lv := []string{"destination", m.service, m.namespace, version, code}
		m.requests.WithLabelValues(lv...).Inc()
		m.durations.WithLabelValues(lv...).Observe(ms)
	}
}

// poisson draws a Poisson count with mean lambda (Knuth for small means,
// a rounded normal approximation above 50).
func (m *Mesh) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 50 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*m.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= m.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
