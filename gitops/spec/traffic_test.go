package spec

import (
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// TestTrafficProviderFields checks the per-provider fields of
// spec.traffic: what each built-in provider requires, and fields set for a
// provider that does not read them.
func TestTrafficProviderFields(t *testing.T) {
	const istio = "    provider: istio\n    file: apps/vs.yaml\n    stableSubset: production\n    canarySubset: canary\n"
	checks := Checks{Path: func(p string) error { _, err := yamledit.ParsePath(p); return err }}
	tests := []struct {
		name    string
		traffic string   // the lines under spec.traffic
		want    []string // problems; none means valid
	}{
		{name: "istio", traffic: istio},
		{name: "gatewayapi", traffic: "    provider: gatewayapi\n    file: apps/route.yaml\n    route: api\n    stableService: aleph-primary\n    canaryService: aleph-canary\n"},
		{name: "smi", traffic: "    provider: smi\n    file: apps/split.yaml\n    stableService: aleph-primary\n    canaryService: aleph-canary\n"},
		{name: "nginx", traffic: "    provider: nginx\n    file: apps/ingress.yaml\n    route: aleph-canary\n"},
		{name: "yamlpath", traffic: "    provider: yamlpath\n    file: apps/app.yaml\n    canaryWeightPath: spec.source.helm.parameters[name=canary.weight].value\n    stableWeightPath: spec.source.helm.parameters[name=stable.weight].value\n"},
		{name: "a provider built elsewhere takes any field", traffic: "    provider: traefik\n    file: apps/t.yaml\n    stableService: a\n    host: b\n"},
		{name: "gatewayapi without canaryService", traffic: "    provider: gatewayapi\n    file: apps/route.yaml\n    stableService: aleph-primary\n",
			want: []string{"c.yaml:9: spec.traffic.canaryService: required for gatewayapi"}},
		{name: "smi with equal services", traffic: "    provider: smi\n    file: apps/split.yaml\n    stableService: web\n    canaryService: web\n",
			want: []string{"c.yaml:13: spec.traffic.canaryService: must differ from stableService"}},
		{name: "nginx without the Ingress name", traffic: "    provider: nginx\n    file: apps/ingress.yaml\n",
			want: []string{"c.yaml:9: spec.traffic.route: required for nginx: the canary Ingress's metadata.name"}},
		{name: "yamlpath without a path", traffic: "    provider: yamlpath\n    file: apps/values.yaml\n",
			want: []string{"spec.traffic.canaryWeightPath: required for yamlpath"}},
		{name: "yamlpath with a malformed path", traffic: "    provider: yamlpath\n    file: apps/values.yaml\n    canaryWeightPath: canary[weight\n",
			want: []string{`c.yaml:12: spec.traffic.canaryWeightPath: parse path "canary[weight"`}},
		{name: "yamlpath with equal paths", traffic: "    provider: yamlpath\n    file: apps/values.yaml\n    canaryWeightPath: w\n    stableWeightPath: w\n",
			want: []string{"c.yaml:13: spec.traffic.stableWeightPath: must differ from canaryWeightPath"}},
		{name: "subsets given to gatewayapi", traffic: "    provider: gatewayapi\n    file: apps/route.yaml\n    stableSubset: production\n    canarySubset: canary\n    stableService: a\n    canaryService: b\n",
			want: []string{"c.yaml:12: spec.traffic.stableSubset: not used by provider gatewayapi", "c.yaml:13: spec.traffic.canarySubset: not used by provider gatewayapi"}},
		{name: "a weight path given to istio", traffic: istio + "    canaryWeightPath: canary.weight\n",
			want: []string{"c.yaml:14: spec.traffic.canaryWeightPath: not used by provider istio"}},
		{name: "host given to nginx", traffic: "    provider: nginx\n    file: apps/ingress.yaml\n    route: aleph-canary\n    host: aleph\n",
			want: []string{"c.yaml:13: spec.traffic.host: not used by provider nginx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(base, istio, tt.traffic, 1)
			_, err := ParseCanaries("c.yaml", []byte(doc), checks)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ParseCanaries: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}
