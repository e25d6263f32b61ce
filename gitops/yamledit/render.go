package yamledit

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// New content for the structural edits is written by yaml.v3's encoder, so
// quoting ("true", "1.0", "" come out quoted), block scalars and escapes
// follow the YAML library rather than hand-written rules. The encoder
// writes at column 0; the lines are then shifted to the target column,
// which keeps every relative indentation (block scalars included).

// layout is how a document indents nested collections, so new content
// looks like the content around it.
type layout struct {
	indent  int  // spaces per mapping level, 2 to 9
	compact bool // block sequences at their key's column ("key:\n- a")
}

// detectLayout votes over the block collections of root: the most common
// indentation of a mapping under a mapping key, and whether sequences under
// mapping keys are mostly written at the key's column. Defaults: 2, indented.
func detectLayout(root *yaml.Node) layout {
	var steps [10]int
	compact, indented := 0, 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 100 || n.Style&yaml.FlowStyle != 0 {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Line <= k.Line || v.Style&yaml.FlowStyle != 0 {
					continue
				}
				switch d := v.Column - k.Column; {
				case v.Kind == yaml.MappingNode && d >= 2 && d <= 9:
					steps[d]++
				case v.Kind == yaml.SequenceNode && d == 0:
					compact++
				case v.Kind == yaml.SequenceNode && d > 0:
					indented++
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	l := layout{indent: 2, compact: compact > indented}
	for d := 2; d < len(steps); d++ {
		if steps[d] > steps[l.indent] {
			l.indent = d
		}
	}
	return l
}

// snippet is new YAML text rendered at column 0, split in lines (without
// line breaks), and the node tree it parses to.
type snippet struct {
	lines []string
	root  *yaml.Node
}

// renderNode encodes n (a one-item sequence or a one-entry mapping) with the
// document's layout and parses the text back. A string ending in blank
// lines would end the text in a "|+" block scalar whose value hangs on the
// line breaks after it; such strings are written double-quoted instead, and
// so is every multi-line string when the text ends a file that has no final
// line break (atEOF), where a block scalar would lose its last one.
func renderNode(n *yaml.Node, lay layout, atEOF bool) (snippet, error) {
	if atEOF {
		n = quoteBreaks(n, 0)
	}
	sn, err := encodeNode(n, lay)
	if err != nil || len(sn.lines) < 2 || strings.TrimSpace(sn.lines[len(sn.lines)-1]) != "" {
		return sn, err
	}
	sn, err = encodeNode(quoteBreaks(n, 0), lay)
	if err == nil && strings.TrimSpace(sn.lines[len(sn.lines)-1]) == "" {
		return snippet{}, fmt.Errorf("value ends in blank lines: %w", ErrInvalidValue)
	}
	return sn, err
}

// quoteBreaks returns a copy of n where every scalar holding a line break
// is double-quoted.
func quoteBreaks(n *yaml.Node, depth int) *yaml.Node {
	c := *n
	if c.Kind == yaml.ScalarNode && strings.Contains(c.Value, "\n") {
		c.Style = yaml.DoubleQuotedStyle
	}
	if depth < 1000 && len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = quoteBreaks(child, depth+1)
		}
	}
	return &c
}

func encodeNode(n *yaml.Node, lay layout) (sn snippet, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode value: %v: %w", r, ErrInvalidValue)
		}
	}()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(lay.indent)
	if lay.compact {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(n); err != nil {
		return snippet{}, fmt.Errorf("encode value: %w: %w", ErrInvalidValue, err)
	}
	if err := enc.Close(); err != nil {
		return snippet{}, fmt.Errorf("encode value: %w: %w", ErrInvalidValue, err)
	}
	docs, err := Documents(buf.Bytes())
	if err != nil || len(docs) != 1 || !readsBackAs(n, docs[0].Root, 0) {
		return snippet{}, fmt.Errorf("yaml.v3 writes the value as %q, which does not read back as the value: %w", buf.String(), ErrInvalidValue)
	}
	text := strings.TrimSuffix(buf.String(), "\n")
	return snippet{lines: strings.Split(text, "\n"), root: docs[0].Root}, nil
}

