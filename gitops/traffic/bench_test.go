package traffic

import (
	"fmt"
	"strings"
	"testing"
)

// manifest generates a multi-document file of about lines lines: Deployments
// with comments, then tail (the routing object) as the last document.
func manifest(lines int, tail string) []byte {
	var b strings.Builder
	for i := 0; strings.Count(b.String(), "\n") < lines-strings.Count(tail, "\n")-10; i++ {
		fmt.Fprintf(&b, `# service %[1]d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-%[1]d
  namespace: games
  labels: {app: svc-%[1]d, version: v%[1]d}
spec:
  replicas: 2
  selector:
    matchLabels: {app: svc-%[1]d}
  template:
    metadata:
      labels: {app: svc-%[1]d}
    spec:
      containers:
        - name: app
          image: "registry.example.com/games/svc-%[1]d:v1"
          env:
            - name: MODE
              value: 'fast' # tuned
---
`, i)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// benchCases are the routing objects and configs of the benchmark, one per
// provider.
var benchCases = []struct {
	cfg  Config
	tail string
}{
	{Config{Provider: "istio", Route: "primary", StableSubset: "production", CanarySubset: "canary"}, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: aleph
  namespace: games
spec:
  hosts: [aleph]
  http:
    - name: primary
      route:
        - destination: {host: aleph, subset: production}
          weight: 100
        - destination: {host: aleph, subset: canary}
          weight: 0
`},
	{Config{Provider: "gatewayapi", StableService: "aleph-primary", CanaryService: "aleph-canary"}, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: aleph
  namespace: games
spec:
  parentRefs: [{name: public}]
  rules:
    - backendRefs:
        - {name: aleph-primary, port: 80, weight: 100}
        - {name: aleph-canary, port: 80, weight: 0}
`},
	{Config{Provider: "smi", StableService: "aleph-primary", CanaryService: "aleph-canary"}, `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata:
  name: aleph
  namespace: games
spec:
  service: aleph
  backends:
    - service: aleph-primary
      weight: 100
    - service: aleph-canary
      weight: 0
`},
	{Config{Provider: "nginx", Route: "aleph-canary"}, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: aleph-canary
  namespace: games
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "0"
spec:
  ingressClassName: nginx
`},
	{Config{Provider: "yamlpath", CanaryWeightPath: "{kind=Application}spec.source.helm.parameters[name=canary.weight].value"}, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: aleph
  namespace: argocd
spec:
  source:
    helm:
      parameters:
        - name: canary.weight
          value: "0"
`},
}

// BenchmarkWeightsAndSetWeights reads the split and writes a new one
// (read + edit + serialize) in a generated 5,000-line multi-document file,
// for each provider.
func BenchmarkWeightsAndSetWeights(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.cfg.Provider, func(b *testing.B) {
			doc := manifest(5000, bc.tail)
			p, err := New(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				w, err := p.Weights(doc)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.SetWeights(doc, Weights{Stable: w.Stable - 10, Canary: w.Canary + 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchManifest keeps the benchmark honest: the file has 5,000 lines
// and every provider reads 100/0 from it.
func TestBenchManifest(t *testing.T) {
	for _, bc := range benchCases {
		t.Run(bc.cfg.Provider, func(t *testing.T) {
			doc := manifest(5000, bc.tail)
			if n := strings.Count(string(doc), "\n"); n < 4950 || n > 5050 {
				t.Errorf("manifest has %d lines, want about 5000", n)
			}
			p, err := New(bc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if w, err := p.Weights(doc); err != nil || w != (Weights{100, 0}) {
				t.Errorf("Weights = %v, %v; want 100/0", w, err)
			}
		})
	}
}

// BenchmarkSetRoutes adds a cookie route (and, where the provider can, a
// 20% mirror), reads the routes back and removes them again, in the
// generated 5,000-line file, for each Router.
func BenchmarkSetRoutes(b *testing.B) {
	for _, bc := range benchCases {
		p, err := New(bc.cfg)
		if err != nil {
			b.Fatal(err)
		}
		router, ok := p.(Router)
		if !ok {
			continue
		}
		r := Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(20)}
		if bc.cfg.Provider == "nginx" {
			r.Mirror = nil
		}
		b.Run(bc.cfg.Provider, func(b *testing.B) {
			doc := manifest(5000, bc.tail)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := router.SetRoutes(doc, r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := router.Routes(out); err != nil {
					b.Fatal(err)
				}
				if _, err := router.SetRoutes(out, Routes{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
