package traffic_test

import (
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
	_, err = traffic.New(traffic.Config{Provider: "nginx"})
	fmt.Println(err)
	// Output:
	// 90/10 <nil>
	// traffic provider "nginx" (known: istio): unknown traffic provider
}
