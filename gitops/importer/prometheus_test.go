package importer_test

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/importer"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// TestImportedTemplateSelectsEachVersion runs MetricTemplates imported
// from queries that select the canary by name on a real Prometheus holding
// Istio series of both versions and of another workload: Flagger's
// not-found-percentage (destination_workload="{{ target }}": the canary
// Deployment podinfo, the primary podinfo-primary) and Argo's success-rate
// (destination_service=~"{{args.service-name}}": the canary Service's host,
// the stable Service's). Rendered for the canary each measures the canary,
// for the stable version the stable one, as birdwatch's baseline needs.
func TestImportedTemplateSelectsEachVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	const (
		flaggerLabels = `reporter="destination",destination_workload_namespace="test",destination_workload=%q,response_code=%q`
		argoLabels    = `reporter="source",destination_service=%q,response_code=%q`
		canaryHost    = "rollouts-demo-canary.demo.svc.cluster.local"
		stableHost    = "rollouts-demo-stable.demo.svc.cluster.local"
	)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// requests per second of each series
	rates := map[string]float64{
		fmt.Sprintf(flaggerLabels, "podinfo", "200"): 9, fmt.Sprintf(flaggerLabels, "podinfo", "404"): 1, // 10% 404s
		fmt.Sprintf(flaggerLabels, "podinfo-primary", "200"): 19.8, fmt.Sprintf(flaggerLabels, "podinfo-primary", "404"): 0.2, // 1%
		fmt.Sprintf(flaggerLabels, "other", "200"): 1, fmt.Sprintf(flaggerLabels, "other", "404"): 9, // never selected
		fmt.Sprintf(argoLabels, canaryHost, "200"): 8, fmt.Sprintf(argoLabels, canaryHost, "503"): 2, // 80% success
		fmt.Sprintf(argoLabels, stableHost, "200"): 19, fmt.Sprintf(argoLabels, stableHost, "503"): 1, // 95%
		fmt.Sprintf(argoLabels, "other.demo.svc.cluster.local", "503"): 1, // never selected
	}
	srv := promtest.Start(t, promtest.Options{OpenMetrics: counters("istio_requests", "counter", t0, 30*time.Minute, rates)})
	c, err := api.NewClient(api.Config{Address: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(c)
	at := t0.Add(20 * time.Minute)
	tests := []struct {
		name                    string
		imp                     string // importCases name
		metric                  int
		ns, service             string
		version, stable, canary string
		want                    float64
	}{
		{name: "flagger canary", imp: "flagger istio podinfo", metric: 2, ns: "test", service: "podinfo", version: "6.0.1", stable: "6.0.0", canary: "6.0.1", want: 10},
		{name: "flagger stable (baseline)", imp: "flagger istio podinfo", metric: 2, ns: "test", service: "podinfo", version: "6.0.0", stable: "6.0.0", canary: "6.0.1", want: 1},
		{name: "flagger at rest reads the target", imp: "flagger istio podinfo", metric: 2, ns: "test", service: "podinfo", version: "6.0.0", stable: "6.0.0", canary: "6.0.0", want: 10},
		{name: "argo canary", imp: "argo canary istio with analysis args", ns: "demo", service: "rollouts-demo", version: "green", stable: "blue", canary: "green", want: 0.8},
		{name: "argo stable (baseline)", imp: "argo canary istio with analysis args", ns: "demo", service: "rollouts-demo", version: "blue", stable: "blue", canary: "green", want: 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := slices.IndexFunc(importCases, func(c importCase) bool { return c.name == tt.imp })
			dir, _ := importInto(t, importCases[i])
			m := loadCanaries(t, dir)[0].Spec.Analysis.Metrics[tt.metric]
			if m.Resolved == nil {
				t.Fatalf("metric %s has no MetricTemplate", m.Name)
			}
			q, err := metrics.Render(m.Resolved.Spec.Query, metrics.Vars{Service: tt.service, Namespace: tt.ns,
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

// counters is OpenMetrics text of family name of type typ (counter: its
// samples are name_total; unknown: name): one series per label set of
// rates, growing at its rate (per second) from start, every 15s.
func counters(name, typ string, start time.Time, span time.Duration, rates map[string]float64) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ)
	sample := name
	if typ == "counter" {
		sample += "_total"
	}
	for _, labels := range slices.Sorted(maps.Keys(rates)) {
		for d := time.Duration(0); d <= span; d += 15 * time.Second {
			fmt.Fprintf(&b, "%s{%s} %g %d\n", sample, labels, rates[labels]*d.Seconds(), start.Add(d).Unix())
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}

// TestImportedBuiltinsSelectTheCanary runs the error-rate queries the
// Flagger import writes for Contour (Envoy clusters NS_SERVICE_PORT) and
// Traefik (services NS-SERVICE-PORT@kubernetescrd) on a real Prometheus:
// they read the canary Service's series only (the arg is regexp-quoted, the
// port pattern is the template's).
func TestImportedBuiltinsSelectTheCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	envoy := counters("envoy_cluster_upstream_rq", "unknown", t0, 30*time.Minute, map[string]float64{
		`envoy_cluster_name="test_podinfo-canary_80",envoy_response_code="200"`:  9,
		`envoy_cluster_name="test_podinfo-canary_80",envoy_response_code="503"`:  1, // 10%
		`envoy_cluster_name="test_podinfo-primary_80",envoy_response_code="200"`: 15,
		`envoy_cluster_name="test_podinfo-primary_80",envoy_response_code="503"`: 5, // 25%
	})
	traefik := counters("traefik_service_requests", "counter", t0, 30*time.Minute, map[string]float64{
		`service="test-podinfo-canary-80@kubernetescrd",code="200"`:  17,
		`service="test-podinfo-canary-80@kubernetescrd",code="500"`:  3, // 15%
		`service="test-podinfo-primary-80@kubernetescrd",code="500"`: 5,
	})
	apisix := counters("apisix_http_status", "unknown", t0, 30*time.Minute, map[string]float64{
		`route="test_podinfo-canary_method",code="200"`: 16,
		`route="test_podinfo-canary_method",code="502"`: 4, // 20% of the route's requests
		`route="test_podinfo_method",code="502"`:        5,
	})
	om := append(bytes.TrimSuffix(envoy, []byte("# EOF\n")), bytes.TrimSuffix(traefik, []byte("# EOF\n"))...)
	om = append(om, apisix...)
	srv := promtest.Start(t, promtest.Options{OpenMetrics: om})
	c, err := api.NewClient(api.Config{Address: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(c)
	for _, tt := range []struct {
		dir, version string
		want         float64
	}{
		{"flagger-contour", "6.0.1", 10},
		{"flagger-traefik", "6.0.1", 15},
		{"flagger-apisix", "6.0.1", 20},
		// Flagger's Gateway API error-rate template (imported as a
		// MetricTemplate: 100 - success %) for each version.
		{"flagger-gatewayapi", "6.0.1", 10},
		{"flagger-gatewayapi", "6.0.0", 25},
	} {
		t.Run(tt.dir+" "+tt.version, func(t *testing.T) {
			dir, _ := importInto(t, importCase{dir: tt.dir, run: importer.Flagger, files: []string{"apps/podinfo/canary.yaml"}})
			m := loadCanaries(t, dir)[0].Spec.Analysis.Metrics[0]
			query := m.Query
			if m.Resolved != nil {
				query = m.Resolved.Spec.Query
			}
			q, err := metrics.Render(query, metrics.Vars{Service: "podinfo", Namespace: "test", Version: tt.version, Stable: "6.0.0", Canary: "6.0.1",
				Window: 5 * time.Minute, Args: m.TemplateArgs()})
			if err != nil {
				t.Fatal(err)
			}
			val, _, _, err := prom.Query(t.Context(), q, t0.Add(20*time.Minute))
			vec, ok := val.(model.Vector)
			if err != nil || !ok || len(vec) != 1 || math.Abs(float64(vec[0].Value)-tt.want) > 1e-9 {
				t.Fatalf("got %v, %v, want %v\n%s", val, err, tt.want, q)
			}
		})
	}
}
