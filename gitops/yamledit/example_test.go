package yamledit_test

import (
	"fmt"

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
