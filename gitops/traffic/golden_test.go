package traffic

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// change is one token substitution expected in a golden output, in file
// order: the old scalar source text and the new one.
type change struct{ old, new string }

// goldenCase is testdata/<kind>/<name>/input.yaml -> want.yaml: the
// weights read from the input, the weights set, and the only tokens that
// may differ.
type goldenCase struct {
	kind    string // provider kind
	name    string
	cfg     Config // Provider is filled in; istio subsets default to production/canary
	before  Weights
	set     Weights
	changes []change
	// stringWeights marks files whose weights are quoted strings; they stay
	// quoted, as the file's author wrote them.
	stringWeights bool
	// notResources marks files that are not Kubernetes objects (Helm
	// values, JSON patches), which kustomize cannot render.
	notResources bool
}

// Service names of the Gateway API cases.
var aleph = Config{StableService: "aleph-primary", CanaryService: "aleph-canary"}

// goldenCases are every provider's golden cases.
func goldenCases() []goldenCase {
	ch := func(pairs ...string) []change {
		var cs []change
		for i := 0; i+1 < len(pairs); i += 2 {
			cs = append(cs, change{pairs[i], pairs[i+1]})
		}
		return cs
	}
	withRoute := func(c Config, route string) Config { c.Route = route; return c }
	return []goldenCase{
		{kind: "istio", name: "aleph", before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10")},
		{kind: "istio", name: "comments", before: Weights{100, 0}, set: Weights{99, 1}, changes: ch("100", "99", "0", "1")},
		{kind: "istio", name: "crlf", before: Weights{99, 1}, set: Weights{90, 10}, changes: ch("99", "90", "1", "10")},
		{kind: "istio", name: "deployment-first", cfg: Config{Route: "primary"}, before: Weights{90, 10}, set: Weights{50, 50}, changes: ch("90", "50", "10", "50")},
		{kind: "istio", name: "anchors", cfg: Config{Host: "aleph.games.svc.cluster.local"}, before: Weights{50, 50}, set: Weights{0, 100}, changes: ch("50", "0", "50", "100")},
		{kind: "istio", name: "quoted-weights", before: Weights{75, 25}, set: Weights{100, 0}, changes: ch(`"75"`, `"100"`, `'25'`, `'0'`), stringWeights: true},
		{kind: "istio", name: "named-route", cfg: Config{Route: "primary"}, before: Weights{100, 0}, set: Weights{95, 5}, changes: ch("100", "95", "0", "5")},
		{kind: "istio", name: "flow-style", before: Weights{100, 0}, set: Weights{80, 20}, changes: ch("100", "80", "0", "20")},
		{kind: "istio", name: "two-virtualservices", before: Weights{80, 20}, set: Weights{60, 40}, changes: ch("80", "60", "20", "40")},
		{kind: "istio", name: "by-host", cfg: Config{StableService: "podinfo-stable", CanaryService: "podinfo-canary"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10")},
		{kind: "istio", name: "by-host-fqdn", cfg: Config{Route: "primary", StableService: "reviews-stable.bookinfo.svc.cluster.local", CanaryService: "reviews-canary.bookinfo.svc.cluster.local"}, before: Weights{80, 20}, set: Weights{20, 80}, changes: ch("80", "20", "20", "80")},
		{kind: "istio", name: "third-destination", before: Weights{70, 30}, set: Weights{40, 60}, changes: ch("30", "60", "70", "40")},

		{kind: "gatewayapi", name: "httproute", cfg: aleph, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10")},
		{kind: "gatewayapi", name: "crlf", cfg: aleph, before: Weights{90, 10}, set: Weights{50, 50}, changes: ch("10", "50", "90", "50")},
		{kind: "gatewayapi", name: "named-rules", cfg: withRoute(aleph, "api"), before: Weights{95, 5}, set: Weights{80, 20}, changes: ch("95", "80", "5", "20")},
		{kind: "gatewayapi", name: "grpcroute", cfg: aleph, before: Weights{99, 1}, set: Weights{75, 25}, changes: ch("99", "75", "1", "25")},
		{kind: "gatewayapi", name: "anchors", cfg: aleph, before: Weights{50, 50}, set: Weights{0, 100}, changes: ch("50", "0", "50", "100")},
		{kind: "gatewayapi", name: "route-by-object-name", cfg: withRoute(aleph, "aleph-public"), before: Weights{60, 40}, set: Weights{40, 60}, changes: ch("60", "40", "40", "60")},

		{kind: "smi", name: "v1alpha2", cfg: Config{StableService: "bookstore-v1", CanaryService: "bookstore-v2"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10")},
		{kind: "smi", name: "v1alpha1-milli", cfg: Config{StableService: "bar", CanaryService: "baz"}, before: Weights{50, 50}, set: Weights{90, 10}, changes: ch("50m", "90m", "50m", "10m"), stringWeights: true},
		{kind: "smi", name: "v1alpha4-matches", cfg: Config{StableService: "website-v1", CanaryService: "website-v2"}, before: Weights{100, 0}, set: Weights{50, 50}, changes: ch("100", "50", "0", "50")},
		{kind: "smi", name: "two-splits", cfg: Config{Route: "frontend", StableService: "web-primary", CanaryService: "web-canary"}, before: Weights{75, 25}, set: Weights{70, 30}, changes: ch("25", "30", "75", "70")},

		{kind: "nginx", name: "ingress", cfg: Config{Route: "aleph-canary"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch(`"0"`, `"10"`), stringWeights: true},
		{kind: "nginx", name: "single-quoted", cfg: Config{Route: "echo-canary"}, before: Weights{95, 5}, set: Weights{50, 50}, changes: ch(`'5'`, `'50'`), stringWeights: true},
		{kind: "nginx", name: "weight-total", cfg: Config{Route: "legacy-canary"}, before: Weights{0, 100}, set: Weights{100, 0}, changes: ch(`"100"`, `"0"`), stringWeights: true},

		{kind: "traefik", name: "weighted", cfg: Config{StableService: "podinfo-primary", CanaryService: "podinfo-canary"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10")},
		{kind: "traefik", name: "containous-flow", cfg: Config{StableService: "checkout-stable", CanaryService: "checkout-canary"}, before: Weights{95, 5}, set: Weights{50, 50}, changes: ch("95", "50", "5", "50")},
		{kind: "traefik", name: "behind-mirroring", cfg: Config{Route: "api-wrr", StableService: "api-stable", CanaryService: "api-canary"}, before: Weights{70, 30}, set: Weights{0, 100}, changes: ch("30", "100", "70", "0")},

		{kind: "contour", name: "httpproxy", cfg: Config{StableService: "podinfo-primary", CanaryService: "podinfo-canary"}, before: Weights{100, 0}, set: Weights{95, 5}, changes: ch("100", "95", "0", "5")},
		{kind: "contour", name: "mirror-and-include", cfg: Config{Route: "orders", StableService: "orders-stable", CanaryService: "orders-canary"}, before: Weights{80, 20}, set: Weights{60, 40}, changes: ch("80", "60", "20", "40")},

		{kind: "apisix", name: "apisixroute", cfg: Config{StableService: "httpbin-stable", CanaryService: "httpbin-canary"}, before: Weights{100, 0}, set: Weights{80, 20}, changes: ch("100", "80", "0", "20")},
		{kind: "apisix", name: "two-rules", cfg: Config{Route: "web", StableService: "site-stable", CanaryService: "site-canary"}, before: Weights{90, 10}, set: Weights{75, 25}, changes: ch("90", "75", "10", "25")},

		{kind: "alb", name: "folded", cfg: Config{Route: "podinfo-split", StableService: "podinfo-stable", CanaryService: "podinfo-canary"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("100", "90", "0", "10"), stringWeights: true},
		{kind: "alb", name: "literal-pretty", cfg: Config{Route: "shop", StableService: "shop-stable", CanaryService: "shop-canary"}, before: Weights{90, 10}, set: Weights{50, 50}, changes: ch("90", "50", "10", "50"), stringWeights: true},
		{kind: "alb", name: "single-quoted", cfg: Config{Route: "echo", StableService: "echo-stable", CanaryService: "echo-canary"}, before: Weights{75, 25}, set: Weights{99, 1}, changes: ch("25", "1", "75", "99"), stringWeights: true},
		{kind: "alb", name: "double-quoted", cfg: Config{Route: "legacy", StableService: "legacy-v1", CanaryService: "legacy-v2"}, before: Weights{50, 50}, set: Weights{100, 0}, changes: ch("50", "100", "50", "0"), stringWeights: true},

		{kind: "replicas", name: "deployments", cfg: Config{StableDeployment: "podinfo-stable", CanaryDeployment: "podinfo-canary"}, before: Weights{100, 0}, set: Weights{80, 20}, changes: ch("10", "8", "0", "2")},
		{kind: "replicas", name: "helm-values", cfg: Config{StableReplicasPath: "stable.replicaCount", CanaryReplicasPath: "canary.replicaCount"}, before: Weights{75, 25}, set: Weights{50, 50}, changes: ch("3", "2", "1", "2"), notResources: true},

		{kind: "service", name: "active-preview", cfg: Config{ActiveService: "checkout", PreviewService: "checkout-preview", StableVersion: "v1", CanaryVersion: "v2"}, before: Weights{100, 0}, set: Weights{0, 100}, changes: ch("v1", "v2"), stringWeights: true},
		{kind: "service", name: "custom-label", cfg: Config{ActiveService: "billing", VersionLabel: "app.kubernetes.io/version", StableVersion: "1.4.2", CanaryVersion: "1.5.0"}, before: Weights{100, 0}, set: Weights{0, 100}, changes: ch(`"1.4.2"`, `"1.5.0"`), stringWeights: true},

		{kind: "yamlpath", name: "helm-values", cfg: Config{CanaryWeightPath: "canary.weight"}, before: Weights{100, 0}, set: Weights{90, 10}, changes: ch("0", "10"), notResources: true},
		{kind: "yamlpath", name: "argocd-application", cfg: Config{CanaryWeightPath: "spec.source.helm.parameters[name=canary.weight].value",
			StableWeightPath: "spec.source.helm.parameters[name=stable.weight].value"}, before: Weights{100, 0}, set: Weights{75, 25}, changes: ch(`"100"`, `"75"`, `"0"`, `"25"`), stringWeights: true},
		{kind: "yamlpath", name: "kustomize-patch", cfg: Config{CanaryWeightPath: "{kind=VirtualService}spec.http[name=primary].route[destination.subset=canary].weight",
			StableWeightPath: "{kind=VirtualService}spec.http[name=primary].route[destination.subset=production].weight"}, before: Weights{90, 10}, set: Weights{50, 50}, changes: ch("90", "50", "10", "50")},
		{kind: "yamlpath", name: "json6902", cfg: Config{CanaryWeightPath: "[path=/spec/http/0/route/1/weight].value",
			StableWeightPath: "[path=/spec/http/0/route/0/weight].value"}, before: Weights{100, 0}, set: Weights{99, 1}, changes: ch("100", "99", "0", "1"), notResources: true},
	}
}

func (c goldenCase) dir() string { return filepath.Join("testdata", c.kind, c.name) }

func (c goldenCase) provider(t testing.TB) Provider {
	t.Helper()
	cfg := c.cfg
	cfg.Provider = c.kind
	if c.kind == "istio" && cfg.StableService == "" {
		cfg.StableSubset, cfg.CanarySubset = "production", "canary"
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			input := readFile(t, filepath.Join(tt.dir(), "input.yaml"))
			want := readFile(t, filepath.Join(tt.dir(), "want.yaml"))
			p := tt.provider(t)

			before, err := p.Weights(input)
			if err != nil || before != tt.before {
				t.Fatalf("Weights(input) = %v, %v; want %v", before, err, tt.before)
			}
			got, err := p.SetWeights(input, tt.set)
			if err != nil {
				t.Fatalf("SetWeights(%v): %v", tt.set, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from want.yaml\n--- got\n%s\n--- want\n%s", got, want)
			}
			assertOnlyTokensChanged(t, input, got, tt.changes)
			if after, err := p.Weights(got); err != nil || after != tt.set {
				t.Errorf("Weights(output) = %v, %v; want %v", after, err, tt.set)
			}
			back, err := p.SetWeights(got, tt.before)
			if err != nil || !bytes.Equal(back, input) {
				t.Errorf("setting the weights back to %v does not restore the input: %v\n%s", tt.before, err, back)
			}
		})
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// assertOnlyTokensChanged checks that out is in with exactly the given token
// substitutions, in file order, and no other byte changed. Each substitution
// is aligned at the last offset (within the common prefix) where in holds
// the old token and out the new one.
func assertOnlyTokensChanged(t *testing.T, in, out []byte, changes []change) {
	t.Helper()
	i, j := 0, 0
	for k, c := range changes {
		common := 0
		for i+common < len(in) && j+common < len(out) && in[i+common] == out[j+common] {
			common++
		}
		at := -1
		for s := common; s >= 0; s-- {
			if bytes.HasPrefix(in[i+s:], []byte(c.old)) && bytes.HasPrefix(out[j+s:], []byte(c.new)) {
				at = s
				break
			}
		}
		if at < 0 {
			t.Fatalf("change %d (%q -> %q) not found at byte %d of input", k, c.old, c.new, i+common)
		}
		i += at + len(c.old)
		j += at + len(c.new)
	}
	if !bytes.Equal(in[i:], out[j:]) {
		t.Fatalf("bytes after the last expected change differ (input byte %d)", i)
	}
}
