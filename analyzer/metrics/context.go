package metrics

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// lexState is where the scanner of a rendered query is: PromQL code, a
// string literal of one of the three kinds, or a # comment.
type lexState int

const (
	inCode lexState = iota
	inDouble
	inSingle
	inRaw
	inComment
)

func (s lexState) String() string {
	return [...]string{"outside any string", "in a double-quoted string", "in a single-quoted string",
		"in a backtick string", "in a comment"}[s]
}

// substitute replaces the placeholders in the executed template out with
// their escaped values, after checking where each one stands.
//
// This is a hand-written scanner of PromQL's lexical structure (strings,
// escapes, comments) rather than the real parser because
// github.com/prometheus/prometheus/promql/parser drags the whole Prometheus
// server module into our build. It only needs to know whether a byte is
// inside a double-quoted string, and whether that string follows =~ or !~.
func substitute(out []byte, bs []binding) (string, error) {
	var b strings.Builder
	b.Grow(len(out))
	state, regex := inCode, false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if c == 0 {
			n, end, err := readPlaceholder(out, i, len(bs))
			if err != nil {
				return "", err
			}
			val, err := bs[n].render(state, regex)
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			i = end
			continue
		}
		b.WriteByte(c)
		switch state {
		case inCode:
			switch c {
			case '"':
				state, regex = inDouble, followsRegexOp(out[:i])
			case '\'':
				state = inSingle
			case '`':
				state = inRaw
			case '#':
				state = inComment
			}
		case inDouble, inSingle:
			if c == '\\' && i+1 < len(out) {
				if out[i+1] == 0 {
					return "", fmt.Errorf("%w: variable directly after a backslash", ErrTemplate)
				}
				i++
				b.WriteByte(out[i])
			} else if (c == '"' && state == inDouble) || (c == '\'' && state == inSingle) {
				state = inCode
			}
		case inRaw:
			if c == '`' {
				state = inCode
			}
		case inComment:
			if c == '\n' {
				state = inCode
			}
		}
	}
	return b.String(), nil
}

// readPlaceholder parses the placeholder "\x00N\x00" starting at out[i] and
// returns N and the index of its closing NUL.
func readPlaceholder(out []byte, i, n int) (int, int, error) {
	end := bytes.IndexByte(out[i+1:], 0)
	if end < 0 {
		return 0, 0, fmt.Errorf("%w: template output contains a NUL byte", ErrTemplate)
	}
	end += i + 1
	idx, err := strconv.Atoi(string(out[i+1 : end]))
	if err != nil || idx < 0 || idx >= n {
		return 0, 0, fmt.Errorf("%w: template output contains a NUL byte or a mangled variable", ErrTemplate)
	}
	return idx, end, nil
}

// followsRegexOp reports whether code, the text before an opening quote,
// ends with a regular-expression matcher operator.
func followsRegexOp(code []byte) bool {
	code = bytes.TrimRight(code, " \t\r\n")
	return bytes.HasSuffix(code, []byte("=~")) || bytes.HasSuffix(code, []byte("!~"))
}

// render returns the text that replaces the binding's placeholder in state.
func (b binding) render(state lexState, regex bool) (string, error) {
	if b.isDur {
		s, err := PromDuration(b.dur)
		if err != nil {
			return "", fmt.Errorf("%s: %w", b.name, err)
		}
		return s, nil
	}
	if state != inDouble {
		return "", fmt.Errorf("%w: .%s is used %s; string variables must be inside a double-quoted string",
			ErrTemplate, b.name, state)
	}
	switch {
	case b.str == "":
		return "", fmt.Errorf("%w: .%s is empty", ErrInvalidValue, b.name)
	case !utf8.ValidString(b.str):
		return "", fmt.Errorf("%w: .%s is not valid UTF-8", ErrInvalidValue, b.name)
	}
	v := b.str
	if regex {
		v = regexp.QuoteMeta(v)
	}
	return quoteLabelValue(v), nil
}
