package meshsim

import (
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// z bounds every count: a Poisson count with mean λ (λ ≥ 100 here) lies
// within λ ± z·√λ except with probability P(|Z| > 5) = 5.7e-7 (normal
// approximation), and a binomial count of errors within np ± z·√(np(1-p)).
// The seed is fixed, so the draws are the same every run; the bounds say
// what any seed would give.
const z = 5

func TestMeshSplitsTraffic(t *testing.T) {
	const ticks, dt = 100, 100 * time.Millisecond
	tests := []struct {
		name       string
		rps        float64
		developers float64 // share of requests with the developer cookie
		routing    Routing
		// matched is the expected share of requests the header route sends to
		// the canary (developers when the route is applied, else 0).
		matched float64
	}{
		{name: "90/10 split", rps: 1000,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 10}},
		{name: "all traffic to stable", rps: 1000,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04"}},
		{name: "developers without their route stay on the stable at weight 0", rps: 1000, developers: 0.05,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04"}},
		{name: "developer route at weight 0: only the developers reach the canary", rps: 1000, developers: 0.05, matched: 0.05,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", DeveloperRoute: true}},
		{name: "developer route at weight 50: developers plus half of the rest", rps: 10000, developers: 0.05, matched: 0.05,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 50, DeveloperRoute: true}},
		{name: "developer share above 1 is clamped: everyone is a developer", rps: 1000, developers: 2, matched: 1,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 30, DeveloperRoute: true}},
		{name: "mirror 100% at weight 0: every stable request copied", rps: 1000,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", MirrorPercent: 100}},
		{name: "mirror 50% at weight 20 copies half of the stable's requests only", rps: 10000,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 20, MirrorPercent: 50}},
		{name: "developer route and mirror 10%: the developers' requests are not copied", rps: 10000, developers: 0.05, matched: 0.05,
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", DeveloperRoute: true, MirrorPercent: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("aleph", "games", tt.rps, 1, WithDevelopers(tt.developers))
			m.SetProfile("v03", Profile{LatencyMedian: 40, LatencySigma: 0.3})
			m.SetProfile("v04", Profile{ErrorRate: 0.5, LatencyMedian: 40, LatencySigma: 0.3})
			m.Apply(tt.routing)
			for range ticks {
				m.Tick(dt)
			}
			n := tt.rps * dt.Seconds() * ticks
			w, mirror := float64(tt.routing.CanaryWeight)/100, tt.routing.MirrorPercent/100
			wantStable := n * (1 - tt.matched) * (1 - w)
			wantCanary := n*(tt.matched+(1-tt.matched)*w) + mirror*wantStable
			stable, canary := total(m, "v03"), total(m, "v04")
			within(t, "stable requests", stable, wantStable)
			within(t, "canary requests", canary, wantCanary)
			if e := count(m, "v03", "500"); e != 0 {
				t.Errorf("stable answered %v errors, its error rate is 0", e)
			}
			// The canary answers live requests and mirrored copies alike, with its own error rate.
			if e, sd := count(m, "v04", "500"), math.Sqrt(canary*0.25); math.Abs(e-canary/2) > z*sd {
				t.Errorf("canary errors %v of %v, want %v ± %.0f", e, canary, canary/2, z*sd)
			}
		})
	}
}

func TestMeshEdgeRoutings(t *testing.T) {
	tests := []struct {
		name    string
		routing Routing
		// series is how many istio_requests_total series exist afterwards.
		series int
		// versions are the versions that must have served requests.
		versions []string
	}{
		{name: "no routing serves nothing", routing: Routing{}, series: 0},
		{name: "canary subset on the stable's version after promotion", series: 1, versions: []string{"v03"},
			routing: Routing{StableVersion: "v03", CanaryVersion: "v03", CanaryWeight: 10, MirrorPercent: 20}},
		{name: "no canary version: its subset is served by the stable", series: 1, versions: []string{"v03"},
			routing: Routing{StableVersion: "v03", CanaryWeight: 50}},
		{name: "out-of-range weight and mirror are clamped", series: 1, versions: []string{"v04"},
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 250, MirrorPercent: -5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("aleph", "games", 1000, 3, WithDevelopers(0.05))
			m.Apply(tt.routing)
			for range 10 {
				m.Tick(100 * time.Millisecond)
			}
			if n := testutil.CollectAndCount(m.requests); n != tt.series {
				t.Errorf("%d series, want %d", n, tt.series)
			}
			for _, v := range tt.versions {
				if total(m, v) == 0 {
					t.Errorf("%s served nothing", v)
				}
			}
		})
	}
}

func TestHandlerExposesIstioMetrics(t *testing.T) {
	tests := []struct {
		name    string
		routing Routing
		want    []string
	}{
		{
			name:    "stable traffic",
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04"},
			want: []string{
				`istio_requests_total{destination_service_name="aleph",destination_version="v03",destination_workload_namespace="games",reporter="destination",response_code="200"}`,
				`istio_request_duration_milliseconds_bucket{destination_service_name="aleph",destination_version="v03",destination_workload_namespace="games",reporter="destination",response_code="200",le="50"}`,
			},
		},
		{
			name:    "mirrored copies are reported by the canary's destination side",
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", MirrorPercent: 100},
			want: []string{
				`istio_requests_total{destination_service_name="aleph",destination_version="v04",destination_workload_namespace="games",reporter="destination",response_code="200"}`,
				`istio_request_duration_milliseconds_count{destination_service_name="aleph",destination_version="v04",destination_workload_namespace="games",reporter="destination",response_code="200"}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("aleph", "games", 100, 2)
			m.SetProfile("v03", Profile{LatencyMedian: 40, LatencySigma: 0.3})
			m.SetProfile("v04", Profile{LatencyMedian: 40, LatencySigma: 0.3})
			m.Apply(tt.routing)
			m.Tick(time.Second)
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

// within fails t unless a Poisson count got lies within z standard deviations of its mean.
func within(t *testing.T, what string, got, mean float64) {
	t.Helper()
	if bound := z * math.Sqrt(mean); math.Abs(got-mean) > bound {
		t.Errorf("%s: %v, want %.0f ± %.0f", what, got, mean, bound)
	}
}

func total(m *Mesh, version string) float64 {
	return count(m, version, "200") + count(m, version, "500")
}

func count(m *Mesh, version, code string) float64 {
	return testutil.ToFloat64(m.requests.WithLabelValues("destination", "aleph", "games", version, code))
}
