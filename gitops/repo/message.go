package repo

import (
	"fmt"
	"strings"
)

// Message is a commit message: a one-line subject, an optional free-form body
// and optional "Key: Value" trailers (as in "Birdwatch-Decision: advance").
// The zero Message is invalid for Commit because the subject is empty.
type Message struct {
	// Subject is the first line. It must be non-empty and single-line.
	Subject string
	// Body is the free text after the subject; "" means none. Leading and
	// trailing blank lines are dropped when rendering.
	Body string
	// Trailers are rendered, in order, as the last paragraph; nil means none.
	Trailers []Trailer
}

// Trailer is one "Key: Value" line of a commit message's trailer block.
// Key is a token of ASCII letters, digits and '-'; Value is a single line.
type Trailer struct {
	Key, Value string
}

// String renders the message as Git stores it: the subject, a blank line, the
// body, a blank line and one "Key: Value" line per trailer, ending in a
// newline. Empty parts and their blank lines are left out.
func (m Message) String() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.Subject))
	b.WriteByte('\n')
	if body := trimBlankLines(m.Body); body != "" {
		b.WriteByte('\n')
		b.WriteString(body)
		b.WriteByte('\n')
	}
	if len(m.Trailers) > 0 {
		b.WriteByte('\n')
		for _, t := range m.Trailers {
			b.WriteString(t.Key)
			b.WriteString(": ")
			b.WriteString(strings.TrimSpace(t.Value))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// validate reports whether String renders m so that Git reads back the same
// subject and ParseTrailers the same trailers.
func (m Message) validate() error {
	subject := strings.TrimSpace(m.Subject)
	if subject == "" {
		return fmt.Errorf("%w: empty subject", ErrInvalidMessage)
	}
	if strings.ContainsAny(subject, "\r\n") {
		return fmt.Errorf("%w: subject %q spans several lines", ErrInvalidMessage, subject)
	}
	for _, t := range m.Trailers {
		if !isTrailerKey(t.Key) {
			return fmt.Errorf("%w: trailer key %q is not a token of letters, digits and '-'", ErrInvalidMessage, t.Key)
		}
		if strings.ContainsAny(t.Value, "\r\n") {
			return fmt.Errorf("%w: trailer %s value spans several lines", ErrInvalidMessage, t.Key)
		}
	}
	return nil
}

// trimBlankLines drops leading and trailing blank lines and trailing spaces
// but keeps the indentation of the first line (bodies may hold tables).
func trimBlankLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// ParseTrailers returns the trailers of a commit message, in order, or nil if
// it has none. It follows `git interpret-trailers --parse`: the trailer block
// is the last paragraph, never the subject paragraph; it counts when all its
// lines are "Key: Value" trailers, or when at least a quarter are and one was
// written by Git (Signed-off-by, cherry-pick note). Indented lines continue
// the previous trailer and are unfolded with one space; '#' comment lines are
// ignored.
//
// Hand-written: go-git has no trailer parser and the Lambda has no git
// binary, so shelling out to `git interpret-trailers` is not an option.
func ParseTrailers(message string) []Trailer {
	lines := strings.Split(strings.ReplaceAll(message, "\r\n", "\n"), "\n")
	end := len(lines)
	for end > 0 && isBlank(lines[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isBlank(lines[start-1]) {
		start--
	}
	if start == 0 { // only the subject paragraph
		return nil
	}
	return parseTrailerBlock(lines[start:end])
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

func parseTrailerBlock(lines []string) []Trailer {
	var (
		out                []Trailer
		trailers, others   int
		recognised, inLast bool
	)
	for _, line := range lines {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if inLast && (line[0] == ' ' || line[0] == '\t') {
			last := &out[len(out)-1]
			last.Value = strings.TrimSpace(last.Value + " " + strings.TrimSpace(line))
			continue
		}
		// Lines Git itself writes let a paragraph that also holds other
		// lines count as trailers.
		if strings.HasPrefix(line, "Signed-off-by: ") || strings.HasPrefix(line, "(cherry picked from commit ") {
			recognised = true
		}
		key, value, ok := splitTrailer(line)
		inLast = ok
		if !ok {
			others++
			continue
		}
		trailers++
		out = append(out, Trailer{Key: key, Value: value})
	}
	if trailers == 0 || (others > 0 && !(recognised && 3*trailers >= others)) {
		return nil
	}
	return out
}

// splitTrailer splits "Key: Value" (spaces allowed before the colon).
func splitTrailer(line string) (key, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimRight(line[:i], " \t")
	if !isTrailerKey(key) {
		return "", "", false
	}
	return key, strings.TrimSpace(line[i+1:]), true
}

func isTrailerKey(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
