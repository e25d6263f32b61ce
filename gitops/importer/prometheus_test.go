package importer_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// TestImportedTemplateSelectsEachVersion runs the MetricTemplate imported
// from Flagger's not-found-percentage (which selects the canary by
// destination_workload="{{ target }}") on a real Prometheus holding Istio
// series of the canary Deployment podinfo, the primary podinfo-primary and
// another workload: rendered for the canary it measures podinfo, for the
// stable version podinfo-primary, as birdwatch's baseline needs.
func TestImportedTemplateSelectsEachVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	tc := importCases[0]
	dir, _ := importInto(t, tc)
	cs := loadCanaries(t, dir)
	var m = cs[0].Spec.Analysis.Metrics[2]
	if m.Resolved == nil {
		t.Fatalf("metric %s has no MetricTemplate", m.Name)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// requests per second by workload and response code
	rates := map[string]map[string]float64{
		"podinfo":         {"200": 9, "404": 1},      // 10% 404s
		"podinfo-primary": {"200": 19.8, "404": 0.2}, // 1%
		"other":           {"200": 1, "404": 9},      // 90%, never selected
	}
	srv := promtest.Start(t, promtest.Options{OpenMetrics: istioRequests(t0, 30*time.Minute, rates)})
	c, err := api.NewClient(api.Config{Address: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(c)
	at := t0.Add(20 * time.Minute)
	tests := []struct {
		name                    string
		version, stable, canary string
		want                    float64
	}{
		{name: "canary", version: "6.0.1", stable: "6.0.0", canary: "6.0.1", want: 10},
		{name: "stable (baseline)", version: "6.0.0", stable: "6.0.0", canary: "6.0.1", want: 1},
		{name: "at rest the version runs in both; the target is read", version: "6.0.0", stable: "6.0.0", canary: "6.0.0", want: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := metrics.Render(m.Resolved.Spec.Query, metrics.Vars{Service: "podinfo", Namespace: "test",
				Version: tt.version, Stable: tt.stable, Canary: tt.canary, Window: 5 * time.Minute, Args: m.TemplateArgs()})
			if err != nil {
				t.Fatal(err)
			}
			val, _, _, err := prom.Query(t.Context(), q, at)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			vec, ok := val.(model.Vector)
			if !ok || len(vec) != 1 {
				t.Fatalf("got %v, want one sample\n%s", val, q)
			}
			if got := float64(vec[0].Value); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v, want %v\n%s", got, tt.want, q)
			}
		})
	}
}

// istioRequests is OpenMetrics text of istio_requests_total counters of
// namespace test growing at rates (per second) from start, every 15s.
func istioRequests(start time.Time, span time.Duration, rates map[string]map[string]float64) []byte {
	var b strings.Builder
	b.WriteString("# TYPE istio_requests counter\n")
	for w, codes := range rates {
		for code, rps := range codes {
			for d := time.Duration(0); d <= span; d += 15 * time.Second {
				fmt.Fprintf(&b, "istio_requests_total{reporter=\"destination\",destination_workload_namespace=\"test\",destination_workload=%q,response_code=%q} %g %d\n",
					w, code, rps*d.Seconds(), start.Add(d).Unix())
			}
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}
