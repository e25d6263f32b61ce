package yamledit

import (
	"fmt"
	"strings"
	"testing"
)

// manifest generates a multi-document file of about lines lines: commented
// Deployments, then a DestinationRule as the last document.
func manifest(lines int) []byte {
	var b strings.Builder
	for i := 0; strings.Count(b.String(), "\n") < lines-20; i++ {
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
kind: DestinationRule
metadata:
  name: aleph
  namespace: games
spec:
  host: aleph
  subsets:
    - name: production
      labels:
        version: v03
    - name: canary
      labels:
        version: v04
`)
	return []byte(b.String())
}

// BenchmarkGetAndSet reads a value and writes a new one (read + edit +
// serialize) in the last document of a generated 5,000-line file.
func BenchmarkGetAndSet(b *testing.B) {
	doc := manifest(5000)
	const path = "{kind=DestinationRule}spec.subsets[name=production].labels.version"
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Parse(doc)
		if err != nil {
			b.Fatal(err)
		}
		v, err := f.Get(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Apply(Edit{Path: path, Value: v + "-next"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures the YAML parse alone, the floor under every call.
func BenchmarkParse(b *testing.B) {
	doc := manifest(5000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
