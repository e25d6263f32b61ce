package core

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// teamErrors is the Istio error rate kept as a MetricTemplate in the
// repository, on a Prometheus-compatible store behind a tenant gateway.
const teamErrors = `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: mesh-errors, namespace: games}
spec:
  provider: {type: prometheus, address: %s, secretRef: mimir, headers: {X-Scope-OrgID: games}}
  bad: >-
    sum(increase(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}",
    destination_service_name="{{ args.service-name }}", destination_version="{{ .Version }}", response_code=~"5.."}[{{ .Window }}])) or vector(0)
  total: >-
    sum(increase(istio_requests_total{reporter="destination", destination_workload_namespace="{{ .Namespace }}",
    destination_service_name="{{ args.service-name }}", destination_version="{{ .Version }}"}[{{ .Window }}]))
  args: {service-name: nobody}
`

// TestTemplateRefInTheLoop runs the loop on a canary whose only metric is a
// repository MetricTemplate: its counts reach the sequential judge through
// the provider the template names (bearer token from the deployment's
// secret, tenant header), and the evidence against v04 rolls it back.
func TestTemplateRefInTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	target, _ := url.Parse(prom)
	var authorized, refused atomic.Int64
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Scope-OrgID") != "games" {
			refused.Add(1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer gateway.Close()

	canary := strings.NewReplacer("judge: threshold", "judge: sequential").Replace(testSpec)
	canary = canary[:strings.Index(canary, "    metrics:\n")] + `    metrics:
      - name: error-rate
        templateRef: {name: mesh-errors}
        args: {service-name: aleph}
` + canary[strings.Index(canary, "  promote:"):]
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[".birdwatch/aleph.yaml"] = canary
	files[".birdwatch/templates/mesh.yaml"] = strings.Replace(teamErrors, "%s", gateway.URL, 1)
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c) // the default Prometheus is unreachable
	e.Judges["sequential"] = judge.Sequential{}
	e.Providers = metrics.NewRegistry(func(_ context.Context, name string) (string, error) {
		if name == "mimir" {
			return "s3cret", nil
		}
		return "", nil
	}, 2*time.Second)
	e.Providers.Add("prometheus", metrics.Kind{Dialect: metrics.PromQL, New: func(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
		return metrics.NewPrometheus(metrics.PrometheusConfig{URL: cfg.Address, BearerToken: cfg.Secret["token"], Headers: cfg.Headers})
	}})
	var last Outcome
	for range 20 {
		last = runOnce(t, e)
		if last.Decision.Status.Phase.Terminal() {
			break
		}
		c.advance(time.Minute)
	}
	st := statusAt(t, f, "main")
	if st.Phase != spec.PhaseRolledBack || last.Analysis == nil {
		t.Fatalf("phase %s, want a rollback on the template's counts", st.Phase)
	}
	if m := last.Analysis.Metrics[0]; m.Classification != judge.High || !strings.HasPrefix(m.Reason, "e=") || m.Unit != "percent" {
		t.Errorf("error-rate %s %q unit %q, want a count test that found the regression", m.Classification, m.Reason, m.Unit)
	}
	if authorized.Load() == 0 || refused.Load() != 0 {
		t.Errorf("gateway: %d authorized, %d refused queries", authorized.Load(), refused.Load())
	}
}
