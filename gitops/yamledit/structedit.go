package yamledit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// structEditor makes one structural edit: it finds the nodes, collects the
// splices, and records the tree the result must parse to.
type structEditor struct {
	editor
	lineText
	brk     string                    // the file's line break, for new lines
	layout  layout                    // indentation of the target document
	replace map[*yaml.Node]*yaml.Node // original node -> expected node
}

func newStructEditor(doc []byte) (*structEditor, error) {
	docs, err := Documents(doc)
	if err != nil {
		return nil, err
	}
	lines := newLineIndex(doc)
	ed := &structEditor{
		editor:   editor{doc: doc, docs: docs, lines: lines},
		lineText: lineText{src: doc, lines: lines},
		brk:      "\n",
		replace:  make(map[*yaml.Node]*yaml.Node, 2),
	}
	if len(lines) > 1 {
		ed.brk = string(doc[ed.contentEnd(0):ed.end(0)])
	}
	return ed, nil
}

// breakOf returns line i's line break, or the file's first one if line i
// has none (or does not exist). New lines take the break of the line they
// follow, so a lone CR never lands before an LF (which would merge them).
func (ed *structEditor) breakOf(i int) string {
	if i >= 0 && i < ed.count() && ed.hasBreak(i) {
		return string(ed.src[ed.contentEnd(i):ed.end(i)])
	}
	return ed.brk
}

// target is a resolved path: the document and every node on the way, the
// root first and the named node last.
type target struct {
	doc   *Document
	chain []*yaml.Node
}

func (t target) node() *yaml.Node { return t.chain[len(t.chain)-1] }

// target resolves the first n steps of p in the first selected document
// where they resolve, as find does, keeping the chain of nodes. Aliases and
// merge keys on the way are refused, and so are anchored nodes on the way
// that an alias refers to: the edit would change the aliases too.
func (ed *structEditor) target(p Path, n int) (target, error) {
	var firstErr error
	tried := 0
	for _, d := range ed.docs {
		if !d.selected(p.doc) {
			continue
		}
		tried++
		chain, err := walkChain(d.Root, p, n)
		if err == nil {
			for _, c := range chain {
				if c.Anchor != "" && ed.isAliased(c) {
					return target{}, unsupportedStyle("document %d: %s: anchor &%s is referred to by an alias, so the edit would change other places",
						d.Index, describeAt(p, n), c.Anchor)
				}
			}
			ed.layout = detectLayout(d.Root)
			return target{doc: d, chain: chain}, nil
		}
		if !errors.Is(err, ErrPathNotFound) {
			return target{}, fmt.Errorf("document %d: %w", d.Index, err)
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("document %d: %w", d.Index, err)
		}
	}
	switch {
	case len(ed.docs) == 0:
		return target{}, fmt.Errorf("file has no YAML documents: %w", ErrPathNotFound)
	case tried == 0:
		return target{}, fmt.Errorf("no document selected (%d in file): %w", len(ed.docs), ErrPathNotFound)
	case tried == 1:
		return target{}, firstErr
	default:
		return target{}, fmt.Errorf("not found in any of %d documents, first: %w", tried, firstErr)
	}
}

// walkChain applies the first n steps of p from root.
func walkChain(root *yaml.Node, p Path, n int) ([]*yaml.Node, error) {
	if root == nil {
		return nil, notFound(p, 0, "empty document")
	}
	chain := make([]*yaml.Node, 1, n+1)
	chain[0] = root
	for i, st := range p.steps[:n] {
		next, merged, err := stepInto(chain[i], st, p, i)
		if err != nil {
			return nil, err
		}
		if merged || next.Kind == yaml.AliasNode {
			return nil, unsupportedStyle("%s: reached through an alias or merge key; edit the anchored node instead", p.prefix(i+1))
		}
		chain = append(chain, next)
	}
	return chain, nil
}

// expectContent records that c must read back with remove children at at
// replaced by insert, and returns the expected node for further changes.
func (ed *structEditor) expectContent(c *yaml.Node, at, remove int, insert ...*yaml.Node) *yaml.Node {
	r := *c
	r.Content = slices.Concat(c.Content[:at], insert, c.Content[at+remove:])
	ed.replace[c] = &r
	return &r
}

