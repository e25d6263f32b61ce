package yamledit

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file finds the lines a block node occupies. yaml.v3 reports where a
// node starts but not where it ends, so the end is found from indentation,
// as YAML itself defines block structure: every line of a block node's value
// is indented past the column of its key or dash, except a block sequence
// written at its key's column ("http:\n- name: a"). Blank and comment-only
// lines never end a node; a node ends at its last content line, so the
// comments after it stay with what follows.

// lineKind classifies a line for the block scanner.
type lineKind int

const (
	lineBlank   lineKind = iota // only spaces and tabs
	lineComment                 // the first non-blank character is '#'
	lineContent                 // anything else
)

// lineText is a lineIndex bound to its document.
type lineText struct {
	src   []byte
	lines lineIndex
}

func (l lineText) count() int { return len(l.lines) }

// start returns the offset of line i's first byte (0-based lines).
func (l lineText) start(i int) int { return l.lines[i] }

// end returns the offset just past line i's line break.
func (l lineText) end(i int) int {
	if i+1 < len(l.lines) {
		return l.lines[i+1]
	}
	return len(l.src)
}

// contentEnd returns the offset of line i's line break (or the end of the
// file).
func (l lineText) contentEnd(i int) int {
	e := l.end(i)
	for j := l.start(i); j < e; j++ {
		if breakLen(l.src[j:]) > 0 {
			return j
		}
	}
	return e
}

// hasBreak reports whether line i ends with a line break.
func (l lineText) hasBreak(i int) bool { return l.contentEnd(i) < l.end(i) }

// classify returns the kind of line i and its indentation in spaces.
func (l lineText) classify(i int) (lineKind, int) {
	s, e := l.start(i), l.contentEnd(i)
	j := s
	for j < e && l.src[j] == ' ' {
		j++
	}
	ind := j - s
	for j < e && l.src[j] == '\t' {
		j++
	}
	switch {
	case j == e:
		return lineBlank, ind
	case l.src[j] == '#':
		return lineComment, ind
	}
	return lineContent, ind
}

// isDash reports whether line i holds a block sequence dash at column col.
func (l lineText) isDash(i, col int) bool {
	j, e := l.start(i)+col, l.contentEnd(i)
	return j < e && l.src[j] == '-' && (j+1 == e || l.src[j+1] == ' ' || l.src[j+1] == '\t')
}

// isDocMarker reports whether line i is a document start or end marker.
func (l lineText) isDocMarker(i int) bool {
	rest := string(l.src[l.start(i):l.contentEnd(i)])
	for _, m := range []string{"---", "..."} {
		if rest == m || strings.HasPrefix(rest, m+" ") || strings.HasPrefix(rest, m+"\t") {
			return true
		}
	}
	return false
}

// lastLine returns the last line of the block node whose first line is
// first and whose lines are indented past col; with seqAtCol, dash lines at
// col belong to it too. col -1 means a document's root node. The node ends
// at its last content line, or at the comment lines indented past col that
// follow it directly (its foot comments). With scalarTail (the node ends in
// a block scalar, whose lines may look like comments) a comment line past
// col counts as content.
func (l lineText) lastLine(first, col int, seqAtCol, scalarTail bool) int {
	last := first
scan:
	for i := first + 1; i < l.count(); i++ {
		kind, ind := l.classify(i)
		switch {
		case kind == lineComment && scalarTail && ind > col:
			last = i
		case kind != lineContent:
		case l.isDocMarker(i):
			break scan
		case ind > col, seqAtCol && ind == col && l.isDash(i, col):
			last = i
		default:
			break scan
		}
	}
	for last+1 < l.count() {
		if kind, ind := l.classify(last + 1); kind != lineComment || ind <= col {
			break
		}
		last++
	}
	return last
}

// nodeEnd is lastLine for node n, whose first line is first. If n ends
// with a block scalar, comment-like lines past col may be its text and
// count as content; if that scalar keeps its trailing line breaks ("|+"),
// the blank lines after it are part of its value and of its lines.
func (l lineText) nodeEnd(first, col int, seqAtCol bool, n *yaml.Node) int {
	last := l.lastLine(first, col, seqAtCol, endsInBlockScalar(n))
	if tail := lastScalar(n); tail != nil && tail.Line-1 > last && tail.Line-1 < l.count() {
		// yaml.v3 accepts content at its parent's column ("a:\n>"); the
		// node's last part starts on a line the indentation scan missed.
		last = l.lastLine(tail.Line-1, col, seqAtCol, endsInBlockScalar(n))
	}
	if !l.keepsBlankLines(n) {
		return last
	}
	for last+1 < l.count() {
		if kind, _ := l.classify(last + 1); kind != lineBlank {
			break
		}
		last++
	}
	return last
}

// keepsBlankLines reports whether the last scalar under n is a block
// scalar with the keep chomping indicator.
func (l lineText) keepsBlankLines(n *yaml.Node) bool {
	if !endsInBlockScalar(n) {
		return false
	}
	n = lastScalar(n)
	off, err := l.lines.offset(l.src, n.Line, n.Column)
	if err != nil {
		return true
	}
	off, _, _ = skipProperties(l.src, off)
	for j := off; j < len(l.src) && !isBlankOrBreak(l.src[j]); j++ {
		if l.src[j] == '+' {
			return true
		}
	}
	return false
}

