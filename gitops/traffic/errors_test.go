package traffic

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// vs builds a VirtualService document with the given http section.
func vs(http string) string {
	return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: aleph\n  namespace: games\nspec:\n  hosts: [aleph]\n" + http
}

// route is one http route item named primary with the two destinations.
func route(stable, canary string) string {
	return fmt.Sprintf(`  - name: primary
    route:
    - destination: {host: aleph, subset: production}
      weight: %s
    - destination: {host: aleph, subset: canary}
      weight: %s
`, stable, canary)
}

func withWeights(stable, canary string) string {
	return vs("  http:\n" + route(stable, canary))
}

// errorCase is one bad input for a provider: a file, a config (merged over
// the test's defaults) and, for SetWeights, the weights to set.
type errorCase struct {
	name string
	doc  string
	cfg  Config
	set  *Weights // nil: call Weights, else SetWeights
	err  error
	msg  string // substring of the message
}

// checkErrors runs cases against provider kind with defaults for the
// config fields a case leaves empty.
func checkErrors(t *testing.T, kind string, defaults Config, cases []errorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := overlay(defaults, tt.cfg)
			cfg.Provider = kind
			p, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.set == nil {
				_, err = p.Weights([]byte(tt.doc))
			} else {
				var out []byte
				out, err = p.SetWeights([]byte(tt.doc), *tt.set)
				if out != nil {
					t.Errorf("output returned with error")
				}
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// overlay returns base with the non-empty fields of over.
func overlay(base, over Config) Config {
	for _, f := range []struct{ dst, src *string }{
		{&base.Route, &over.Route}, {&base.Host, &over.Host}, {&base.StableSubset, &over.StableSubset},
		{&base.CanarySubset, &over.CanarySubset}, {&base.StableService, &over.StableService},
		{&base.CanaryService, &over.CanaryService}, {&base.CanaryWeightPath, &over.CanaryWeightPath},
		{&base.StableWeightPath, &over.StableWeightPath}, {&base.StableDeployment, &over.StableDeployment},
		{&base.CanaryDeployment, &over.CanaryDeployment}, {&base.StableReplicasPath, &over.StableReplicasPath},
		{&base.CanaryReplicasPath, &over.CanaryReplicasPath}, {&base.ActiveService, &over.ActiveService},
		{&base.PreviewService, &over.PreviewService}, {&base.VersionLabel, &over.VersionLabel},
		{&base.StableVersion, &over.StableVersion}, {&base.CanaryVersion, &over.CanaryVersion},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	return base
}

func TestIstioErrors(t *testing.T) {
	checkErrors(t, "istio", Config{StableSubset: "production", CanarySubset: "canary"}, []errorCase{
		{name: "no VirtualService", doc: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: aleph}\n", err: ErrObjectNotFound, msg: "no VirtualService"},
		{name: "VirtualService of another API group", doc: strings.Replace(withWeights("100", "0"), "networking.istio.io", "example.com", 1), err: ErrObjectNotFound},
		{name: "empty file", doc: "", err: ErrObjectNotFound},
		{name: "route name not found", doc: withWeights("100", "0"), cfg: Config{Route: "nope"}, err: ErrRouteNotFound, msg: `no route named "nope"`},
		{name: "no route with either subset", doc: withWeights("100", "0"), cfg: Config{StableSubset: "blue", CanarySubset: "green"}, err: ErrRouteNotFound, msg: `subsets "blue" and "green"`},
		{name: "canary destination missing", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n"), err: ErrDestinationNotFound,
			msg: `VirtualService games/aleph (document 0): spec.http[0].route: no destination with subset "canary"`},
		{name: "stable destination missing in named route", doc: vs("  http:\n  - name: primary\n    route:\n    - destination: {host: aleph, subset: canary}\n      weight: 0\n"), cfg: Config{Route: "primary"},
			err: ErrDestinationNotFound, msg: `spec.http[0].route: no destination with subset "production"`},
		{name: "host filter excludes the destinations", doc: withWeights("100", "0"), cfg: Config{Host: "beta"}, err: ErrRouteNotFound, msg: `and host "beta"`},
		{name: "named route without destinations", doc: vs("  http:\n  - name: primary\n    redirect: {uri: /v2}\n"), cfg: Config{Route: "primary"}, err: ErrDestinationNotFound, msg: "spec.http[0].route: route has no destinations"},
		{name: "weight missing", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n      weight: 100\n    - destination: {host: aleph, subset: canary}\n"),
			err: ErrMissingWeight, msg: "spec.http[0].route[1]: no weight"},
		{name: "weight missing on set", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n    - destination: {host: aleph, subset: canary}\n"),
			set: &Weights{90, 10}, err: ErrMissingWeight, msg: "spec.http[0].route[0]: no weight"},
		{name: "weights do not sum to 100", doc: withWeights("90", "0"), err: ErrInvalidWeights, msg: "spec.http[0].route: weights 90"},
		{name: "weight out of range", doc: withWeights("120", "-20"), err: ErrInvalidWeights, msg: "spec.http[0].route[0].weight: weight 120 outside 0..100"},
		{name: "weight not an integer", doc: withWeights("ninety", "10"), err: ErrShape, msg: `weight "ninety" is not an integer`},
		{name: "weight is a mapping", doc: withWeights("{value: 90}", "10"), err: ErrShape, msg: "spec.http[0].route[0].weight: want an integer"},
		{name: "http is not a list", doc: vs("  http: {route: []}\n"), err: ErrShape, msg: "spec.http: want a list of routes"},
		{name: "route is not a list", doc: vs("  http:\n  - name: primary\n    route: {destination: {}}\n"), cfg: Config{Route: "primary"}, err: ErrShape, msg: "spec.http[0].route: want a list"},
		{name: "other destination carries traffic", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n      weight: 80\n    - destination: {host: aleph, subset: canary}\n      weight: 10\n    - destination: {host: aleph, subset: old}\n      weight: 10\n"),
			set: &Weights{50, 50}, err: ErrInvalidWeights, msg: "spec.http[0].route[2].weight: destination is neither stable nor canary"},
		{name: "two routes with both subsets", doc: withWeights("100", "0") + route("100", "0"), err: ErrAmbiguous, msg: "set the route name"},
		{name: "subset twice in one route", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n      weight: 50\n    - destination: {host: aleph, subset: production}\n      weight: 50\n"),
			err: ErrAmbiguous, msg: `destinations 0 and 1 both have subset "production"`},
		{name: "set weights not summing to 100", doc: withWeights("100", "0"), set: &Weights{50, 60}, err: ErrInvalidWeights, msg: "stable 50 + canary 60"},
		{name: "set negative weight", doc: withWeights("100", "0"), set: &Weights{101, -1}, err: ErrInvalidWeights},
		{name: "aliased weight cannot be set", doc: vs("  http:\n  - route:\n    - destination: {host: aleph, subset: production}\n      weight: &w 50\n    - destination: {host: aleph, subset: canary}\n      weight: *w\n"),
			set: &Weights{90, 10}, err: yamledit.ErrUnsupported, msg: "spec.http[0].route: set weights 90/10"},
		{name: "YAML syntax error", doc: "kind: VirtualService\n  spec: [\n", err: yamledit.ErrSyntax},
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  error
		msg  string
	}{
		{name: "istio", cfg: Config{Provider: "istio", StableSubset: "production", CanarySubset: "canary"}},
		{name: "unknown kind names it and the known kinds", cfg: Config{Provider: "linkerd"}, err: ErrUnknownProvider, msg: `"linkerd" (known: alb, apisix, contour, gatewayapi, istio, nginx, replicas, service, smi, traefik, yamlpath)`},
		{name: "empty kind", cfg: Config{}, err: ErrUnknownProvider, msg: "known: alb, apisix, contour, gatewayapi, istio"},
		{name: "istio without subsets", cfg: Config{Provider: "istio"}, err: ErrInvalidConfig, msg: "required"},
		{name: "istio with equal subsets", cfg: Config{Provider: "istio", StableSubset: "a", CanarySubset: "a"}, err: ErrInvalidConfig, msg: `both "a"`},
		{name: "gatewayapi", cfg: Config{Provider: "gatewayapi", StableService: "aleph-primary", CanaryService: "aleph-canary"}},
		{name: "gatewayapi without services", cfg: Config{Provider: "gatewayapi", StableSubset: "production", CanarySubset: "canary"}, err: ErrInvalidConfig, msg: "gatewayapi: stableService and canaryService are required"},
		{name: "smi with equal services", cfg: Config{Provider: "smi", StableService: "web", CanaryService: "web"}, err: ErrInvalidConfig, msg: `smi: stableService and canaryService are both "web"`},
		{name: "nginx", cfg: Config{Provider: "nginx", Route: "aleph-canary"}},
		{name: "nginx without the canary Ingress name", cfg: Config{Provider: "nginx"}, err: ErrInvalidConfig, msg: "route (the canary Ingress's metadata.name) is required"},
		{name: "yamlpath", cfg: Config{Provider: "yamlpath", CanaryWeightPath: "canary.weight"}},
		{name: "yamlpath without a path", cfg: Config{Provider: "yamlpath", StableWeightPath: "stable.weight"}, err: ErrInvalidConfig, msg: "canaryWeightPath is required"},
		{name: "yamlpath with a malformed path", cfg: Config{Provider: "yamlpath", CanaryWeightPath: "spec.x[name=a"}, err: ErrInvalidConfig, msg: `parse path "spec.x[name=a"`},
		{name: "yamlpath with equal paths", cfg: Config{Provider: "yamlpath", CanaryWeightPath: "w", StableWeightPath: "w"}, err: ErrInvalidConfig, msg: `both "w"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if tt.err == nil {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v", p, err)
				}
				return
			}
			if !errors.Is(err, tt.err) || p != nil {
				t.Fatalf("New = %v, %v; want error %v", p, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestWeightsValidate(t *testing.T) {
	tests := []struct {
		name  string
		w     Weights
		valid bool
	}{
		{name: "all stable", w: Weights{100, 0}, valid: true},
		{name: "split", w: Weights{37, 63}, valid: true},
		{name: "all canary", w: Weights{0, 100}, valid: true},
		{name: "zero value", w: Weights{}},
		{name: "sum above 100", w: Weights{60, 50}},
		{name: "negative", w: Weights{110, -10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.w.Validate()
			if (err == nil) != tt.valid || (err != nil && !errors.Is(err, ErrInvalidWeights)) {
				t.Fatalf("Validate(%v) = %v, want valid=%v", tt.w, err, tt.valid)
			}
		})
	}
}
