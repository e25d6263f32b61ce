package yamledit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// nodeRef is a block collection found in a fuzz input: its path (with a
// document index selector) and its node.
type nodeRef struct {
	path Path
	node *yaml.Node
}

// blockCollections lists the block sequences and mappings of doc reachable
// without aliases or merge keys, at most 200, each with a path.
func blockCollections(doc []byte) []nodeRef {
	docs, err := Documents(doc)
	if err != nil {
		return nil
	}
	var refs []nodeRef
	var walk func(d int, n *yaml.Node, steps []step)
	walk = func(d int, n *yaml.Node, steps []step) {
		if n == nil || len(refs) >= 200 || len(steps) > 20 || n.Style&yaml.FlowStyle != 0 {
			return
		}
		switch n.Kind {
		case yaml.SequenceNode:
			refs = append(refs, nodeRef{Path{doc: &selector{isIndex: true, index: d}, steps: steps}, n})
			for i, c := range n.Content {
				walk(d, c, append(slices.Clip(steps), step{kind: stepIndex, index: i}))
			}
		case yaml.MappingNode:
			refs = append(refs, nodeRef{Path{doc: &selector{isIndex: true, index: d}, steps: steps}, n})
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag != mergeTag && k.Value != "" {
					walk(d, n.Content[i+1], append(slices.Clip(steps), step{kind: stepKey, key: k.Value}))
				}
			}
		}
	}
	for _, d := range docs {
		walk(d.Index, d.Root, nil)
	}
	return refs
}

// pick returns the collections of the wanted kind (sequences with a path
// of at least one step) and one of them chosen by i.
func pick(doc []byte, kind yaml.Kind, i uint) (nodeRef, bool) {
	var refs []nodeRef
	for _, r := range blockCollections(doc) {
		if r.node.Kind == kind && (kind == yaml.MappingNode || len(r.path.steps) > 0) {
			refs = append(refs, r)
		}
	}
	if len(refs) == 0 {
		return nodeRef{}, false
	}
	return refs[i%uint(len(refs))], true
}

// fuzzValue reads the fuzzer's text as YAML, or takes it as a string.
// Comments are dropped: yaml.v3 writes a value's foot comment below it,
// where it is no longer attached to the value (see InsertItem).
func fuzzValue(s string) any {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 || hasProps(n.Content[0]) {
		return s
	}
	dropComments(&n)
	return &n
}

func dropComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c)
	}
}

// refused reports whether err is one this package returns by design for
// inputs it does not edit. A failed re-parse check is one only in a file
// with a flow collection spanning lines: yaml.v3 accepts its continuation
// lines at any indentation ("- {\n}"), which the block scanner cannot
// place, so there the check is what stops the edit.
func refused(doc []byte, err error) bool {
	if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrInvalidValue) && !errors.Is(err, ErrAmbiguous) {
		return false
	}
	return !strings.Contains(err.Error(), "check edited YAML") || multiLineFlow(doc)
}

// multiLineFlow reports whether a flow collection in doc opens on a line
// where it does not close (counting brackets outside quotes naively).
func multiLineFlow(doc []byte) bool {
	lines := strings.FieldsFunc(string(doc), func(r rune) bool { return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 })
	for _, line := range lines {
		depth := 0
		for _, c := range line {
			switch c {
			case '[', '{':
				depth++
			case ']', '}':
				depth--
			}
		}
		if depth != 0 {
			return true
		}
	}
	return false
}

func addStructureSeeds(f *testing.F, add func(doc []byte)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "structure", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, filepath.Join("testdata", "golden", "comments", "input.yaml"), filepath.Join("testdata", "golden", "indentation", "input.yaml"))
	for _, name := range files {
		doc, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(doc)
	}
	add([]byte("l:\n- a\n\n- b\n\n- c\n"))
	add([]byte("- a\n- b\n"))
	add([]byte(multiDoc))
}

func FuzzInsertItem(f *testing.F) {
	addStructureSeeds(f, func(doc []byte) { f.Add(doc, uint(0), uint(0), "name: x\nroute: [a]\n") })
	f.Add([]byte("l:\n- |\n  text\n- b # c\n"), uint(1), uint(1), "a\n\n  b\n")
	f.Fuzz(func(t *testing.T, doc []byte, which, index uint, value string) {
		ref, ok := pick(doc, yaml.SequenceNode, which)
		if !ok {
			return
		}
		idx := int(index % uint(len(ref.node.Content)+1))
		path := ref.path.String()
		out, err := InsertItem(doc, path, idx, fuzzValue(value))
		if err != nil {
			if !refused(doc, err) {
				t.Fatalf("InsertItem(%q, %d): %v\ninput:\n%q", path, idx, err, doc)
			}
			return
		}
		checkRoundTrip(t, doc, out, "InsertItem "+path, ref.path.String()+"["+strconv.Itoa(idx)+"]")
	})
}

