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
	_, err = traffic.New(traffic.Config{Provider: "linkerd"})
	fmt.Println(err)
	// Output:
	// 90/10 <nil>
	// traffic provider "linkerd" (known: alb, apisix, contour, gatewayapi, istio, nginx, replicas, service, smi, traefik, yamlpath): unknown traffic provider
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

// A dark launch: requests of developers (cookie user=developer) go to the
// canary before any user's do, and a fifth of the rest is mirrored to it.
// Removing the routes gives the file back as it was.
func ExampleRouter() {
	vs := []byte(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: aleph, namespace: games}
spec:
  hosts: [aleph]
  http:
    - name: primary
      route:
        - destination: {host: aleph, subset: production}
          weight: 100
        - destination: {host: aleph, subset: canary}
          weight: 0
`)
	p, err := traffic.New(traffic.Config{Provider: "istio", StableSubset: "production", CanarySubset: "canary"})
	if err != nil {
		fmt.Println(err)
		return
	}
	router := p.(traffic.Router)
	dev := traffic.HeaderRoute{Name: "dev", Match: []traffic.Match{{On: traffic.OnCookie, Name: "user", Op: traffic.Exact, Value: "developer"}}}
	out, err := router.SetRoutes(vs, traffic.Routes{Headers: []traffic.HeaderRoute{dev}, Mirror: &traffic.Mirror{Percent: 20}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out[bytes.Index(out, []byte("  http:")):]))
	back, err := router.SetRoutes(out, traffic.Routes{})
	fmt.Println(bytes.Equal(back, vs), err)
	// Output:
	//   http:
	//     - name: birdwatch-dev
	//       match:
	//         - headers:
	//             cookie:
	//               regex: ^(.*?;\s*)?user=developer(;.*)?$
	//       route:
	//         - destination: {host: aleph, subset: canary}
	//     - name: primary
	//       route:
	//         - destination: {host: aleph, subset: production}
	//           weight: 100
	//         - destination: {host: aleph, subset: canary}
	//           weight: 0
	//       mirror: {host: aleph, subset: canary}
	//       mirrorPercentage:
	//         value: 20
	// true <nil>
}
