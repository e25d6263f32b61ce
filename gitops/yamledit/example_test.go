package yamledit_test

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

func ExampleSet() {
	doc := []byte(`# subsets of aleph
spec:
  subsets:
    - name: production
      labels:
        version: v03   # stable
`)
	out, err := yamledit.Set(doc, "spec.subsets[name=production].labels.version", "v04")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// # subsets of aleph
	// spec:
	//   subsets:
	//     - name: production
	//       labels:
	//         version: v04   # stable
}

func ExampleApply() {
	doc := []byte("kind: ConfigMap\ndata:\n  mode: fast\n  ratio: '1'\n")
	out, err := yamledit.Apply(doc,
		yamledit.Edit{Path: "data.mode", Value: "0.4"}, // would read as a number: quoted
		yamledit.Edit{Path: "data.ratio", Value: "2"},  // keeps its single quotes
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// kind: ConfigMap
	// data:
	//   mode: "0.4"
	//   ratio: '2'
}

func ExampleInsertItem() {
	doc := []byte(`spec:
  http:
    # the default route
    - name: primary
      route:
        - destination: {host: aleph, subset: production}
`)
	var route yaml.Node // a *yaml.Node keeps the key order as written
	if err := yaml.Unmarshal([]byte(`
name: birdwatch-dev
match:
  - headers:
      cookie: {regex: "^(.*?;)?(user=developer)(;.*)?$"}
route:
  - destination: {host: aleph, subset: canary}
`), &route); err != nil {
		fmt.Println(err)
		return
	}
	out, err := yamledit.InsertItem(doc, "spec.http", 0, &route)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// spec:
	//   http:
	//     - name: birdwatch-dev
	//       match:
	//         - headers:
	//             cookie: {regex: "^(.*?;)?(user=developer)(;.*)?$"}
	//       route:
	//         - destination: {host: aleph, subset: canary}
	//     # the default route
	//     - name: primary
	//       route:
	//         - destination: {host: aleph, subset: production}
}

func ExampleDelete() {
	doc := []byte(`metadata:
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    # dark launch by header
    nginx.ingress.kubernetes.io/canary-by-header: x-canary
`)
	out, err := yamledit.Delete(doc, `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-header`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	out, err = yamledit.Delete(out, `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// metadata:
	//   annotations:
	//     nginx.ingress.kubernetes.io/canary: "true"
	// metadata:
	//   annotations: {}
}

func ExampleSetValue() {
	doc := []byte(`http:
- name: primary  # managed by birdwatch
  route:
  - destination: {host: aleph, subset: production}
`)
	out, err := yamledit.SetValue(doc, "http[name=primary].mirror", map[string]string{"host": "aleph", "subset": "canary"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err = yamledit.SetValue(out, "http[name=primary].name", "true") // a string that reads as a bool is quoted
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// http:
	// - name: "true"  # managed by birdwatch
	//   route:
	//   - destination: {host: aleph, subset: production}
	//   mirror:
	//     host: aleph
	//     subset: canary
}
