// Package meshsim plays a tiny Istio mesh for the demo and for end-to-end
// tests: it generates requests for one service, splits them between the
// stable and canary subsets by the weights it is told, lets each version
// answer with its own error rate and latency, and exposes the result as
// Istio's standard metrics (istio_requests_total,
// istio_request_duration_milliseconds) for a real Prometheus to scrape.
//
// It knows two more things Istio does. A share of the requests (see
// WithDevelopers) carry the cookie user=developer, as the talk's developers
// do; when a header route for them is applied (Routing.DeveloperRoute) they
// go to the canary whatever the weight, and the other requests are split by
// weight. A mirror (Routing.MirrorPercent) copies that share of the requests
// routed to the stable to the canary: the stable still answers them, and the
// canary's answers to the copies are counted in its own metrics with
// reporter="destination", as Istio's destination-side telemetry counts
// mirrored requests.
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

// The cookie that the developers' requests carry: "Cookie: user=developer".
const (
	DeveloperCookie      = "user"
	DeveloperCookieValue = "developer"
)

// Profile is how one version behaves.
type Profile struct {
	// ErrorRate is the share of requests answered with a 500, 0 to 1.
	ErrorRate float64
	// LatencyMedian and LatencySigma shape a log-normal latency, in milliseconds.
	LatencyMedian float64
	LatencySigma  float64
}

// Routing is what the applier applied: which version each subset runs, the
// canary's share of traffic in percent, the header route and the mirror.
type Routing struct {
	StableVersion, CanaryVersion string
	CanaryWeight                 int
	// DeveloperRoute is true when a header route sends the requests that
	// carry the developer cookie to the canary.
	DeveloperRoute bool
	// MirrorPercent is the percentage (0 to 100) of the requests routed to
	// the stable that are also copied to the canary.
	MirrorPercent float64
}

// istioBuckets are Istio's default duration buckets, in milliseconds.
var istioBuckets = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// Mesh generates traffic for one service. Its methods are safe for concurrent use.
type Mesh struct {
	service, namespace string
	rps                float64
	developers         float64 // share of requests with the developer cookie
	registry           *prometheus.Registry
	requests           *prometheus.CounterVec
	durations          *prometheus.HistogramVec

	mu       gosync.Mutex
	routing  Routing
	profiles map[string]Profile
	rng      *rand.Rand
}

// Option configures a Mesh.
type Option func(*Mesh)

// WithDevelopers makes share (0 to 1, clamped) of the requests carry the
// developer cookie. The default is none.
func WithDevelopers(share float64) Option {
	return func(m *Mesh) { m.developers = clamp(share, 0, 1) }
}

// New returns a mesh serving rps requests per second to service in namespace.
// seed makes the traffic reproducible.
func New(service, namespace string, rps float64, seed uint64, opts ...Option) *Mesh {
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
	for _, o := range opts {
		o(m)
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
	toStable, toCanary := m.means(r, m.rps*dt.Seconds())
	canary := r.CanaryVersion
	if canary == "" {
		canary = r.StableVersion // an empty canary subset: its pods are the stable's
	}
	mirror := clamp(r.MirrorPercent, 0, 100) / 100
	copies := 0
	for range m.poisson(toStable) {
		m.serve(r.StableVersion)
		if mirror > 0 && m.rng.Float64() < mirror {
			copies++
		}
	}
	for range m.poisson(toCanary) + copies {
		m.serve(canary)
	}
}

// means returns the expected numbers of live requests routed to the stable
// and to the canary subsets out of total: the developers' requests go to the
// canary when their header route is applied, the rest split by weight.
func (m *Mesh) means(r Routing, total float64) (toStable, toCanary float64) {
	share := clamp(float64(r.CanaryWeight), 0, 100) / 100
	matched := 0.0
	if r.DeveloperRoute {
		matched = total * m.developers
	}
	split := total - matched
	return split * (1 - share), matched + split*share
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

// serve records one request answered by version. The caller holds m.mu.
func (m *Mesh) serve(version string) {
	p := m.profiles[version]
	code := "200"
	if m.rng.Float64() < p.ErrorRate {
		code = "500"
	}
	ms := p.LatencyMedian * math.Exp(p.LatencySigma*m.rng.NormFloat64())
	lv := []string{"destination", m.service, m.namespace, version, code}
	m.requests.WithLabelValues(lv...).Inc()
	m.durations.WithLabelValues(lv...).Observe(ms)
}

// poisson draws a Poisson count with mean lambda (Knuth for small means,
// a rounded normal approximation above 50).
func (m *Mesh) poisson(lambda float64) int {
	if lambda <= 0 || math.IsNaN(lambda) {
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

// clamp returns x limited to [lo, hi]; NaN becomes lo.
func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return lo
	}
	return math.Min(math.Max(x, lo), hi)
}