// readsBackAs reports whether got, parsed from the encoding of want, has
// want's shape: kinds and, where want states a tag, tags; and the same text
// for strings.
func readsBackAs(want, got *yaml.Node, depth int) bool {
	switch {
	case got == nil || want.Kind != got.Kind || len(want.Content) != len(got.Content) || depth > 1000:
		return false
	case want.Tag != "" && want.ShortTag() != got.ShortTag():
		return false
	case want.Kind == yaml.ScalarNode && got.Tag == strTag && want.Value != got.Value:
		return false
	}
	for i := range want.Content {
		if !readsBackAs(want.Content[i], got.Content[i], depth+1) {
			return false
		}
	}
	return true
}

// indented joins lines with brk, the first prefixed with first spaces and
// the others with rest spaces; empty lines stay empty.
func indented(lines []string, first, rest int, brk string) string {
	var b strings.Builder
	for i, ln := range lines {
		if i > 0 {
			b.WriteString(brk)
		}
		pad := rest
		if i == 0 {
			pad = first
		}
		if ln != "" {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(ln)
	}
	return b.String()
}

// toNode converts a caller's value to the node to encode: a *yaml.Node (or
// yaml.Node) as given, a document node's content, anything else through
// yaml.Node.Encode. Anchors and aliases are refused: they would tie the new
// content to nodes elsewhere.
func toNode(value any) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("encode value %T: %v: %w", value, r, ErrInvalidValue)
		}
	}()
	switch v := value.(type) {
	case *yaml.Node:
		n = v
	case yaml.Node:
		n = &v
	default:
		n = new(yaml.Node)
		if err := n.Encode(value); err != nil {
			return nil, fmt.Errorf("encode value %T: %w: %w", value, ErrInvalidValue, err)
		}
	}
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("document node with %d children: %w", len(n.Content), ErrInvalidValue)
		}
		n = n.Content[0]
	}
	if err := checkValue(n, 0); err != nil {
		return nil, err
	}
	return n, nil
}

// checkValue refuses nodes that cannot be written as new, self-contained
// content.
func checkValue(n *yaml.Node, depth int) error {
	switch {
	case n == nil || n.Kind == 0 || n.Kind == yaml.DocumentNode:
		return fmt.Errorf("empty or nested document node: %w", ErrInvalidValue)
	case depth > 1000:
		return fmt.Errorf("value nested too deep: %w", ErrInvalidValue)
	case n.Kind == yaml.AliasNode || n.Anchor != "":
		return fmt.Errorf("value holds an anchor or alias: %w", ErrInvalidValue)
	case !utf8.ValidString(n.Value) || !utf8.ValidString(n.Tag):
		return fmt.Errorf("value is not valid UTF-8: %w", ErrInvalidValue)
	case n.Kind == yaml.MappingNode && len(n.Content)%2 != 0:
		return fmt.Errorf("mapping node with an odd number of children: %w", ErrInvalidValue)
	}
	for _, c := range n.Content {
		if err := checkValue(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// seqOf and mapOf wrap a value for rendering as an item or an entry.
func seqOf(v *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{v}}
}

func mapOf(key string, v *yaml.Node) *yaml.Node {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: strTag, Value: key}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}
}

// emptyLike returns an empty flow collection of n's kind ([] or {}).
func emptyLike(n *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: n.Kind, Tag: n.Tag, Style: yaml.FlowStyle}
}

// hasProps reports whether n or anything under it is an alias or carries
// an anchor.
func hasProps(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasProps(c) {
			return true
		}
	}
	return false
}

// endsInBlockScalar reports whether the last scalar under n is a literal
// or folded block scalar.
func endsInBlockScalar(n *yaml.Node) bool {
	n = lastScalar(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
}

// lastScalar returns the last node under n in document order.
func lastScalar(n *yaml.Node) *yaml.Node {
	for n != nil && len(n.Content) > 0 && n.Kind != yaml.AliasNode {
		n = n.Content[len(n.Content)-1]
	}
	return n
}

// isNull reports whether n is a null scalar ("key:", "key: ~", "key: null").
func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
