package traffic

import (
	"path/filepath"
	"testing"
)

// The fuzz targets feed arbitrary files to each provider's edit path. The
// property: SetWeights either fails (and returns no output) or writes a file
// from which Weights reads back exactly the weights set. yamledit's own
// check guarantees that no other node changed.

func FuzzIstioSetWeights(f *testing.F) {
	f.Add([]byte(withWeights("&w 50", "*w")), 10, uint8(0))
	f.Add([]byte(withWeights("ninety", "10")+route("1", "99")), 0, uint8(0))
	fuzzSetWeights(f, "istio")
}

func FuzzGatewayAPISetWeights(f *testing.F) {
	f.Add([]byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nspec:\n  rules:\n  - backendRefs: [{name: aleph-primary, weight: &w 5}, {name: aleph-canary, weight: *w}]\n"), 10, uint8(0))
	fuzzSetWeights(f, "gatewayapi")
}

func FuzzSMISetWeights(f *testing.F) {
	f.Add([]byte("apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nspec:\n  backends:\n  - {service: bar, weight: 1}\n  - {service: baz, weight: 99m}\n"), 50, uint8(0))
	fuzzSetWeights(f, "smi")
}

func FuzzNGINXSetWeights(f *testing.F) {
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: aleph-canary\n  annotations: {nginx.ingress.kubernetes.io/canary: \"true\", nginx.ingress.kubernetes.io/canary-weight: 10}\n"), 20, uint8(0))
	fuzzSetWeights(f, "nginx")
}

func FuzzYAMLPathSetWeights(f *testing.F) {
	f.Add([]byte("canary:\n  weight: |\n    10\n"), 20, uint8(0))
	fuzzSetWeights(f, "yamlpath")
}

// fuzzSetWeights seeds the corpus with kind's golden inputs and fuzzes
// SetWeights with the configuration of the golden case the third argument
// picks, so that mutated seeds still match their configuration.
func fuzzSetWeights(f *testing.F, kind string) {
	var providers []Provider
	for _, c := range goldenCases() {
		if c.kind != kind {
			continue
		}
		f.Add(readFile(f, filepath.Join(c.dir(), "input.yaml")), c.set.Canary, uint8(len(providers)))
		providers = append(providers, c.provider(f))
	}
	f.Fuzz(func(t *testing.T, doc []byte, canary int, which uint8) {
		p := providers[int(which)%len(providers)]
		w := Weights{Stable: 100 - canary, Canary: canary}
		out, err := p.SetWeights(doc, w)
		if err != nil {
			if out != nil {
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
