package yamledit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const strTag = "!!str"

// render returns the YAML source text for value in place of scalar old.
// tagged means old has an explicit tag, which stays and fixes the type;
// inFlow means the scalar sits in a flow collection, where ",[]{}" end a
// plain scalar.
func render(value string, old *yaml.Node, tagged, inFlow bool) (string, error) {
	if !utf8.ValidString(value) {
		return "", fmt.Errorf("value is not valid UTF-8: %w", ErrInvalidValue)
	}
	switch old.Style &^ (yaml.TaggedStyle | yaml.FlowStyle) {
	case yaml.DoubleQuotedStyle:
		return doubleQuote(value), nil
	case yaml.SingleQuotedStyle:
		if singleQuotable(value) {
			return "'" + strings.ReplaceAll(value, "'", "''") + "'", nil
		}
		return doubleQuote(value), nil
	}
	tag, ok := plainTag(value, inFlow)
	switch {
	case !ok:
		return doubleQuote(value), nil
	case tagged || old.Tag != strTag:
		// The tag decides the type, or the old value was not a string
		// (a weight, a flag): the caller's literal is meant as written.
		return value, nil
	case tag == strTag && !yaml11NonString(value):
		return value, nil
	default:
		return doubleQuote(value), nil
	}
}

// plainTag reports whether value can be written as a plain scalar that reads
// back as exactly value, and the tag YAML 1.2 then resolves it to. It asks
// the YAML parser itself rather than re-implementing the plain-scalar rules.
func plainTag(value string, inFlow bool) (string, bool) {
	if value == "" || strings.TrimSpace(value) != value || strings.ContainsAny(value, "\r\n") {
		return "", false
	}
	if inFlow && strings.ContainsAny(value, ",[]{}") {
		return "", false
	}
	if strings.IndexByte("&*!|>'\"%@`#", value[0]) >= 0 {
		return "", false
	}
	docs, err := Documents([]byte(value))
	if err != nil || len(docs) != 1 || docs[0].Root == nil {
		return "", false
	}
	n := docs[0].Root
	if n.Kind != yaml.ScalarNode || n.Style != 0 || n.Anchor != "" || n.Value != value {
		return "", false
	}
	return n.Tag, true
}

// doubleQuote writes value as a YAML double-quoted scalar. Go's strconv.Quote
// escapes are a subset of YAML's (YAML 1.2 section 5.7: \a \b \t \n \v \f \r
// \" \\ \xXX \uXXXX \UXXXXXXXX), and for valid UTF-8 input \xXX is only used
// below U+0080, where YAML's code-point meaning equals Go's byte meaning.
func doubleQuote(value string) string {
	return strconv.Quote(value)
}

// singleQuotable reports whether value fits a single-quoted scalar on one
// line: YAML printable characters only, no line breaks.
func singleQuotable(value string) bool {
	for _, r := range value {
		switch {
		case r == '\t', r >= 0x20 && r <= 0x7E:
		case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

// YAML 1.1 (https://yaml.org/type/) reads more plain scalars as non-strings
// than YAML 1.2 does; Kubernetes tooling (sigs.k8s.io/yaml, PyYAML, many
// linters) still uses 1.1, so a string that 1.1 would read otherwise must be
// quoted. The regular expressions are the ones published for the 1.1 types.
var (
	yaml11Int   = regexp.MustCompile(`^[-+]?(0b[01_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$`)
	yaml11Float = regexp.MustCompile(`^([-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
)

// yaml11NonString reports whether YAML 1.1 resolves the plain scalar s to a
// bool, null, int, float or another non-string type.
func yaml11NonString(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF",
		"~", "null", "Null", "NULL", "=", "<<":
		return true
	}
	return yaml11Int.MatchString(s) || yaml11Float.MatchString(s)
}
