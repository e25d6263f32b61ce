// Package yamledit reads and changes scalar values in YAML files without
// touching any other byte: comments, key order, quoting, indentation, CRLF
// line endings, anchors and the other documents of a multi-document file all
// survive.
//
// The YAML is parsed with go.yaml.in/yaml/v3 only to locate the scalar (its
// line and column); the new value is spliced into the original bytes in place
// of the old scalar token, keeping its quoting style. The tree is never
// re-encoded, because yaml.v3's encoder rewrites indentation, quoting and
// comment placement. After splicing, the result is parsed again and compared
// with the original tree: every node but the edited ones must be unchanged,
// so a bug or an unforeseen input yields an error, never a corrupted file.
//
// InsertItem, Delete and SetValue make structural edits the same way: the
// new item or entry is rendered by yaml.v3's encoder, indented to its place
// and spliced in as whole lines; the result is checked against the
// expected tree before it is returned.
//
// All functions are pure and safe for concurrent use.
package yamledit

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Edit is one change for Apply: set the scalar at Path (syntax on ParsePath)
// to Value. Value is the scalar's new content, not YAML source: "0.4" stays
// the string 0.4 if the old value was a string, and gets quotes if needed.
type Edit struct {
	// Path names the scalar to change; it must already exist.
	Path string
	// Value is the new scalar content; any valid UTF-8 string, "" included.
	Value string
}

// File is a YAML file parsed once, for several reads and edits. It refers
// to the source bytes, which must not change while the File is used. A File
// is immutable and safe for concurrent use.
type File struct {
	src  []byte
	docs []*Document
}

// Parse parses every document of doc (see Documents). The error wraps
// ErrSyntax.
func Parse(doc []byte) (*File, error) {
	docs, err := Documents(doc)
	if err != nil {
		return nil, err
	}
	return &File{src: doc, docs: docs}, nil
}

// Documents returns the file's documents in order. The slice and nodes are
// shared: callers must not modify them.
func (f *File) Documents() []*Document { return f.docs }

// Get returns the value of the scalar at path in the first document of doc
// where path resolves (see ParsePath for document selectors). Aliases and
// merge keys are followed. For quoted scalars the value is unquoted and
// unescaped. Errors wrap ErrPathNotFound, ErrAmbiguous, ErrNotScalar,
// ErrInvalidPath or ErrSyntax.
func Get(doc []byte, path string) (string, error) {
	f, err := Parse(doc)
	if err != nil {
		return "", err
	}
	return f.Get(path)
}

// Get is the package-level Get on the parsed file.
func (f *File) Get(path string) (string, error) {
	p, err := ParsePath(path)
	if err != nil {
		return "", err
	}
	r, err := find(f.docs, p)
	if err != nil {
		return "", fmt.Errorf("get %q: %w", path, err)
	}
	if r.node.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("get %q: document %d: found %s: %w", path, r.doc.Index, kindName(r.node), ErrNotScalar)
	}
	return r.node.Value, nil
}

// Set returns a copy of doc with the scalar at path changed to value; only
// the bytes of that scalar differ. It is Apply with one Edit.
func Set(doc []byte, path, value string) ([]byte, error) {
	return Apply(doc, Edit{Path: path, Value: value})
}

// Apply returns a copy of doc with all edits made; doc is not modified. Each
// edit's path resolves against the original doc, as for Get. Only the bytes
// of the edited scalars change; a scalar keeps its quoting style, and a plain
// scalar is double-quoted when the new value would otherwise read as another
// type than the old (a string "true" or "0.4"; YAML 1.1 forms such as "on"
// too, since Kubernetes tooling reads YAML 1.1). An explicit tag (!!str) is
// kept. A plain scalar that held another type (a weight 100) stays plain
// when the new value is a valid plain scalar.
//
// With no edits Apply returns a copy of doc. Errors wrap the package's
// sentinels; on error no output is returned.
func Apply(doc []byte, edits ...Edit) ([]byte, error) {
	if len(edits) == 0 {
		return slices.Clone(doc), nil
	}
	f, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	return f.Apply(edits...)
}

