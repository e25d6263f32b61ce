package yamledit

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// InsertItem returns a copy of doc with value inserted into the block
// sequence at path, before item index (index == length appends). value is
// encoded with yaml.v3 (pass a *yaml.Node to control key order and style)
// and written in block style at the indentation of the sequence's items.
// Every other byte is preserved; the result is parsed again and compared.
//
// The new item goes above the comment lines attached to the item it is
// inserted before (see Delete), so Delete at the same index restores doc
// byte for byte. An empty flow sequence ("key: []") or a null value
// ("key:") holding no items becomes a block sequence with the one item.
// Nested content is indented like the rest of the document (2 or 4 spaces,
// sequences at or past their key's column, detected from the document).
// Comments in a *yaml.Node value are written where yaml.v3 puts them; a
// foot comment ends up below the item, where Delete does not take it.
//
// Errors name the path and wrap ErrPathNotFound (no sequence at path, or
// index outside 0..length), ErrUnsupportedStyle (a non-empty flow
// sequence, an anchor or alias on the sequence or on the way to it),
// ErrInvalidValue, ErrInvalidPath or ErrSyntax.
func InsertItem(doc []byte, path string, index int, value any) ([]byte, error) {
	out, err := insertItem(doc, path, index, value)
	if err != nil {
		return nil, fmt.Errorf("insert item %d into %q: %w", index, path, err)
	}
	return out, nil
}

// Delete returns a copy of doc without the node at path: a sequence item
// (path ends in [i] or [key=value]) or a mapping entry (path ends in a key),
// with the lines it occupied, including comments directly attached to it.
//
// Attached comments are the comment lines directly above the item or key
// (no blank line between) at the column of its dash or key; the comment at
// the end of its own lines goes too. Other comments stay, including those
// below its last line, except comment lines indented past the dash or key
// that directly follow it (its foot comments). The first key of a mapping
// written on a sequence item's dash line ("- name: a") is deleted by moving
// the next key up onto that line, with any comment lines between them.
// Deleting the last item of a sequence leaves
// "key: []", the last entry of a mapping "key: {}", so the YAML keeps its
// meaning. Errors wrap the same sentinels as InsertItem.
func Delete(doc []byte, path string) ([]byte, error) {
	out, err := deleteNode(doc, path)
	if err != nil {
		return nil, fmt.Errorf("delete %q: %w", path, err)
	}
	return out, nil
}

// SetValue returns a copy of doc where the mapping entry at path holds
// value (encoded as InsertItem does), adding the key at the end of its
// mapping if it is absent. The parent mapping must exist.
//
// An existing entry keeps its key's bytes and the comment at the end of the
// key's line; its old value (with the lines it spanned) is replaced. An
// empty flow mapping ("key: {}") or a null value ("key:") counts as an
// empty mapping. The path must end in a key; errors wrap the same sentinels
// as InsertItem.
func SetValue(doc []byte, path string, value any) ([]byte, error) {
	out, err := setValue(doc, path, value)
	if err != nil {
		return nil, fmt.Errorf("set %q: %w", path, err)
	}
	return out, nil
}

func insertItem(doc []byte, path string, index int, value any) ([]byte, error) {
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	v, err := toNode(value)
	if err != nil {
		return nil, err
	}
	ed, err := newStructEditor(doc)
	if err != nil {
		return nil, err
	}
	t, err := ed.target(p, len(p.steps))
	if err != nil {
		return nil, err
	}
	seq := t.node()
	size := len(seq.Content)
	switch {
	case seq.Kind != yaml.SequenceNode && !isNull(seq):
		return nil, notFound(p, len(p.steps), "not a sequence (%s)", kindName(seq))
	case index < 0 || index > size:
		return nil, notFound(p, len(p.steps), "index %d out of range (%d items)", index, size)
	case size == 0:
		err = ed.replaceInHolder(t, seqOf(v))
	default:
		err = ed.insertIntoSeq(seq, index, v)
	}
	if err != nil {
		return nil, err
	}
	return ed.finish()
}