// attachedStart returns the first of the comment lines at column col that
// sit directly above line i (no blank line between), or i if there are none.
func (l lineText) attachedStart(i, col int) int {
	for i > 0 {
		kind, ind := l.classify(i - 1)
		if kind != lineComment || ind != col {
			break
		}
		i--
	}
	return i
}

// removal returns the byte span that removes lines first..last whole, the
// lines of a collection's child (leading tells it is the first child). At
// the end of a file without a final line break the break before first goes
// instead, unless keepBreak (it ends a block scalar's value). A blank line
// after the child goes too when it is the first child or a blank line
// precedes it, so items written with blank lines between them keep one.
func (l lineText) removal(first, last int, leading, keepBreak bool) (int, int) {
	start, end := l.start(first), l.end(last)
	if !l.hasBreak(last) && first > 0 && !keepBreak {
		return l.contentEnd(first - 1), end
	}
	if first > 0 && last+1 < l.count() && l.end(last+1) > l.start(last+1) {
		before, _ := l.classify(first - 1)
		after, _ := l.classify(last + 1)
		if (leading || before == lineBlank) && after == lineBlank {
			end = l.end(last + 1)
		}
	}
	return start, end
}

// trailingComment returns the comment at the end of line i after offset
// from, with the blanks before it ("  # canary"), or "". Quoted scalars
// are skipped, so a '#' inside quotes is not taken for a comment.
func (l lineText) trailingComment(i, from int) string {
	end := l.contentEnd(i)
	var q byte
	for j := from; j < end; j++ {
		c := l.src[j]
		switch {
		case q == '"' && c == '\\':
			j++
		case q == '"' && c == '"':
			q = 0
		case q == '\'' && c == '\'' && j+1 < end && l.src[j+1] == '\'':
			j++
		case q == '\'' && c == '\'':
			q = 0
		case q != 0:
		case (c == '"' || c == '\'') && (j == from || strings.IndexByte(" \t:[{,", l.src[j-1]) >= 0):
			q = c
		case c == '#' && j > from && (l.src[j-1] == ' ' || l.src[j-1] == '\t'):
			k := j
			for k > from && (l.src[k-1] == ' ' || l.src[k-1] == '\t') {
				k--
			}
			return string(l.src[k:end])
		}
	}
	return ""
}

// dashLine returns the line of item i's dash in block sequence seq. The
// dash must begin its line (after indentation).
func (l lineText) dashLine(seq *yaml.Node, i int) (int, error) {
	col := seq.Column - 1
	item := seq.Content[i]
	for ln := item.Line - 1; ln >= seq.Line-1 && ln >= 0 && ln < l.count(); ln-- {
		if kind, ind := l.classify(ln); kind == lineContent && ind == col && l.isDash(ln, col) {
			return ln, nil
		}
	}
	return 0, unsupportedStyle("line %d: sequence item does not begin its own line", item.Line)
}

// keyToken locates mapping key k, a plain or quoted scalar. The span
// starts at the key's tag, if it has one.
func (l lineText) keyToken(k *yaml.Node) (token, error) {
	if k.Kind != yaml.ScalarNode || k.Anchor != "" {
		return token{}, unsupportedStyle("line %d: mapping key is not a plain scalar", k.Line)
	}
	tok, err := locate(l.src, l.lines, k, false)
	if err != nil {
		return token{}, fmt.Errorf("line %d: mapping key: %w", k.Line, err)
	}
	if tok.tagged {
		if tok.start, err = l.lines.offset(l.src, k.Line, k.Column); err != nil {
			return token{}, err
		}
	}
	j := tok.end
	for j < len(l.src) && (l.src[j] == ' ' || l.src[j] == '\t') {
		j++
	}
	if ln := k.Line - 1; j >= len(l.src) || l.src[j] != ':' || !l.atLineStart(ln, tok.start) && !l.afterDash(ln, tok.start) {
		return token{}, unsupportedStyle("line %d: mapping key is not a simple key at the start of its line", k.Line)
	}
	return tok, nil
}

// atLineStart reports whether offset off is the first non-blank byte of
// its line ln.
func (l lineText) atLineStart(ln, off int) bool {
	s := l.start(ln)
	return strings.TrimLeft(string(l.src[s:off]), " ") == ""
}

// afterDash reports whether only blanks and dashes precede offset off on
// line ln: the first key of a mapping written as a sequence item ("- a: 1").
func (l lineText) afterDash(ln, off int) bool {
	prefix := string(l.src[l.start(ln):off])
	return strings.Contains(prefix, "-") && strings.Trim(prefix, " -") == ""
}

// unsupportedStyle builds an error wrapping ErrUnsupportedStyle and
// ErrUnsupported.
func unsupportedStyle(format string, args ...any) error {
	return fmt.Errorf("%s: %w (%w)", fmt.Sprintf(format, args...), ErrUnsupportedStyle, ErrUnsupported)
}
