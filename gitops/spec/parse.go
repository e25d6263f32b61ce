package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	lineMsgRE      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	cannotRE       = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// ParseCanaries decodes, defaults and validates every Canary document in
// data. file is the repository-relative path used in problems. Unknown fields
// are errors. The returned error is an *Error listing every problem found.
func ParseCanaries(file string, data []byte, checks Checks) ([]*Canary, error) {
	docs, err := ParseDocuments(file, data, checks)
	var out []*Canary
	var all []Problem
	if err != nil {
		all = append(all, err.(*Error).Problems...)
	}
	for _, d := range docs {
		all = append(all, d.Problems...)
		if d.Canary != nil {
			out = append(out, d.Canary)
		}
	}
	if len(all) > 0 {
		return nil, &Error{Problems: all}
	}
	return out, nil
}

// Document is one YAML document of a spec file: a valid Canary, or the
// problems that keep it from being one, with whatever names it.
type Document struct {
	// Canary is the valid, defaulted Canary; nil when Problems is not empty.
	Canary *Canary
	// Problems are what is wrong with this document.
	Problems []Problem
	// Metadata names the document's Canary as far as it could be read
	// (Name may be empty); Line is where the document starts.
	Metadata Metadata
	Line     int
}

// ParseDocuments is ParseCanaries one document at a time: a bad document
// does not hide the good ones beside it. The error (an *Error) is set only
// when the file stops being YAML, for what follows that point.
func ParseDocuments(file string, data []byte, checks Checks) ([]Document, error) {
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var out []Document
	for index := 0; ; index++ {
		var doc yaml.Node
		err := nodes.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, &Error{Problems: yamlProblems(file, nil, nil, err)}
		}
		ix := newLineIndex(&doc)
		if documentKind(&doc) == KindMetricTemplate { // read by ParseMetricTemplates
			var skip yaml.Node
			_ = strict.Decode(&skip) // keeps the two decoders on the same document
			continue
		}
		d := Document{Line: docLine(&doc)}
		var named struct {
			Metadata Metadata `yaml:"metadata"`
		}
		_ = doc.Decode(&named) // best effort: names a document that is otherwise wrong
		d.Metadata = named.Metadata
		if d.Metadata.Namespace == "" {
			d.Metadata.Namespace = DefaultNamespace
		}
		var c Canary
		decoding, err := decodeInto(strict, &c, file, ix, canaryType)
		if err != nil {
			d.Problems = yamlProblems(file, ix, canaryType, err)
			out = append(out, d)
			continue
		}
		if isEmptyDocument(&doc) {
			continue
		}
		c.File, c.Line, c.Doc = file, docLine(&doc), index
		setRefLines(&c, ix)
		ps := &problems{file: file, index: ix}
		checkExplicitZeros(&c, ix, ps)
		SetDefaults(&c)
		validate(&c, checks, ps)
		checkFinite(&doc, ps)
		// One pass: the decoder's problems (types, unknown fields) with the
		// checks of what did decode, less those a type problem explains.
		all := append(decoding, unexplained(decoding, ps.list)...)
		if len(all) > 0 {
			d.Problems = all
		} else {
			d.Canary = &c
		}
		out = append(out, d)
	}
	return out, nil
}

// isEmptyDocument is true for a document with no content (a stray "---").
func isEmptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null")
}

func docLine(doc *yaml.Node) int {
	if len(doc.Content) > 0 {
		return doc.Content[0].Line
	}
	return doc.Line
}

// yamlProblems turns a yaml.v3 error into Problems with file, line and
// field; root (the document's Go type; nil for none) lets an unknown field
// or a field of the wrong shape say where it belongs (fieldHint).
func yamlProblems(file string, ix *lineIndex, root reflect.Type, err error) []Problem {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{File: file, Message: m}
		if sub := lineMsgRE.FindStringSubmatch(m); sub != nil {
			p.Line, _ = strconv.Atoi(sub[1])
			p.Message = sub[2]
		}
		if sub := unknownFieldRE.FindStringSubmatch(p.Message); sub != nil {
			p.Message = "unknown field"
			p.Field = sub[1]
			if ix != nil {
				if path, ok := ix.byLineKey[fmt.Sprintf("%d:%s", p.Line, sub[1])]; ok {
					p.Field = path
				}
			}
			if h := fieldHint(root, p.Field); h != "" {
				p.Message += "; " + h
			}
			out = append(out, p)
			continue
		}
		sub := cannotRE.FindStringSubmatch(p.Message)
		if sub != nil {
			p.Message = fmt.Sprintf("want %s, got %s", friendlyType(sub[3]), yamlShape(sub[1], sub[2]))
		}
		if ix != nil && p.Line > 0 {
			p.Field = ix.byLine[p.Line]
			if f, ok := ix.byValueLine[p.Line]; ok && sub != nil && (sub[1] == "map" || sub[1] == "seq") {
				p.Field, p.Line = f, ix.byPath[f] // the key's line, above a block value
			}
		}
		if root != nil && p.Field != "" {
			if h := foreignHint(root, indexRE.ReplaceAllString(p.Field, "")); h != "" {
				p.Message += "; " + h
			}
		}
		out = append(out, p)
	}
	return out
}

// yamlShape names what a YAML node of tag (str, int, map, seq) holding
// value is, for "want X, got Y".
func yamlShape(tag, value string) string {
	switch tag {
	case "map":
		return "a mapping"
	case "seq":
		return "a list"
	}
	return fmt.Sprintf("%s %q", tag, value)
}

// friendlyType names a Go type the way a spec author thinks of it.
func friendlyType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "spec."):
		return "a mapping"
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	}
	return goType
}

// ParseStatus decodes a status file strictly.
func ParseStatus(file string, data []byte) (*Status, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Status
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Problems: []Problem{{File: file, Message: "empty status file"}}}
		}
		return nil, &Error{Problems: yamlProblems(file, nil, nil, err)}
	}
	s.Baseline = baselineOf(&s)
	return &s, nil
}

// startReason matches the reason of a start decision, "new canary v05 (stable v03)".
var startReason = regexp.MustCompile(`^new canary \S+ \(stable (\S+)\)`)

// baselineOf is s.Baseline, or for a status file written before that field
// the version the rollout compared against: the stable one, unless
// promotion already made the canary stable, when the start decision's
// reason still names it.
func baselineOf(s *Status) string {
	if s.Baseline != "" || s.Generation == "" {
		return s.Baseline
	}
	if s.Phase != PhaseSucceeded || s.Stable != s.Generation {
		return s.Stable
	}
	for _, h := range s.History {
		if m := startReason.FindStringSubmatch(h.Reason); h.Decision == "start" && m != nil {
			return m[1]
		}
	}
	return ""
}

// statusHeader opens every status file.
const statusHeader = "# Written by birdwatch; do not edit. Delete this file to restart the rollout.\n"

// MarshalStatus renders s as a status file.
func MarshalStatus(s *Status) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(statusHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return b.Bytes(), nil
}