func deleteNode(doc []byte, path string) ([]byte, error) {
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	ed, err := newStructEditor(doc)
	if err != nil {
		return nil, err
	}
	t, err := ed.target(p, len(p.steps))
	if err != nil {
		return nil, err
	}
	n := len(t.chain) - 1
	parent, node := t.chain[n-1], t.chain[n]
	if err := checkEdited(parent); err != nil {
		return nil, err
	}
	if hasProps(node) {
		return nil, unsupportedStyle("line %d: the deleted node holds an anchor or alias", node.Line)
	}
	switch {
	case onlyChild(parent):
		err = ed.emptyCollection(t, n-1)
	case parent.Kind == yaml.SequenceNode:
		err = ed.deleteItem(parent, childIndex(parent, node))
	default:
		err = ed.deleteEntry(parent, childIndex(parent, node)/2)
	}
	if err != nil {
		return nil, err
	}
	return ed.finish()
}

func setValue(doc []byte, path string, value any) ([]byte, error) {
	p, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	last := len(p.steps) - 1
	if p.steps[last].kind != stepKey {
		return nil, fmt.Errorf("path must end in a mapping key: %w", ErrInvalidPath)
	}
	v, err := toNode(value)
	if err != nil {
		return nil, err
	}
	ed, err := newStructEditor(doc)
	if err != nil {
		return nil, err
	}
	t, err := ed.target(p, last+1)
	if err == nil {
		parent, old := t.chain[last], t.chain[last+1]
		if err := checkEdited(parent); err != nil {
			return nil, err
		}
		if hasProps(old) {
			return nil, unsupportedStyle("line %d: the replaced value holds an anchor or alias", old.Line)
		}
		if err := ed.replaceEntry(parent, childIndex(parent, old)/2, v); err != nil {
			return nil, err
		}
		return ed.finish()
	}
	if !errors.Is(err, ErrPathNotFound) {
		return nil, err
	}
	pt, perr := ed.target(p, last)
	if perr != nil {
		return nil, err
	}
	m := pt.node()
	switch {
	case m.Kind == yaml.MappingNode && len(m.Content) > 0:
		perr = ed.appendEntry(m, p.steps[last].key, v)
	case m.Kind == yaml.MappingNode || isNull(m):
		perr = ed.replaceInHolder(pt, mapOf(p.steps[last].key, v))
	default:
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	return ed.finish()
}

// insertIntoSeq writes v as item index of block sequence seq.
func (ed *structEditor) insertIntoSeq(seq *yaml.Node, index int, v *yaml.Node) error {
	if err := checkEdited(seq); err != nil {
		return err
	}
	if _, err := ed.dashLine(seq, 0); err != nil {
		return err
	}
	col := seq.Column - 1
	var off int
	var text string
	var sn snippet
	if index < len(seq.Content) {
		dl, err := ed.dashLine(seq, index)
		if err != nil {
			return err
		}
		if sn, err = renderNode(seqOf(v), ed.layout, false); err != nil {
			return err
		}
		first := ed.attachedStart(dl, col)
		brk := ed.breakOf(first - 1)
		off, text = ed.start(first), indented(sn.lines, col, col, brk)+brk
	} else {
		dl, err := ed.dashLine(seq, index-1)
		if err != nil {
			return err
		}
		off, text, sn, err = ed.appendAfter(ed.nodeEnd(dl, col, false, seq.Content[index-1]), seq.Content[index-1], seqOf(v), col)
		if err != nil {
			return err
		}
	}
	ed.splices = append(ed.splices, splice{start: off, end: off, text: text})
	ed.expectContent(seq, index, 0, sn.root.Content[0])
	return nil
}

// appendEntry writes key: v after the last entry of block mapping m.
func (ed *structEditor) appendEntry(m *yaml.Node, key string, v *yaml.Node) error {
	if err := checkEdited(m); err != nil {
		return err
	}
	col := m.Column - 1
	k, val := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	if _, err := ed.keyToken(k); err != nil {
		return err
	}
	off, text, sn, err := ed.appendAfter(ed.nodeEnd(k.Line-1, col, seqAtCol(k, val), val), val, mapOf(key, v), col)
	if err != nil {
		return err
	}
	ed.splices = append(ed.splices, splice{start: off, end: off, text: text})
	ed.expectContent(m, len(m.Content), 0, sn.root.Content...)
	return nil
}

// deleteItem removes item i of block sequence seq, which has others.
func (ed *structEditor) deleteItem(seq *yaml.Node, i int) error {
	col := seq.Column - 1
	dl, err := ed.dashLine(seq, i)
	if err != nil {
		return err
	}
	if _, err := ed.dashLine(seq, 0); err != nil {
		return err
	}
	start, end := ed.removal(ed.attachedStart(dl, col), ed.nodeEnd(dl, col, false, seq.Content[i]), i == 0,
		i > 0 && endsInBlockScalar(seq.Content[i-1]))
	ed.splices = append(ed.splices, splice{start: start, end: end})
	ed.expectContent(seq, i, 1)
	return nil
}

// deleteEntry removes entry i (pair index) of block mapping m, which has
// others.
func (ed *structEditor) deleteEntry(m *yaml.Node, i int) error {
	k, v := m.Content[2*i], m.Content[2*i+1]
	tok, err := ed.keyToken(k)
	if err != nil {
		return err
	}
	col, kl := m.Column-1, k.Line-1
	switch {
	case ed.atLineStart(kl, tok.start):
		start, end := ed.removal(ed.attachedStart(kl, col), ed.nodeEnd(kl, col, seqAtCol(k, v), v), i == 0,
			i > 0 && endsInBlockScalar(m.Content[2*i-1]))
		ed.splices = append(ed.splices, splice{start: start, end: end})
	case i == 0 && ed.afterDash(kl, tok.start):
		// "- name: a\n  route: x": the next key moves up onto the dash line.
		next, err := ed.keyToken(m.Content[2])
		if err != nil {
			return err
		}
		if !ed.atLineStart(m.Content[2].Line-1, next.start) {
			return unsupportedStyle("line %d: mapping key does not begin its line", m.Content[2].Line)
		}
		ed.splices = append(ed.splices, splice{start: tok.start, end: next.start})
	default:
		return unsupportedStyle("line %d: mapping key does not begin its line", k.Line)
	}
	ed.expectContent(m, 2*i, 2)
	return nil
}

// replaceEntry rewrites entry i (pair index) of block mapping m to hold v:
// the key's bytes stay, the old value's text and lines go, and a comment at
// the end of the key's line is kept at the end of the new first line.
func (ed *structEditor) replaceEntry(m *yaml.Node, i int, v *yaml.Node) error {
	if err := checkEdited(m); err != nil {
		return err
	}
	k, old := m.Content[2*i], m.Content[2*i+1]
	tok, err := ed.keyToken(k)
	if err != nil {
		return err
	}
	kl := k.Line - 1
	if !ed.atLineStart(kl, tok.start) && !ed.afterDash(kl, tok.start) {
		return unsupportedStyle("line %d: mapping key does not begin its line", k.Line)
	}
	col := m.Column - 1
	last := ed.nodeEnd(kl, col, seqAtCol(k, old), old)
	comment := ed.trailingComment(kl, tok.end)
	// Render with a one-letter key: the value's layout depends on the key's
	// column, not on its length, and the original key text stays.
	sn, err := renderNode(mapOf("k", v), ed.layout, !ed.hasBreak(last))
	if err != nil {
		return err
	}
	lines := append([]string{sn.lines[0][1:] + comment}, sn.lines[1:]...)
	text := indented(lines, 0, col, ed.breakOf(kl))
	ed.splices = append(ed.splices, splice{start: tok.end, end: ed.contentEnd(last), text: text})
	r := ed.expectContent(m, 2*i+1, 1, sn.root.Content[1])
	r.Content[2*i] = k
	return nil
}

// emptyCollection replaces collection t.chain[k], whose one child is being
// deleted, with [] or {}: as "key: []" if it is a mapping value, else in
// place of its one child.
func (ed *structEditor) emptyCollection(t target, k int) error {
	c := t.chain[k]
	if k > 0 && t.chain[k-1].Kind == yaml.MappingNode {
		holder := t.chain[k-1]
		if err := checkEdited(holder); err != nil {
			return err
		}
		return ed.replaceEntry(holder, childIndex(holder, c)/2, emptyLike(c))
	}
	var start, first, col int
	var seqAt bool
	if c.Kind == yaml.SequenceNode {
		col = c.Column - 1
		dl, err := ed.dashLine(c, 0)
		if err != nil {
			return err
		}
		start, first = ed.start(dl)+col, dl
	} else {
		tok, err := ed.keyToken(c.Content[0])
		if err != nil {
			return err
		}
		col, first, start = c.Column-1, c.Content[0].Line-1, tok.start
		seqAt = seqAtCol(c.Content[0], c.Content[1])
	}
	text := "{}"
	if c.Kind == yaml.SequenceNode {
		text = "[]"
	}
	ed.splices = append(ed.splices, splice{start: start, end: ed.contentEnd(ed.nodeEnd(first, col, seqAt, c.Content[len(c.Content)-1])), text: text})
	r := ed.expectContent(c, 0, len(c.Content))
	r.Style |= yaml.FlowStyle
	return nil
}