func FuzzDelete(f *testing.F) {
	addStructureSeeds(f, func(doc []byte) { f.Add(doc, uint(3), uint(1), "x") })
	f.Fuzz(func(t *testing.T, doc []byte, which, child uint, value string) {
		ref, ok := pick(doc, yaml.SequenceNode, which)
		isMap := which%2 == 1
		if isMap {
			ref, ok = pick(doc, yaml.MappingNode, which/2)
		}
		if !ok || len(ref.node.Content) == 0 {
			return
		}
		var path string
		var idx int
		if isMap {
			idx = int(child % uint(len(ref.node.Content)/2))
			k := ref.node.Content[2*idx]
			if k.Kind != yaml.ScalarNode || k.Tag == mergeTag || k.Value == "" {
				return
			}
			path = Path{doc: ref.path.doc, steps: append(slices.Clip(ref.path.steps), step{kind: stepKey, key: k.Value})}.String()
		} else {
			idx = int(child % uint(len(ref.node.Content)))
			path = ref.path.String() + "[" + strconv.Itoa(idx) + "]"
		}
		out, err := Delete(doc, path)
		if err != nil {
			if !refused(doc, err) && !errors.Is(err, ErrPathNotFound) {
				t.Fatalf("Delete(%q): %v\ninput:\n%q", path, err, doc)
			}
			return
		}
		if _, err := Documents(out); err != nil {
			t.Fatalf("Delete(%q) output does not parse: %v\ninput:\n%q\noutput:\n%q", path, err, doc, out)
		}
		// Insert-then-delete on the result restores it.
		if seq, ok := pick(out, yaml.SequenceNode, which); ok {
			at := int(child % uint(len(seq.node.Content)+1))
			ins, err := InsertItem(out, seq.path.String(), at, fuzzValue(value))
			if err == nil {
				checkRoundTrip(t, out, ins, "InsertItem after Delete", seq.path.String()+"["+strconv.Itoa(at)+"]")
			} else if !refused(out, err) {
				t.Fatalf("InsertItem(%q, %d) after Delete: %v\ninput:\n%q", seq.path.String(), at, err, out)
			}
		}
	})
}

func FuzzSetValue(f *testing.F) {
	addStructureSeeds(f, func(doc []byte) { f.Add(doc, uint(1), "mirror", "host: aleph\n") })
	f.Add([]byte("a: 1 # one\nb:\n  c: 2\n"), uint(0), "a", "[x, y]")
	f.Fuzz(func(t *testing.T, doc []byte, which uint, key, value string) {
		ref, ok := pick(doc, yaml.MappingNode, which)
		if !ok || key == "" {
			return
		}
		path := Path{doc: ref.path.doc, steps: append(slices.Clip(ref.path.steps), step{kind: stepKey, key: key})}.String()
		_, lookErr := lookupNode(doc, path)
		v := fuzzValue(value)
		out, err := SetValue(doc, path, v)
		if err != nil {
			if !refused(doc, err) {
				t.Fatalf("SetValue(%q): %v\ninput:\n%q", path, err, doc)
			}
			return
		}
		got, err := lookupNode(out, path)
		if err != nil {
			t.Fatalf("SetValue(%q) ok, but the key is gone: %v\ninput:\n%q\noutput:\n%q", path, err, doc, out)
		}
		want, _ := toNode(v)
		var a, b any
		if err := want.Decode(&a); err == nil && got.Decode(&b) == nil && !reflect.DeepEqual(a, b) {
			t.Fatalf("SetValue(%q) reads back %#v, want %#v\noutput:\n%q", path, b, a, out)
		}
		if errors.Is(lookErr, ErrPathNotFound) && len(ref.node.Content) > 0 {
			checkRoundTrip(t, doc, out, "SetValue "+path, path)
		}
	})
}

// checkRoundTrip checks that out parses and that deleting undo from it
// gives doc back byte for byte.
func checkRoundTrip(t *testing.T, doc, out []byte, what, undo string) {
	t.Helper()
	if _, err := Documents(out); err != nil {
		t.Fatalf("%s: output does not parse: %v\ninput:\n%q\noutput:\n%q", what, err, doc, out)
	}
	back, err := Delete(out, undo)
	if err != nil || !bytes.Equal(back, doc) {
		t.Fatalf("%s: Delete(%q) does not restore the input: %v\ninput:\n%q\noutput:\n%q\nafter Delete:\n%q", what, undo, err, doc, out, back)
	}
}
