package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Document is one YAML document of a (possibly multi-document) file, parsed
// with go.yaml.in/yaml/v3. Node Line and Column fields are 1-based positions
// in the whole file (lines count from the first byte of the file, columns
// count characters, not bytes). A Document is read-only: mutating its nodes
// has no effect on the file and breaks Lookup's guarantees.
type Document struct {
	// Index is the zero-based position of the document in the file.
	Index int
	// Root is the document's content node (the child of the yaml
	// DocumentNode). An empty document has a null scalar root; Root is nil
	// only for a document node without content.
	Root *yaml.Node
}

// Documents parses every YAML document in doc, in file order. A file with no
// documents (empty, or only comments) yields an empty slice and no error. The
// error wraps ErrSyntax when doc is not valid UTF-8 YAML.
func Documents(doc []byte) ([]*Document, error) {
	if bytes.HasPrefix(doc, []byte{0xFE, 0xFF}) || bytes.HasPrefix(doc, []byte{0xFF, 0xFE}) {
		return nil, fmt.Errorf("read YAML: %w: UTF-16 input is not supported", ErrSyntax)
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var docs []*Document
	for i := 0; ; i++ {
		var n yaml.Node
		err := decode(dec, &n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse YAML document %d: %w: %w", i, ErrSyntax, err)
		}
		d := &Document{Index: i}
		if len(n.Content) > 0 {
			d.Root = n.Content[0]
		}
		docs = append(docs, d)
	}
}

// decode guards against a panic inside the YAML library: this package must
// never panic on input, whatever the dependency does.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML parser panic: %v", r)
		}
	}()
	return dec.Decode(n)
}

// Lookup resolves path inside this document and returns the node it names,
// following aliases and merge keys ("<<"). If path has a document selector
// that does not select this document, or the path does not resolve, the error
// wraps ErrPathNotFound; an ambiguous selector wraps ErrAmbiguous; a malformed
// path wraps ErrInvalidPath.
func (d *Document) Lookup(path string) (*yaml.Node, error) {
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	if !d.selected(p.doc) {
		return nil, fmt.Errorf("document %d: not selected by %q: %w", d.Index, path, ErrPathNotFound)
	}
	r, err := resolve(d.Root, p)
	if err != nil {
		return nil, fmt.Errorf("document %d: %w", d.Index, err)
	}
	return r.node, nil
}

// selected reports whether the document selector sel (nil: any) picks d.
func (d *Document) selected(sel *selector) bool {
	if sel == nil {
		return true
	}
	if sel.isIndex {
		return sel.index == d.Index
	}
	return matches(d.Root, sel.conds)
}

// found is a resolved path: the target node (aliases followed) and how it
// was reached.
type found struct {
	doc      *Document
	node     *yaml.Node
	viaAlias bool         // an alias or merge key was followed on the way
	inFlow   bool         // the node sits inside a flow collection ([...] or {...})
	anchored []*yaml.Node // nodes with an anchor on the way, the target included
}

// find resolves p in the first selected document where it resolves.
func find(docs []*Document, p Path) (found, error) {
	var firstErr error
	tried := 0
	for _, d := range docs {
		if !d.selected(p.doc) {
			continue
		}
		tried++
		r, err := resolve(d.Root, p)
		if err == nil {
			r.doc = d
			return r, nil
		}
		if !errors.Is(err, ErrPathNotFound) {
			return found{}, fmt.Errorf("document %d: %w", d.Index, err)
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("document %d: %w", d.Index, err)
		}
	}
	switch {
	case len(docs) == 0:
		return found{}, fmt.Errorf("file has no YAML documents: %w", ErrPathNotFound)
	case tried == 0:
		return found{}, fmt.Errorf("no document selected (%d in file): %w", len(docs), ErrPathNotFound)
	case tried == 1:
		return found{}, firstErr
	default:
		return found{}, fmt.Errorf("not found in any of %d documents, first: %w", tried, firstErr)
	}
}
