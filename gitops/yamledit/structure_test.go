package yamledit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/structure/want/*.yaml from the current output")

// yamlText is a test value given as YAML source; it is decoded to a
// *yaml.Node so key order and style are the test's.
type yamlText string

// structOp is one structural edit: insert (InsertItem at index), delete or
// set (SetValue).
type structOp struct {
	op    string
	path  string
	index int
	value any
}

func (o structOp) apply(t *testing.T, doc []byte) ([]byte, error) {
	t.Helper()
	v := o.value
	if s, ok := v.(yamlText); ok {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatalf("test value %q: %v", s, err)
		}
		v = &n
	}
	switch o.op {
	case "insert":
		return InsertItem(doc, o.path, o.index, v)
	case "delete":
		return Delete(doc, o.path)
	case "set":
		return SetValue(doc, o.path, v)
	}
	t.Fatalf("unknown op %q", o.op)
	return nil, nil
}

// undo returns the Delete that takes the edit back, if there is one: the
// inserted item, or a key SetValue added.
func (o structOp) undo(doc []byte) (string, bool) {
	switch o.op {
	case "insert":
		return fmt.Sprintf("%s[%d]", o.path, o.index), true
	case "set":
		// A key added to a non-empty mapping; an empty or null one reads
		// back as {} after the Delete.
		p, err := ParsePath(o.path)
		if err != nil || len(p.steps) < 2 {
			return "", false
		}
		parent, err := lookupNode(doc, Path{doc: p.doc, steps: p.steps[:len(p.steps)-1]}.String())
		if err != nil || parent.Kind != yaml.MappingNode || len(parent.Content) == 0 {
			return "", false
		}
		_, err = lookupNode(doc, o.path)
		return o.path, err != nil
	}
	return "", false
}

// lookupNode resolves path in the first document where it resolves (a test
// helper: the package API is Get for scalars).
func lookupNode(doc []byte, path string) (*yaml.Node, error) {
	f, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	r, err := find(f.docs, p)
	if err != nil {
		return nil, err
	}
	return r.node, nil
}

const (
	istio   = "istio-virtualservice.yaml"
	httpR   = "gatewayapi-httproute.yaml"
	ingress = "nginx-ingress.yaml"
)

const headerRoute = yamlText(`name: birdwatch-dev
match:
  - headers:
      cookie:
        regex: "^(.*?;)?(user=developer)(;.*)?$"
route:
  - destination:
      host: aleph
      subset: canary
`)

func TestStructuralGolden(t *testing.T) {
	tests := []struct {
		name  string
		input string
		ops   []structOp
	}{
		{name: "istio-header-route-first", input: istio, ops: []structOp{{op: "insert", path: "spec.http", index: 0, value: headerRoute}}},
		{name: "istio-header-route-before-default", input: istio, ops: []structOp{{op: "insert", path: "spec.http", index: 2, value: headerRoute}}},
		{name: "istio-append-route", input: istio, ops: []structOp{{op: "insert", path: "spec.http", index: 3, value: headerRoute}}},
		{name: "istio-delete-commented-route", input: istio, ops: []structOp{{op: "delete", path: "spec.http[name=pinned]"}}},
		{name: "istio-delete-route-between-blank-lines", input: istio, ops: []structOp{{op: "delete", path: "spec.http[name=health]"}}},
		{name: "istio-delete-last-route", input: istio, ops: []structOp{{op: "delete", path: "spec.http[2]"}}},
		{name: "istio-mirror", input: istio, ops: []structOp{
			{op: "set", path: "spec.http[name=primary].mirror", value: yamlText("host: aleph\nsubset: canary\n")},
			{op: "set", path: "spec.http[name=primary].mirrorPercentage", value: yamlText("value: 25.0\n")},
		}},
		{name: "istio-remove-mirror", input: "istio-mirror", ops: []structOp{
			{op: "delete", path: "spec.http[name=primary].mirrorPercentage"},
			{op: "delete", path: "spec.http[name=primary].mirror"},
		}},
		{name: "istio-replace-route-list", input: istio, ops: []structOp{
			{op: "set", path: "spec.http[name=pinned].route", value: yamlText("- destination: {host: aleph, subset: canary}\n  weight: 100\n")},
		}},
		{name: "istio-set-scalar-keeps-comment", input: istio, ops: []structOp{
			{op: "set", path: "metadata.name", value: "true"},
			{op: "set", path: "spec.http[name=primary].retries.perTryTimeout", value: "1.0"},
		}},
		{name: "istio-delete-first-key-of-item", input: istio, ops: []structOp{{op: "delete", path: "spec.http[name=health].name"}}},
		{name: "istio-fill-empty-list", input: istio, ops: []structOp{{op: "insert", path: "spec.tcp", index: 0, value: yamlText("route:\n  - destination: {host: aleph}\n")}}},
		{name: "httproute-header-rule-first", input: httpR, ops: []structOp{{op: "insert", path: "spec.rules", index: 0, value: yamlText(`matches:
  - headers:
      - type: RegularExpression
        name: cookie
        value: "^(.*?;)?(user=developer)(;.*)?$"
  - queryParams:
      - type: Exact
        name: canary
        value: "true"
backendRefs:
  - name: aleph-v04
    port: 8080
`)}}},
		{name: "httproute-add-match", input: httpR, ops: []structOp{{op: "insert", path: "spec.rules[0].matches", index: 1, value: yamlText("headers:\n  - name: x-canary\n    value: \"1\"\n")}}},
		{name: "httproute-mirror-filter-new-key", input: httpR, ops: []structOp{{op: "set", path: "spec.rules[1].filters", value: yamlText(`- type: RequestMirror
  requestMirror:
    backendRef:
      name: aleph-v04
      port: 8080
    percent: 20
`)}}},
		{name: "httproute-mirror-filter-append", input: httpR, ops: []structOp{{op: "insert", path: "spec.rules[0].filters", index: 1, value: yamlText("type: RequestMirror\nrequestMirror:\n  backendRef: {name: aleph-v04, port: 8080}\n")}}},
		{name: "httproute-delete-filter", input: httpR, ops: []structOp{{op: "delete", path: "spec.rules[0].filters[type=RequestHeaderModifier]"}}},
		{name: "httproute-delete-first-rule", input: httpR, ops: []structOp{{op: "delete", path: "spec.rules[0]"}}},
		{name: "httproute-delete-backend", input: httpR, ops: []structOp{{op: "delete", path: "spec.rules[1].backendRefs[name=aleph-v04]"}}},
		{name: "ingress-canary-by-header", input: ingress, ops: []structOp{
			{op: "set", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-header`, value: "x-birdwatch"},
			{op: "set", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-header-value`, value: "always"},
			{op: "set", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-cookie`, value: "user"},
		}},
		{name: "ingress-delete-annotation", input: ingress, ops: []structOp{
			{op: "delete", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-by-header`},
			{op: "delete", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight`},
		}},
		{name: "ingress-weight-as-string", input: ingress, ops: []structOp{
			{op: "set", path: `metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight`, value: "25"},
		}},
		{name: "multidoc-selector", input: "multidoc.yaml", ops: []structOp{
			{op: "insert", path: "{kind=VirtualService,metadata.name=aleph}spec.http", index: 0, value: headerRoute},
		}},
		{name: "multidoc-end-of-document", input: "multidoc.yaml", ops: []structOp{
			{op: "insert", path: "{kind=Service}spec.ports", index: 1, value: yamlText("port: 9090\nname: metrics\n")},
			{op: "insert", path: "{kind=VirtualService}spec.http", index: 1, value: yamlText("name: fallback\nroute: [{destination: {host: aleph}}]\n")},
			{op: "set", path: "{kind=DestinationRule}spec.subsets[name=canary].labels.track", value: "canary"},
		}},
		{name: "multidoc-delete-at-document-end", input: "multidoc.yaml", ops: []structOp{
			{op: "delete", path: "{kind=DestinationRule}spec.subsets[name=canary]"},
			{op: "delete", path: "{0}spec.ports[0].name"},
		}},
		{name: "crlf", input: "crlf.yaml", ops: []structOp{
			{op: "insert", path: "spec.http", index: 0, value: headerRoute},
			{op: "set", path: "spec.http[name=primary].mirror", value: yamlText("host: aleph\nsubset: canary\n")},
			{op: "insert", path: "spec.http", index: 2, value: yamlText("name: last\n")},
		}},
		{name: "crlf-delete", input: "crlf.yaml", ops: []structOp{{op: "delete", path: "spec.http[0].route[0].weight"}}},
		{name: "indent4", input: "indent4.yaml", ops: []structOp{
			{op: "insert", path: "spec.http", index: 0, value: headerRoute},
			{op: "set", path: "metadata.annotations.birdwatch\\.dev/canary", value: "aleph"},
		}},
		{name: "no-final-newline-append", input: "no-final-newline.yaml", ops: []structOp{{op: "insert", path: "routes", index: 2, value: yamlText("name: c\nweight: 3\n")}}},
		{name: "no-final-newline-delete", input: "no-final-newline.yaml", ops: []structOp{{op: "delete", path: "routes[1]"}}},
		{name: "empty-collections", input: "empty.yaml", ops: []structOp{
			{op: "insert", path: "items", index: 0, value: "first"},
			{op: "set", path: "labels.app", value: "aleph"},
			{op: "set", path: "annotations.note", value: ""},
			{op: "delete", path: "nested.list[0]"},
			{op: "delete", path: "nested.map.only"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputPath := filepath.Join("testdata", "structure", tt.input)
			if filepath.Ext(tt.input) == "" {
				inputPath = filepath.Join("testdata", "structure", "want", tt.input+".yaml")
			}
			doc := readFile(t, inputPath)
			for i, op := range tt.ops {
				out, err := op.apply(t, doc)
				if err != nil {
					t.Fatalf("op %d (%s %q): %v", i, op.op, op.path, err)
				}
				if undo, ok := op.undo(doc); ok {
					back, err := Delete(out, undo)
					if err != nil || !bytes.Equal(back, doc) {
						t.Errorf("op %d: Delete(%q) after %s does not restore the input: %v\n--- got\n%s\n--- want\n%s", i, undo, op.op, err, back, doc)
					}
				}
				doc = out
			}
			wantPath := filepath.Join("testdata", "structure", "want", tt.name+".yaml")
			if *updateGolden {
				if err := os.WriteFile(wantPath, doc, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, wantPath); !bytes.Equal(doc, want) {
				t.Errorf("output differs from %s\n--- got\n%s\n--- want\n%s", wantPath, doc, want)
			}
		})
	}
}
