package traffic

import (
	"path/filepath"
	"testing"
)

func FuzzSetWeights(f *testing.F) {
	for _, c := range goldenCases() {
		f.Add(readFile(f, filepath.Join("testdata", "istio", c.name, "input.yaml")), c.set.Canary)
	}
	f.Add([]byte(withWeights("&w 50", "*w")), 10)
	f.Add([]byte(withWeights("ninety", "10")+route("1", "99")), 0)
	p, err := New(Config{Provider: "istio", StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte, canary int) {
		w := Weights{Stable: 100 - canary, Canary: canary}
		out, err := p.SetWeights(doc, w)
		if err != nil {
			if w.Validate() == nil && out != nil {
				t.Fatalf("output returned with error %v", err)
			}
			return
		}
		if w.Validate() != nil {
			t.Fatalf("SetWeights accepted invalid weights %v", w)
		}
		got, err := p.Weights(out)
		if err != nil || got != w {
			t.Fatalf("SetWeights(%v) ok, but Weights reads %v, %v\ninput:\n%q\noutput:\n%q", w, got, err, doc, out)
		}
	})
}
