package traffic

import (
	"fmt"
	"strings"
	"testing"
)

// manifest generates a multi-document file of about lines lines: Deployments
// with comments, then the aleph VirtualService as the last document.
func manifest(lines int) []byte {
	var b strings.Builder
	for i := 0; strings.Count(b.String(), "\n") < lines-25; i++ {
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
	b.WriteString(`apiVersion: networking.istio.io/v1
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
`)
	return []byte(b.String())
}

// BenchmarkWeightsAndSetWeights reads the split and writes a new one
// (read + edit + serialize) in a generated 5,000-line multi-document file.
func BenchmarkWeightsAndSetWeights(b *testing.B) {
	doc := manifest(5000)
	p, err := New(Config{Provider: "istio", Route: "primary", StableSubset: "production", CanarySubset: "canary"})
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
}
