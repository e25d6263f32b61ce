package spec

import (
	"errors"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The Go types of the two kinds of spec documents, for field hints.
var (
	canaryType   = reflect.TypeFor[Canary]()
	templateType = reflect.TypeFor[MetricTemplate]()
)

// decodeInto decodes strict's next document into v. Problems of shape
// (a wrong type, an unknown field) come back as Problems, with v holding
// everything that did decode, so the semantic checks can run in the same
// pass; any other error (the YAML itself is broken) is returned.
func decodeInto(strict *yaml.Decoder, v any, file string, ix *lineIndex, root reflect.Type) ([]Problem, error) {
	err := strict.Decode(v)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil, nil
	case errors.As(err, &te):
		return yamlProblems(file, ix, root, te), nil
	}
	return nil, err
}

// unexplained returns the semantic problems no decoding problem explains:
// a field that failed to decode is left zero, and what the checks then say
// about it, its parts or the item holding it is noise beside the real
// problem. Unknown fields explain nothing (the field beside them decoded).
func unexplained(decoding, semantic []Problem) []Problem {
	var bad []string
	for _, p := range decoding {
		if p.Field != "" && !strings.HasPrefix(p.Message, "unknown field") {
			bad = append(bad, p.Field)
		}
	}
	var out []Problem
	for _, q := range semantic {
		if !explained(q.Field, bad) {
			out = append(out, q)
		}
	}
	return out
}

// explained reports whether field is one of bad, inside one, or holds one
// directly (spec.steps[2] for spec.steps[2].setWeight).
func explained(field string, bad []string) bool {
	for _, b := range bad {
		if field == b || within(field, b) {
			return true
		}
		if field == parentPath(b) {
			return true
		}
	}
	return false
}

// within reports whether path p is below path parent.
func within(p, parent string) bool {
	return strings.HasPrefix(p, parent+".") || strings.HasPrefix(p, parent+"[")
}
