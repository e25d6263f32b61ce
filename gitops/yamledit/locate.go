package yamledit

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// lineIndex holds the byte offset where each line starts (line 1 at [0]).
// Lines break exactly where go.yaml.in/yaml/v3 counts a new line: LF, CR,
// CRLF, and the Unicode breaks NEL (U+0085), LS (U+2028) and PS (U+2029).
// A leading UTF-8 byte order mark is not part of line 1, as in the parser.
type lineIndex []int

func newLineIndex(doc []byte) lineIndex {
	start := 0
	if bytes.HasPrefix(doc, []byte("\xEF\xBB\xBF")) {
		start = 3
	}
	starts := make(lineIndex, 1, bytes.Count(doc, []byte{'\n'})+2)
	starts[0] = start
	for i := start; i < len(doc); {
		n := breakLen(doc[i:])
		if n == 0 {
			i++
			continue
		}
		i += n
		starts = append(starts, i)
	}
	return starts
}

// breakLen returns the length of the line break at the start of b, or 0.
func breakLen(b []byte) int {
	switch {
	case b[0] == '\n':
		return 1
	case b[0] == '\r':
		if len(b) > 1 && b[1] == '\n' {
			return 2
		}
		return 1
	case b[0] == 0xC2 && len(b) > 1 && b[1] == 0x85:
		return 2
	case b[0] == 0xE2 && len(b) > 2 && b[1] == 0x80 && (b[2] == 0xA8 || b[2] == 0xA9):
		return 3
	}
	return 0
}

// offset converts a 1-based line and character column to a byte offset.
func (l lineIndex) offset(doc []byte, line, col int) (int, error) {
	if line < 1 || line > len(l) || col < 1 {
		return 0, fmt.Errorf("position %d:%d outside the file: %w", line, col, ErrUnsupported)
	}
	off := l[line-1]
	for c := 1; c < col; c++ {
		if off >= len(doc) {
			return 0, fmt.Errorf("position %d:%d outside the file: %w", line, col, ErrUnsupported)
		}
		_, size := utf8.DecodeRune(doc[off:])
		off += size
	}
	return off, nil
}

// token is the byte span of a scalar's text, after any anchor and tag.
type token struct {
	start, end int
	tagged     bool   // an explicit tag precedes the scalar
	prefix     string // white space to write before a value inserted where there was none
}

// locate finds the bytes of scalar n in doc. The parser reports where the
// node starts (at its anchor or tag, if any) but not where it ends, so the
// end is found by scanning the token according to its style. A token that
// does not look as the parser described is an error, never a guess.
func locate(doc []byte, lines lineIndex, n *yaml.Node, inFlow bool) (token, error) {
	start, err := lines.offset(doc, n.Line, n.Column)
	if err != nil {
		return token{}, err
	}
	i, tagged, props := skipProperties(doc, start)
	style := n.Style &^ (yaml.TaggedStyle | yaml.FlowStyle)
	switch style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := byte('"')
		if style == yaml.SingleQuotedStyle {
			q = '\''
		}
		if i >= len(doc) || doc[i] != q {
			return token{}, fmt.Errorf("no %c at the scalar's position: %w", q, ErrUnsupported)
		}
		end := quotedEnd(doc, i, q)
		if end < 0 {
			return token{}, fmt.Errorf("unterminated quoted scalar: %w", ErrUnsupported)
		}
		return token{start: i, end: end, tagged: tagged}, nil
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return token{}, fmt.Errorf("block scalar (| or >): %w", ErrUnsupported)
	}
	if n.Value == "" {
		return emptyToken(doc, i, props, inFlow)
	}
	if !bytes.HasPrefix(doc[i:], []byte(n.Value)) {
		return token{}, fmt.Errorf("plain scalar spans several lines: %w", ErrUnsupported)
	}
	return token{start: i, end: i + len(n.Value), tagged: tagged}, nil
}

// emptyToken places a value where the parser reports an empty one: right
// after its block "key:" or "-", or after "key: " in a flow mapping. In flow
// context ":" and "-" may belong to a plain scalar ("{a:}" has the key "a:"),
// so there the ":" must be followed by white space. Anywhere else there is
// no safe place to write.
func emptyToken(doc []byte, i int, props, inFlow bool) (token, error) {
	j := i
	for j > 0 && (doc[j-1] == ' ' || doc[j-1] == '\t') {
		j--
	}
	ok := j > 0 && !props
	if ok && inFlow {
		ok = doc[j-1] == ':' && j < i
	} else if ok {
		ok = doc[j-1] == ':' || doc[j-1] == '-'
	}
	switch {
	case !ok:
		return token{}, fmt.Errorf("empty value without a preceding \":\" or \"-\": %w", ErrUnsupported)
	case j == i:
		return token{start: i, end: i, prefix: " "}, nil
	default:
		return token{start: i, end: i}, nil
	}
}

// skipProperties skips an anchor (&a) and a tag (!t), in any order, and the
// white space after them. It returns the scalar's offset and whether a tag
// or any property was seen.
func skipProperties(doc []byte, i int) (next int, tagged, props bool) {
	for i < len(doc) && (doc[i] == '&' || doc[i] == '!') {
		props = true
		if doc[i] == '!' {
			tagged = true
		}
		verbatim := i+1 < len(doc) && doc[i] == '!' && doc[i+1] == '<'
		for i < len(doc) && !isBlankOrBreak(doc[i]) {
			if verbatim && doc[i] == '>' {
				i++
				break
			}
			if !verbatim && isFlowIndicator(doc[i]) {
				break
			}
			i++
		}
		for i < len(doc) && isBlankOrBreak(doc[i]) {
			i++
		}
	}
	return i, tagged, props
}

// quotedEnd returns the offset just past the closing quote of the scalar
// opening at doc[i], or -1. In double quotes a backslash escapes the next
// byte; in single quotes a doubled quote stands for one.
func quotedEnd(doc []byte, i int, q byte) int {
	for j := i + 1; j < len(doc); j++ {
		switch {
		case q == '"' && doc[j] == '\\':
			j++
		case doc[j] == q && q == '\'' && j+1 < len(doc) && doc[j+1] == '\'':
			j++
		case doc[j] == q:
			return j + 1
		}
	}
	return -1
}

func isBlankOrBreak(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}
