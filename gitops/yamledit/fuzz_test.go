package yamledit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func FuzzSet(f *testing.F) {
	seeds := []struct{ file, path, value string }{
		{"comments", "spec.http[0].route[1].weight", "10"},
		{"crlf", "metadata.name", "true"},
		{"multidoc", "{kind=DestinationRule}spec.subsets[name=production].labels.version", "0.4"},
		{"anchors", "routes[1].weight", "a: b"},
		{"quoting", "single", "it's\n"},
		{"unicode-bom", "city.name", "Genève"},
		{"empty-values", "spec.list[0]", ""},
		{"indentation", "spec.template.spec.containers[0].args[2]", "]"},
	}
	for _, s := range seeds {
		doc, err := os.ReadFile(filepath.Join("testdata", "golden", s.file, "input.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc, s.path, s.value)
	}
	f.Add([]byte(multiDoc), "spec.subsets[name=canary].name", "blue")
	f.Fuzz(func(t *testing.T, doc []byte, path, value string) {
		checkSet(t, doc, path, value, false)
		// Random paths rarely resolve in random documents, so also edit one
		// of the document's own scalars, chosen by the path's length.
		if paths := scalarPaths(doc); len(paths) > 0 {
			checkSet(t, doc, paths[len(path)%len(paths)], value, true)
		}
	})
}

// checkSet sets path to value and checks that Get reads value back. If the
// path is known to exist (exists), the only acceptable errors are inputs
// this package refuses by design, and the re-parse check that guards every
// edit must never be what stops it.
func checkSet(t *testing.T, doc []byte, path, value string, exists bool) {
	out, err := Set(doc, path, value)
	if err != nil {
		refused := errors.Is(err, ErrUnsupported) || errors.Is(err, ErrInvalidValue) || errors.Is(err, ErrAmbiguous)
		if exists && (!refused || strings.Contains(err.Error(), "check edited YAML")) {
			t.Fatalf("Set(%q, %q) on an existing scalar: %v\ninput:\n%q", path, value, err, doc)
		}
		return
	}
	got, err := Get(out, path)
	if err == nil && got == value {
		return
	}
	// A selector may match on the very value that was changed, so the path
	// can legitimately stop resolving.
	if strings.Contains(path, "=") {
		return
	}
	t.Fatalf("Set(%q, %q) ok, but Get reads %q, %v\ninput:\n%q\noutput:\n%q", path, value, got, err, doc, out)
}

// scalarPaths lists a path (with a document index selector) for every
// scalar reachable without aliases or merge keys, at most 100.
func scalarPaths(doc []byte) []string {
	docs, err := Documents(doc)
	if err != nil {
		return nil
	}
	var paths []string
	var walk func(d int, n *yaml.Node, steps []step)
	walk = func(d int, n *yaml.Node, steps []step) {
		if n == nil || len(paths) >= 100 || len(steps) > 20 {
			return
		}
		switch n.Kind {
		case yaml.ScalarNode:
			if len(steps) > 0 {
				paths = append(paths, Path{doc: &selector{isIndex: true, index: d}, steps: steps}.String())
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(d, c, append(slices.Clip(steps), step{kind: stepIndex, index: i}))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind == yaml.ScalarNode && k.Tag != mergeTag && k.Value != "" {
					walk(d, n.Content[i+1], append(slices.Clip(steps), step{kind: stepKey, key: k.Value}))
				}
			}
		}
	}
	for _, d := range docs {
		walk(d.Index, d.Root, nil)
	}
	return paths
}

// TestQuotedStringsReadAsStringsInYAML11 loads edited files with PyYAML, a
// YAML 1.1 parser like the ones Kubernetes tooling uses, and checks that a
// string field still holds the exact string after each edit.
func TestQuotedStringsReadAsStringsInYAML11(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not in PATH")
	}
	if err := exec.Command(python, "-c", "import yaml").Run(); err != nil {
		t.Skip("python3 has no yaml (PyYAML) module")
	}
	values := []string{
		"v04", "on", "Off", "yes", "y", "N", "1:20", "0.4", ".5", "1e3", "1.0e+3", "0x1F", "017", "0b101",
		"1_000", "+1", "-0", "true", ".inf", "-.Inf", ".NaN", "null", "~", "2024-01-02", "2001-12-14t21:59:43.10-05:00",
		"", "=", "<<", "a: b", "#x", "x #y", "- x", "[a]", "{a: 1}", "@x", "`x", "%x", "it's", `"q"`, "1.2.3",
	}
	dir := t.TempDir()
	files := make([]string, len(values))
	for i, v := range values {
		out, err := Set([]byte("kind: ConfigMap\ndata:\n  version: v03 # the version\n"), "data.version", v)
		if err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
		files[i] = filepath.Join(dir, fmt.Sprintf("%d.yaml", i))
		if err := os.WriteFile(files[i], out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := "import json, sys, yaml\nprint(json.dumps([yaml.safe_load(open(f))['data']['version'] for f in sys.argv[1:]]))"
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), python, append([]string{"-c", script}, files...)...)
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var got []any
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("decode python output %q: %v", stdout, err)
	}
	if len(got) != len(values) {
		t.Fatalf("python read %d values, want %d", len(got), len(values))
	}
	for i, v := range values {
		if s, ok := got[i].(string); !ok || s != v {
			t.Errorf("value %q reads back in YAML 1.1 as %T %v (file %s)", v, got[i], got[i], readFile(t, files[i]))
		}
	}
}

func TestDocuments(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		count int
		err   error
	}{
		{name: "empty file", doc: "", count: 0},
		{name: "only comments", doc: "# nothing\n", count: 0},
		{name: "one document", doc: "a: 1\n", count: 1},
		{name: "separators and an empty document", doc: "a: 1\n---\n---\nb: 2\n", count: 3},
		{name: "explicit document end", doc: "a: 1\n...\n---\nb: 2\n...\n", count: 2},
		{name: "syntax error", doc: "a: 1\n---\n[\n", err: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Documents([]byte(tt.doc))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || len(docs) != tt.count {
				t.Fatalf("got %d documents, %v; want %d", len(docs), err, tt.count)
			}
			for i, d := range docs {
				if d.Index != i {
					t.Errorf("document %d has Index %d", i, d.Index)
				}
			}
		})
	}
}

func TestDocumentLookupPositions(t *testing.T) {
	docs, err := Documents([]byte("a: 1\n---\n# c\nb:\n  c: [x, \"y\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		doc       int
		path      string
		line, col int
		wantErrIs error
		wantValue string
	}{
		{name: "first document", doc: 0, path: "a", line: 1, col: 4, wantValue: "1"},
		{name: "lines count from the start of the file", doc: 1, path: "b.c[1]", line: 5, col: 10, wantValue: "y"},
		{name: "selector for another document", doc: 1, path: "{0}a", wantErrIs: ErrPathNotFound},
		{name: "selector for this document", doc: 1, path: "{1}b.c[0]", line: 5, col: 7, wantValue: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := docs[tt.doc].Lookup(tt.path)
			if tt.wantErrIs != nil {
				if !errors.Is(err, tt.wantErrIs) {
					t.Fatalf("error = %v, want %v", err, tt.wantErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Line != tt.line || n.Column != tt.col || n.Value != tt.wantValue {
				t.Errorf("got %q at %d:%d, want %q at %d:%d", n.Value, n.Line, n.Column, tt.wantValue, tt.line, tt.col)
			}
		})
	}
}
