package spec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every parse and validation error, so callers can
// tell bad input from I/O trouble with errors.Is.
var ErrInvalid = errors.New("invalid canary spec")

// Problem is one thing wrong with a spec, located as precisely as known.
type Problem struct {
	File    string // repository-relative path; may be empty
	Line    int    // 1-based; 0 when unknown
	Field   string // dotted path such as spec.steps[2].setWeight; may be empty
	Message string
}

// String renders "file:line: field: message", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error holds every problem found in one or more files.
type Error struct{ Problems []Problem }

// Error lists the problems, one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

// problems collects Problems for one file and resolves their lines.
type problems struct {
	file  string
	index *lineIndex
	list  []Problem
}

// add records a problem at a field path; its line comes from the index.
func (ps *problems) add(field, format string, args ...any) {
	line := 0
	if ps.index != nil {
		line = ps.index.lineOf(field)
	}
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when no problem was recorded.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &Error{Problems: ps.list}
}
