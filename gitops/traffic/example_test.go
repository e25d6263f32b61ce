package traffic_test

import (
	"bytes"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/gitops/traffic"
)

func ExampleNew() {
	vs := []byte(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: aleph, namespace: games}
spec:
  http:
    - name: primary
      route:
        - destination: {host: aleph, subset: production}
          weight: 100 # stable
        - destination: {host: aleph, subset: canary}
          weight: 0
`)
	p, err := traffic.New(traffic.Config{Provider: "istio", Route: "primary", StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.SetWeights(vs, traffic.Weights{Stable: 90, Canary: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := p.Weights(out)
	fmt.Println(w, err)
	_, err = traffic.New(traffic.Config{Provider: "traefik"})
	fmt.Println(err)
	// Output:
	// 90/10 <nil>
	// traffic provider "traefik" (known: gatewayapi, istio, nginx, smi, yamlpath): unknown traffic provider
}

// The yamlpath provider edits an Argo CD Application's Helm parameters;
// the quoted values stay quoted, as Argo CD needs strings.
func ExampleNewYAMLPath() {
	app := []byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: aleph, namespace: argocd}
spec:
  source:
    helm:
      parameters:
        - name: canary.weight
          value: "0"
`)
	p, err := traffic.NewYAMLPath(traffic.Config{CanaryWeightPath: "spec.source.helm.parameters[name=canary.weight].value"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := p.SetWeights(app, traffic.Weights{Stable: 75, Canary: 25})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out[bytes.Index(out, []byte("        - name")):]))
	// Output:
	//         - name: canary.weight
	//           value: "25"
}
