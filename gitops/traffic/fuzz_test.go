package traffic

import (
	"bytes"
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

// The SetRoutes targets feed arbitrary files and the route sets of the
// golden cases to each Router. The property: SetRoutes either fails (and
// returns no output) or writes a file whose routes Routes reads, that
// SetRoutes with the same routes, or with what Routes read, leaves as it
// is, and whose weights are those of the input.

func FuzzIstioSetRoutes(f *testing.F) {
	f.Add([]byte(withWeights("&w 50", "*w")), uint8(0), uint8(2))
	fuzzSetRoutes(f, "istio")
}

func FuzzGatewayAPISetRoutes(f *testing.F) {
	f.Add([]byte("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nspec:\n  rules:\n  - filters: []\n    backendRefs: [{name: aleph-primary, weight: 5}, {name: aleph-canary, weight: 95}]\n"), uint8(0), uint8(2))
	fuzzSetRoutes(f, "gatewayapi")
}

func FuzzNGINXSetRoutes(f *testing.F) {
	fuzzSetRoutes(f, "nginx")
}

// fuzzSetRoutes seeds the corpus with kind's route golden files; the
// second argument picks the golden case's configuration, the third the
// routes of one of the cases' steps.
func fuzzSetRoutes(f *testing.F, kind string) {
	var routers []Router
	var sets []Routes
	for _, c := range routeCases() {
		if c.kind != kind {
			continue
		}
		routers = append(routers, c.router(f))
		f.Add(readFile(f, filepath.Join(c.dir(), "input.yaml")), uint8(len(routers)-1), uint8(len(sets)))
		for _, st := range c.steps {
			sets = append(sets, st.routes)
			f.Add(readFile(f, filepath.Join(c.dir(), st.want)), uint8(len(routers)-1), uint8(len(sets)-1))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, which, set uint8) {
		router, r := routers[int(which)%len(routers)], sets[int(set)%len(sets)]
		out, err := router.SetRoutes(doc, r)
		if err != nil {
			if out != nil {
				t.Fatalf("output returned with error %v", err)
			}
			return
		}
		read, err := router.Routes(out)
		if err != nil {
			t.Fatalf("SetRoutes(%+v) ok, but Routes fails: %v\ninput:\n%q\noutput:\n%q", r, err, doc, out)
		}
		if again, err := router.SetRoutes(out, r); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("SetRoutes(%+v) is not idempotent: %v\ninput:\n%q\nonce:\n%q\ntwice:\n%q", r, err, doc, out, again)
		}
		if back, err := router.SetRoutes(out, read); err != nil || !bytes.Equal(back, out) {
			t.Fatalf("SetRoutes(Routes(out) = %+v) changes out: %v\ninput:\n%q\nout:\n%q\nback:\n%q", read, err, doc, out, back)
		}
		if w, err := router.Weights(doc); err == nil {
			if got, err := router.Weights(out); err != nil || got != w {
				t.Fatalf("SetRoutes changed the weights from %v to %v, %v\ninput:\n%q\noutput:\n%q", w, got, err, doc, out)
			}
		}
	})
}

func FuzzALBSetRoutes(f *testing.F)     { fuzzSetRoutes(f, "alb") }
func FuzzTraefikSetRoutes(f *testing.F) { fuzzSetRoutes(f, "traefik") }
func FuzzContourSetRoutes(f *testing.F) { fuzzSetRoutes(f, "contour") }
