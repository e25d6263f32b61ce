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
		{name: "istio by host", traffic: "    provider: istio\n    file: apps/vs.yaml\n    stableService: podinfo-stable\n    canaryService: podinfo-canary\n"},
		{name: "istio by subset and by host", traffic: istio + "    stableService: a\n    canaryService: b\n",
			want: []string{"spec.traffic: istio splits by subset (stableSubset, canarySubset) or by host (stableService, canaryService), not both"}},
		{name: "istio by host with a host filter", traffic: "    provider: istio\n    file: apps/vs.yaml\n    host: a\n    stableService: a\n    canaryService: b\n",
			want: []string{"c.yaml:12: spec.traffic.host: not used when istio splits by host"}},
		{name: "alb", traffic: "    provider: alb\n    file: apps/ingress.yaml\n    route: split\n    stableService: web-stable\n    canaryService: web-canary\n"},
		{name: "alb without the action name", traffic: "    provider: alb\n    file: apps/ingress.yaml\n    stableService: web-stable\n    canaryService: web-canary\n",
			want: []string{"spec.traffic.route: required for alb: the action name in the Ingress annotation alb.ingress.kubernetes.io/actions.<route>"}},
		{name: "traefik", traffic: "    provider: traefik\n    file: apps/t.yaml\n    stableService: a\n    canaryService: b\n"},
		{name: "contour without services", traffic: "    provider: contour\n    file: apps/p.yaml\n",
			want: []string{"spec.traffic.stableService: required for contour", "spec.traffic.canaryService: required for contour"}},
		{name: "apisix", traffic: "    provider: apisix\n    file: apps/r.yaml\n    route: rule1\n    stableService: a\n    canaryService: b\n"},
		{name: "replicas by Deployment", traffic: "    provider: replicas\n    file: apps/d.yaml\n    stableDeployment: web-stable\n    canaryDeployment: web-canary\n    totalReplicas: 10\n"},
		{name: "replicas by path", traffic: "    provider: replicas\n    file: apps/values.yaml\n    stableReplicasPath: stable.replicaCount\n    canaryReplicasPath: canary.replicaCount\n"},
		{name: "replicas both ways", traffic: "    provider: replicas\n    file: apps/values.yaml\n    stableDeployment: a\n    stableReplicasPath: stable.replicaCount\n",
			want: []string{"spec.traffic: replicas scales the Deployments (stableDeployment, canaryDeployment) or the counts at stableReplicasPath and canaryReplicasPath, not both"}},
		{name: "replicas with a bad path and a negative total", traffic: "    provider: replicas\n    file: apps/values.yaml\n    stableReplicasPath: a[\n    canaryReplicasPath: b\n    totalReplicas: -2\n",
			want: []string{`spec.traffic.stableReplicasPath: parse path "a["`, "spec.traffic.totalReplicas: must not be negative, got -2"}},
		{name: "service", traffic: "    provider: service\n    file: apps/svc.yaml\n    activeService: web\n    previewService: web-preview\n    versionLabel: app.kubernetes.io/version\n"},
		{name: "service without the active Service", traffic: "    provider: service\n    file: apps/svc.yaml\n    previewService: web-preview\n",
			want: []string{"spec.traffic.activeService: required for service"}},
		{name: "a Deployment given to service", traffic: "    provider: service\n    file: apps/svc.yaml\n    activeService: web\n    stableDeployment: web\n",
			want: []string{"spec.traffic.stableDeployment: not used by provider service"}},
		{name: "a provider built elsewhere takes any field", traffic: "    provider: linkerd\n    file: apps/t.yaml\n    stableService: a\n    host: b\n"},
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
