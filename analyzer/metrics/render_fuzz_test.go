package metrics

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRender renders hostile values into equality, regex and argument
// matchers and checks that the query's structure is unchanged: each value
// stays one string literal that Go's (and so PromQL's) unquoting turns back
// into the value, regexp-quoted in the regex matcher.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"v04", `v1"} or vector(1) #`, `\`, `\"`, "a\nb", "\x00", "\xff", "", "`", "'", "{{ .Version }}",
		"}[5m])) or vector(1", `v.*|x`, "\u2028", "\\x41", "${1}",
	} {
		f.Add(s, s, int64(90*time.Second))
	}
	const query = `sum(x{a="{{ .Version }}", b=~"{{ .Version }}", c="{{ .Args.k }}"}[{{ .Window }}])`
	f.Fuzz(func(t *testing.T, version, arg string, window int64) {
		v := Vars{Version: version, Window: time.Duration(window), Args: map[string]string{"k": arg}}
		got, err := Render(query, v)
		valid := func(s string) bool { return s != "" && utf8.ValidString(s) }
		if !valid(version) || !valid(arg) || window <= 0 {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("Render(%q, %q, %d) error = %v, want ErrInvalidValue", version, arg, window, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Render(%q, %q, %d) error = %v", version, arg, window, err)
		}
		rest := expectPrefix(t, got, `sum(x{a=`)
		a, rest := readLiteral(t, rest)
		rest = expectPrefix(t, rest, `, b=~`)
		b, rest := readLiteral(t, rest)
		rest = expectPrefix(t, rest, `, c=`)
		c, rest := readLiteral(t, rest)
		rest = expectPrefix(t, rest, `}[`)
		dur, _ := PromDuration(time.Duration(window))
		expectPrefix(t, rest, dur+`])`)
		if rest != dur+`])` {
			t.Fatalf("trailing text changed: %q", rest)
		}
		if a != version || c != arg {
			t.Fatalf("round trip: got %q, %q; want %q, %q", a, c, version, arg)
		}
		if b != regexp.QuoteMeta(version) {
			t.Fatalf("regex literal %q, want %q", b, regexp.QuoteMeta(version))
		}
		// Prometheus anchors label regexes: the quoted form must match the
		// value itself and nothing else built from it.
		re := regexp.MustCompile("^(?:" + b + ")$")
		if !re.MatchString(version) || re.MatchString(version+"x") {
			t.Fatalf("regex %q does not match exactly %q", b, version)
		}
	})
}

func expectPrefix(t *testing.T, s, prefix string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		t.Fatalf("%q does not start with %q", s, prefix)
	}
	return rest
}

// readLiteral reads one double-quoted string literal from the start of s,
// ending at the first unescaped quote, and returns its unquoted value.
func readLiteral(t *testing.T, s string) (string, string) {
	t.Helper()
	if !strings.HasPrefix(s, `"`) {
		t.Fatalf("%q does not start with a string literal", s)
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\n':
			t.Fatalf("raw newline inside literal in %q", s)
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				t.Fatalf("literal %s does not unquote: %v", s[:i+1], err)
			}
			return v, s[i+1:]
		}
	}
	t.Fatalf("unterminated literal in %q", s)
	return "", ""
}
