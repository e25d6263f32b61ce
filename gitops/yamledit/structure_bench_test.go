package yamledit

import (
	"fmt"
	"strings"
	"testing"
)

// virtualService generates an Istio VirtualService with routes http
// routes, each with a match, two weighted destinations and a comment.
func virtualService(routes int) []byte {
	var b strings.Builder
	b.WriteString(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: aleph
  namespace: games
spec:
  hosts:
    - aleph
  http:
`)
	for i := range routes {
		fmt.Fprintf(&b, `    # route %[1]d
    - name: route-%[1]d
      match:
        - uri:
            prefix: /api/v%[1]d
      route:
        - destination:
            host: aleph
            subset: production
          weight: 90
        - destination:
            host: aleph
            subset: canary
          weight: 10 # canary
`, i)
	}
	return []byte(b.String())
}

// BenchmarkInsertItem inserts a header route before the default route of
// a 200-route VirtualService (parse, locate, render, splice, re-parse and
// compare).
func BenchmarkInsertItem(b *testing.B) {
	doc := virtualService(200)
	value := map[string]any{
		"name":  "birdwatch-dev",
		"match": []any{map[string]any{"headers": map[string]any{"cookie": map[string]any{"exact": "user=developer"}}}},
		"route": []any{map[string]any{"destination": map[string]any{"host": "aleph", "subset": "canary"}}},
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InsertItem(doc, "spec.http", 199, value); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelete deletes a route in the middle of a 200-route
// VirtualService, found by a name selector.
func BenchmarkDelete(b *testing.B) {
	doc := virtualService(200)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Delete(doc, "spec.http[name=route-100]"); err != nil {
			b.Fatal(err)
		}
	}
}