// Apply is the package-level Apply on the parsed file; the file itself is
// not changed.
func (f *File) Apply(edits ...Edit) ([]byte, error) {
	if len(edits) == 0 {
		return slices.Clone(f.src), nil
	}
	ed := editor{doc: f.src, docs: f.docs, lines: newLineIndex(f.src), expect: make(map[*yaml.Node]string, len(edits))}
	for _, e := range edits {
		if err := ed.add(e); err != nil {
			return nil, fmt.Errorf("edit %q: %w", e.Path, err)
		}
	}
	out, err := ed.build()
	if err != nil {
		return nil, err
	}
	if err := verify(f.docs, out, ed.expect); err != nil {
		return nil, fmt.Errorf("check edited YAML: %w: %w", ErrUnsupported, err)
	}
	return out, nil
}

// editor collects the splices of one Apply call.
type editor struct {
	doc     []byte
	docs    []*Document
	lines   lineIndex
	splices []splice
	expect  map[*yaml.Node]string // edited node -> new value
	aliased map[*yaml.Node]bool   // nodes an alias refers to; built lazily
}

// splice replaces doc[start:end] with text.
type splice struct {
	start, end int
	text       string
}

func (ed *editor) add(e Edit) error {
	p, err := ParsePath(e.Path)
	if err != nil {
		return err
	}
	r, err := find(ed.docs, p)
	if err != nil {
		return err
	}
	n := r.node
	switch {
	case n.Kind != yaml.ScalarNode:
		return fmt.Errorf("document %d: found %s: %w", r.doc.Index, kindName(n), ErrNotScalar)
	case r.viaAlias:
		return fmt.Errorf("document %d: path goes through an alias or merge key; edit the anchored node instead: %w", r.doc.Index, ErrUnsupported)
	}
	for _, a := range r.anchored {
		if ed.isAliased(a) {
			return fmt.Errorf("document %d: value is in or at anchor &%s and an alias refers to it, so the edit would change other places: %w",
				r.doc.Index, a.Anchor, ErrUnsupported)
		}
	}
	if prev, ok := ed.expect[n]; ok {
		if prev != e.Value {
			return fmt.Errorf("document %d: node edited twice (%q and %q): %w", r.doc.Index, prev, e.Value, ErrConflict)
		}
		return nil
	}
	tok, err := locate(ed.doc, ed.lines, n, r.inFlow)
	if err != nil {
		return fmt.Errorf("document %d line %d: %w", r.doc.Index, n.Line, err)
	}
	text, err := render(e.Value, n, tok.tagged, r.inFlow)
	if err != nil {
		return fmt.Errorf("document %d line %d: %w", r.doc.Index, n.Line, err)
	}
	text = tok.prefix + text
	ed.splices = append(ed.splices, splice{start: tok.start, end: tok.end, text: text})
	ed.expect[n] = e.Value
	return nil
}

// isAliased reports whether any alias in the file refers to n.
func (ed *editor) isAliased(n *yaml.Node) bool {
	if ed.aliased == nil {
		ed.aliased = make(map[*yaml.Node]bool)
		for _, d := range ed.docs {
			collectAliases(d.Root, ed.aliased)
		}
	}
	return ed.aliased[n]
}

func collectAliases(n *yaml.Node, into map[*yaml.Node]bool) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		into[n.Alias] = true
		return
	}
	for _, c := range n.Content {
		collectAliases(c, into)
	}
}

// build copies doc with the splices applied, in one pass from the start.
func (ed *editor) build() ([]byte, error) {
	slices.SortFunc(ed.splices, func(a, b splice) int { return a.start - b.start })
	size := len(ed.doc)
	for i, s := range ed.splices {
		if i > 0 && s.start < ed.splices[i-1].end {
			return nil, fmt.Errorf("edits overlap at byte %d: %w", s.start, ErrConflict)
		}
		size += len(s.text) - (s.end - s.start)
	}
	out := make([]byte, 0, size)
	last := 0
	for _, s := range ed.splices {
		out = append(out, ed.doc[last:s.start]...)
		out = append(out, s.text...)
		last = s.end
	}
	return append(out, ed.doc[last:]...), nil
}
