package traffic

import (
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// canaryIngress builds the aleph-canary Ingress with the given annotation
// lines (each "key: value").
func canaryIngress(annotations ...string) string {
	s := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: aleph-canary\n  namespace: games\n"
	if len(annotations) > 0 {
		s += "  annotations:\n"
		for _, a := range annotations {
			s += "    " + a + "\n"
		}
	}
	return s + "spec:\n  ingressClassName: nginx\n"
}

const (
	isCanary = `nginx.ingress.kubernetes.io/canary: "true"`
	weight10 = `nginx.ingress.kubernetes.io/canary-weight: "10"`
)

func TestNGINXErrors(t *testing.T) {
	checkErrors(t, "nginx", Config{Route: "aleph-canary"}, []errorCase{
		{name: "no Ingress", doc: withWeights("100", "0"), err: ErrObjectNotFound, msg: "no Ingress (apiVersion networking.k8s.io/* or extensions/*) in the file"},
		{name: "canary Ingress not found", doc: canaryIngress(isCanary, weight10), cfg: Config{Route: "beta-canary"},
			err: ErrRouteNotFound, msg: `metadata.name: no Ingress named "beta-canary" in 1 Ingress(es)`},
		{name: "two Ingresses with the name", doc: canaryIngress(isCanary, weight10) + "---\n" + canaryIngress(isCanary, weight10),
			err: ErrAmbiguous, msg: `2 Ingresses are named "aleph-canary"`},
		{name: "not a canary", doc: canaryIngress(weight10), err: ErrShape,
			msg: `Ingress games/aleph-canary (document 0): metadata.annotations: not a canary Ingress: no nginx.ingress.kubernetes.io/canary annotation`},
		{name: "no annotations at all", doc: canaryIngress(), err: ErrShape, msg: "not a canary Ingress"},
		{name: "canary disabled", doc: canaryIngress(`nginx.ingress.kubernetes.io/canary: "false"`, weight10), err: ErrShape,
			msg: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary: is "false"`},
		{name: "canary unquoted", doc: canaryIngress(`nginx.ingress.kubernetes.io/canary: true`, weight10), err: ErrShape,
			msg: `true is not a string; Kubernetes annotation values must be quoted ("true")`},
		{name: "weight missing", doc: canaryIngress(isCanary), err: ErrMissingWeight,
			msg: `no nginx.ingress.kubernetes.io/canary-weight annotation (add nginx.ingress.kubernetes.io/canary-weight: "0")`},
		{name: "weight missing on set", doc: canaryIngress(isCanary), set: &Weights{90, 10}, err: ErrMissingWeight},
		{name: "weight unquoted", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: 10`), err: ErrShape,
			msg: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight: 10 is not a string`},
		{name: "weight unquoted on set", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: 10`), set: &Weights{50, 50}, err: ErrShape},
		{name: "weight not an integer", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: "ten"`), err: ErrShape, msg: `weight "ten" is not an integer`},
		{name: "weight out of range", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: "150"`), err: ErrInvalidWeights, msg: "weight 150 outside 0..100"},
		{name: "weight is a mapping", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: {v: 1}`), err: ErrShape, msg: "want a string"},
		{name: "weight total not 100", doc: canaryIngress(isCanary, weight10, `nginx.ingress.kubernetes.io/canary-weight-total: "1000"`), err: ErrShape,
			msg: `canary-weight-total: is "1000": birdwatch writes percentages`},
		{name: "set weights not summing to 100", doc: canaryIngress(isCanary, weight10), set: &Weights{100, 10}, err: ErrInvalidWeights, msg: "nginx: set weights"},
		{name: "aliased weight cannot be set", doc: canaryIngress(isCanary, `nginx.ingress.kubernetes.io/canary-weight: &w "10"`, `x: *w`),
			set: &Weights{50, 50}, err: yamledit.ErrUnsupported, msg: "set weights 50/50"},
	})
}
