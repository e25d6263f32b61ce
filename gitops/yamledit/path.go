package yamledit

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a parsed location of one node in a YAML file: an optional document
// selector followed by one or more steps. The zero Path is empty and resolves
// nothing; obtain Paths from ParsePath. A Path is immutable and safe for
// concurrent use.
type Path struct {
	doc   *selector // nil: every document, the first where the steps resolve
	steps []step
}

type stepKind int

const (
	stepKey   stepKind = iota // mapping key
	stepIndex                 // sequence index, zero-based
	stepMatch                 // sequence item whose fields match
)

type step struct {
	kind  stepKind
	key   string // stepKey
	index int    // stepIndex
	conds []cond // stepMatch
}

// selector is the body of "[...]" or "{...}": an index or conditions.
type selector struct {
	isIndex bool
	index   int
	conds   []cond
}

// cond is one "a.b=value" condition: the scalar at keys equals value.
type cond struct {
	keys  []string
	value string
}

// maxIndex bounds list indexes so that a hostile path cannot make the
// resolver allocate or loop; no real manifest has a list this long.
const maxIndex = 1 << 24

// ParsePath parses a path such as "spec.subsets[name=production].labels.version"
// or "spec.http[0].route[1].weight".
//
// Syntax:
//   - keys are separated by dots: "metadata.name";
//   - "[3]" selects the list item with zero-based index 3;
//   - "[name=production]" selects the single list item that is a mapping whose
//     scalar "name" equals "production"; several conditions are joined with
//     commas and condition keys may be dotted: "[destination.subset=canary,destination.host=aleph]";
//   - an optional leading document selector in braces restricts the documents
//     of a multi-document file: "{1}" is the second document and
//     "{kind=DestinationRule,metadata.name=aleph}" uses conditions as above.
//     Without it the path resolves in the first document where it can;
//   - a backslash makes the next character literal, e.g. a key with dots:
//     "metadata.annotations.prometheus\.io/scrape".
//
// The empty string is an error. The returned error wraps ErrInvalidPath.
func ParsePath(s string) (Path, error) {
	p := pathParser{s: s}
	path, err := p.parse()
	if err != nil {
		return Path{}, fmt.Errorf("parse path %q: %w: %s", s, ErrInvalidPath, err.Error())
	}
	return path, nil
}

// String returns the path in the syntax ParsePath reads; ParsePath(p.String())
// yields an equal Path.
func (p Path) String() string {
	var b strings.Builder
	if p.doc != nil {
		b.WriteByte('{')
		writeSelector(&b, p.doc)
		b.WriteByte('}')
	}
	writeSteps(&b, p.steps)
	return b.String()
}

// prefix renders the first n steps, for error messages.
func (p Path) prefix(n int) string {
	var b strings.Builder
	writeSteps(&b, p.steps[:n])
	return b.String()
}

func writeSteps(b *strings.Builder, steps []step) {
	for i, st := range steps {
		switch st.kind {
		case stepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			writeEscaped(b, st.key)
		case stepIndex:
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
		case stepMatch:
			b.WriteByte('[')
			writeSelector(b, &selector{conds: st.conds})
			b.WriteByte(']')
		}
	}
}

func writeSelector(b *strings.Builder, sel *selector) {
	if sel.isIndex {
		b.WriteString(strconv.Itoa(sel.index))
		return
	}
	for i, c := range sel.conds {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, k := range c.keys {
			if j > 0 {
				b.WriteByte('.')
			}
			writeEscaped(b, k)
		}
		b.WriteByte('=')
		writeEscaped(b, c.value)
	}
}

// specialChars are the characters that end a key or value somewhere in the
// grammar; String escapes all of them everywhere so the output always parses.
const specialChars = `.[]{}=,\`

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(specialChars, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// pathParser is a hand-written recursive-descent parser: the grammar is
// tiny and no library parses this dialect (JSONPath and yq syntaxes differ).
type pathParser struct {
	s string
	i int
}

func (p *pathParser) eof() bool { return p.i >= len(p.s) }

func (p *pathParser) parse() (Path, error) {
	var path Path
	if p.s == "" {
		return path, fmt.Errorf("empty path")
	}
	if p.s[0] == '{' {
		p.i++
		sel, err := p.selector('}')
		if err != nil {
			return path, fmt.Errorf("document selector: %w", err)
		}
		path.doc = &sel
	}
	for first := true; !p.eof() || first; first = false {
		switch {
		case !p.eof() && p.s[p.i] == '[':
			p.i++
			st, err := p.bracket()
			if err != nil {
				return path, err
			}
			path.steps = append(path.steps, st)
		case first || p.s[p.i] == '.':
			if !first {
				p.i++
			}
			key, _ := p.token(".[")
			if key == "" {
				return path, fmt.Errorf("empty key at offset %d", p.i)
			}
			path.steps = append(path.steps, step{kind: stepKey, key: key})
		default:
			return path, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
		}
	}
	return path, nil
}

// token reads up to (not including) the first unescaped byte in stops or the
// end, unescaping backslashes. It returns the text and the stop byte (0 at
// the end). A trailing lone backslash is kept literally.
func (p *pathParser) token(stops string) (string, byte) {
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		if c == '\\' && p.i+1 < len(p.s) {
			b.WriteByte(p.s[p.i+1])
			p.i += 2
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			return b.String(), c
		}
		b.WriteByte(c)
		p.i++
	}
	return b.String(), 0
}

func (p *pathParser) bracket() (step, error) {
	sel, err := p.selector(']')
	if err != nil {
		return step{}, err
	}
	if sel.isIndex {
		return step{kind: stepIndex, index: sel.index}, nil
	}
	return step{kind: stepMatch, conds: sel.conds}, nil
}

// selector parses an index or conditions up to the closing byte, which it
// consumes.
func (p *pathParser) selector(closing byte) (selector, error) {
	start := p.i
	end := strings.IndexByte(p.s[start:], closing)
	if end > 0 && isDigits(p.s[start:start+end]) {
		n, err := strconv.Atoi(p.s[start : start+end])
		if err != nil || n > maxIndex {
			return selector{}, fmt.Errorf("index %q out of range", p.s[start:start+end])
		}
		p.i = start + end + 1
		return selector{isIndex: true, index: n}, nil
	}
	var sel selector
	for {
		c, stop, err := p.cond(closing)
		if err != nil {
			return sel, err
		}
		sel.conds = append(sel.conds, c)
		if stop == closing {
			return sel, nil
		}
	}
}

func (p *pathParser) cond(closing byte) (cond, byte, error) {
	var c cond
	stops := "=." + string(closing)
	for {
		key, stop := p.token(stops)
		if key == "" {
			return c, 0, fmt.Errorf("empty selector key at offset %d", p.i)
		}
		c.keys = append(c.keys, key)
		if stop != '.' {
			if stop != '=' {
				return c, 0, fmt.Errorf("selector at offset %d: want index or key=value", p.i)
			}
			break
		}
		p.i++
	}
	p.i++ // '='
	value, stop := p.token("," + string(closing))
	if stop == 0 {
		return c, 0, fmt.Errorf("missing %q", closing)
	}
	p.i++
	c.value = value
	return c, stop, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
