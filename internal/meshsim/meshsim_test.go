package meshsim

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMeshSplitsTrafficAndErrors(t *testing.T) {
	tests := []struct {
		name       string
		routing    Routing
		assertions func(t *testing.T, m *Mesh)
	}{
		{
			name:    "90/10 split with a failing canary",
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 10},
			assertions: func(t *testing.T, m *Mesh) {
				stable := count(m, "v03", "200") + count(m, "v03", "500")
				canary := count(m, "v04", "200") + count(m, "v04", "500")
				if share := canary / (stable + canary); share < 0.08 || share > 0.12 {
					t.Errorf("canary share %.3f, want about 0.10", share)
				}
				if rate := count(m, "v04", "500") / canary; rate < 0.45 || rate > 0.55 {
					t.Errorf("canary error rate %.3f, want about 0.5", rate)
				}
				if count(m, "v03", "500") != 0 {
					t.Errorf("stable answered errors")
				}
			},
		},
		{
			name:    "no routing serves nothing",
			routing: Routing{},
			assertions: func(t *testing.T, m *Mesh) {
				if n := testutil.CollectAndCount(m.requests); n != 0 {
					t.Errorf("%d series without routing", n)
				}
			},
		},
		{
			name:    "all traffic to stable",
			routing: Routing{StableVersion: "v03", CanaryVersion: "v04", CanaryWeight: 0},
			assertions: func(t *testing.T, m *Mesh) {
				if c := count(m, "v04", "200"); c != 0 {
					t.Errorf("canary got %v requests at weight 0", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("aleph", "games", 1000, 1)
			m.SetProfile("v03", Profile{LatencyMedian: 40, LatencySigma: 0.3})
			m.SetProfile("v04", Profile{ErrorRate: 0.5, LatencyMedian: 40, LatencySigma: 0.3})
			m.Apply(tt.routing)
			for range 100 {
				m.Tick(100 * time.Millisecond)
			}
			tt.assertions(t, m)
		})
	}
}

func TestHandlerExposesIstioMetrics(t *testing.T) {
	m := New("aleph", "games", 100, 2)
	m.SetProfile("v03", Profile{LatencyMedian: 40, LatencySigma: 0.3})
	m.Apply(Routing{StableVersion: "v03", CanaryVersion: "v04"})
	m.Tick(time.Second)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`istio_requests_total{destination_service_name="aleph",destination_version="v03",destination_workload_namespace="games",reporter="destination",response_code="200"}`,
		`istio_request_duration_milliseconds_bucket{destination_service_name="aleph",destination_version="v03",destination_workload_namespace="games",reporter="destination",response_code="200",le="50"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func count(m *Mesh, version, code string) float64 {
	return testutil.ToFloat64(m.requests.WithLabelValues("destination", "aleph", "games", version, code))
}