// finish applies the splices and checks that the result parses to the
// original documents with only the recorded changes.
func (ed *structEditor) finish() ([]byte, error) {
	out, err := ed.build()
	if err != nil {
		return nil, err
	}
	if err := verifyTree(ed.docs, out, ed.replace); err != nil {
		return nil, fmt.Errorf("check edited YAML: %w: %w", ErrUnsupported, err)
	}
	return out, nil
}

// verifyTree parses out and compares it with before, where each node in
// replace is compared as its replacement instead. Comments are not
// compared.
func verifyTree(before []*Document, out []byte, replace map[*yaml.Node]*yaml.Node) error {
	return verifyDocuments(before, out, func(a, b *yaml.Node) error { return sameTree(a, b, replace) })
}

func sameTree(a, b *yaml.Node, replace map[*yaml.Node]*yaml.Node) error {
	if r, ok := replace[a]; ok {
		a = r
	}
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("document content appeared or vanished")
		}
		return nil
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Style != b.Style || len(a.Content) != len(b.Content) {
		return fmt.Errorf("line %d: want %s %q (%d children), read %s %q (%d children)",
			b.Line, kindName(a), a.Value, len(a.Content), kindName(b), b.Value, len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(a.Content[i], b.Content[i], replace); err != nil {
			return err
		}
	}
	return nil
}

// checkEdited refuses a collection that cannot be edited structurally.
func checkEdited(c *yaml.Node) error {
	switch {
	case c.Anchor != "":
		return unsupportedStyle("line %d: the edited collection carries anchor &%s", c.Line, c.Anchor)
	case c.Style&yaml.FlowStyle != 0 && len(c.Content) > 0:
		return unsupportedStyle("line %d: the edited collection is in flow style", c.Line)
	}
	return nil
}

// onlyChild reports whether collection c has one item or one entry.
func onlyChild(c *yaml.Node) bool {
	if c.Kind == yaml.MappingNode {
		return len(c.Content) == 2
	}
	return len(c.Content) == 1
}

// childIndex returns the index of child in n.Content (a value, for a
// mapping), or -1.
func childIndex(n, child *yaml.Node) int {
	for i := len(n.Content) - 1; i >= 0; i-- {
		if n.Content[i] == child {
			return i
		}
	}
	return -1
}

// seqAtCol reports whether v is a block sequence written at its key k's
// column, so its dash lines belong to the entry.
func seqAtCol(k, v *yaml.Node) bool {
	return v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && v.Column == k.Column && v.Line > k.Line
}

// appendAfter renders c at column col for insertion after line last, the
// end of node prev. After a last line without a line break (the end of the
// file) the break goes before the new text, and no block scalar may end
// up without the break that ends its value.
func (ed *structEditor) appendAfter(last int, prev, c *yaml.Node, col int) (int, string, snippet, error) {
	atEOF := !ed.hasBreak(last)
	if atEOF && endsInBlockScalar(prev) {
		return 0, "", snippet{}, unsupportedStyle("line %d: a block scalar ends the file without a line break", last+1)
	}
	sn, err := renderNode(c, ed.layout, atEOF)
	if err != nil {
		return 0, "", snippet{}, err
	}
	if strings.HasPrefix(sn.lines[0], "?") {
		return 0, "", snippet{}, fmt.Errorf("key %q can only be written as a complex key (?): %w", c.Content[0].Value, ErrInvalidValue)
	}
	brk := ed.breakOf(last)
	text := indented(sn.lines, col, col, brk)
	if atEOF {
		return ed.end(last), brk + text, sn, nil
	}
	return ed.end(last), text + brk, sn, nil
}

// replaceInHolder replaces the empty collection or null at the end of t's
// chain, which must be the value of a block mapping entry, with c.
func (ed *structEditor) replaceInHolder(t target, c *yaml.Node) error {
	n := len(t.chain) - 1
	node := t.chain[n]
	if node.Anchor != "" || node.Tag != "!!null" && node.Tag != c.Tag {
		return unsupportedStyle("line %d: the empty collection carries an anchor or tag", node.Line)
	}
	if n == 0 || t.chain[n-1].Kind != yaml.MappingNode {
		return unsupportedStyle("line %d: an empty collection is only filled as the value of a mapping key", node.Line)
	}
	holder := t.chain[n-1]
	return ed.replaceEntry(holder, childIndex(holder, node)/2, c)
}
