package traffic

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validation of Routes and the regular expressions the providers write for
// conditions they cannot express directly (a cookie, a prefix where only
// exact and regex exist), with their inverses for reading routes back.

// maxRouteName bounds HeaderRoute.Name so that RoutePrefix+Name is a DNS
// label, which every provider accepts as a route or rule name.
const maxRouteName = 63 - len(RoutePrefix)

// routeNameRE is a DNS label (RFC 1123), as Gateway API's SectionName
// requires of rule names.
var routeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// tokenRE is an RFC 9110 token: what a header or cookie name may hold.
var tokenRE = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")

// Validate reports whether r is well formed, whatever the provider: every
// header route has a name (a DNS label of at most 53 characters) that no
// other route has and at least one condition; every condition reads a
// header, cookie (RFC 9110 token names) or query parameter with a
// non-empty value free of control characters, compared exactly, by prefix
// or by an RE2 expression that compiles; a mirror copies more than 0 and at
// most 100 percent. The error wraps ErrInvalidRoutes.
func (r Routes) Validate() error {
	seen := make(map[string]bool, len(r.Headers))
	for _, h := range r.Headers {
		if err := h.validate(); err != nil {
			return fmt.Errorf("header route %q: %w: %w", h.Name, err, ErrInvalidRoutes)
		}
		if seen[h.Name] {
			return fmt.Errorf("header route %q: two routes have this name: %w", h.Name, ErrInvalidRoutes)
		}
		seen[h.Name] = true
	}
	if m := r.Mirror; m != nil && !(m.Percent > 0 && m.Percent <= 100) {
		return fmt.Errorf("mirror %q: percentage %s outside (0, 100]: %w", m.Name, formatPercent(m.Percent), ErrInvalidRoutes)
	}
	return nil
}

func (h HeaderRoute) validate() error {
	switch {
	case h.Name == "":
		return fmt.Errorf("no name")
	case len(h.Name) > maxRouteName || !routeNameRE.MatchString(h.Name):
		return fmt.Errorf("name: want lowercase letters, digits and '-' (at most %d, starting and ending with a letter or digit)", maxRouteName)
	case len(h.Match) == 0:
		return fmt.Errorf("no condition: a route without one would take every request")
	}
	for i, m := range h.Match {
		if err := m.validate(); err != nil {
			return fmt.Errorf("condition %d (%s): %w", i, describe(m), err)
		}
	}
	return nil
}

func (m Match) validate() error {
	switch m.On {
	case OnHeader, OnCookie:
		if !tokenRE.MatchString(m.Name) {
			return fmt.Errorf("name %q is not an HTTP token", m.Name)
		}
	case OnQueryParam:
		if m.Name == "" || hasControl(m.Name) || strings.ContainsAny(m.Name, "&=# ") {
			return fmt.Errorf("query parameter name %q: want printable characters other than '&', '=', '#' and space", m.Name)
		}
	default:
		return fmt.Errorf("reads %q: want %s, %s or %s", m.On, OnHeader, OnCookie, OnQueryParam)
	}
	switch {
	case m.Value == "":
		return fmt.Errorf("empty value")
	case !utf8.ValidString(m.Value) || hasControl(m.Value):
		return fmt.Errorf("value holds control characters or invalid UTF-8")
	}
	switch m.Op {
	case Exact, Prefix:
	case Regex:
		if _, err := regexp.Compile(m.Value); err != nil {
			return fmt.Errorf("regex: %w", err)
		}
	default:
		return fmt.Errorf("compares by %q: want %s, %s or %s", m.Op, Exact, Prefix, Regex)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// describe names a condition in messages: `cookie user exact "developer"`.
func describe(m Match) string {
	return fmt.Sprintf("%s %s %s %q", m.On, m.Name, m.Op, m.Value)
}

// formatPercent writes a percentage without trailing zeros: 20, 0.5.
func formatPercent(p float64) string {
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return fmt.Sprint(p)
	}
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// dialect is a regular-expression syntax a provider writes literals in.
type dialect int

const (
	// re2 is RE2 (Istio, Gateway API implementations): literals are
	// escaped with regexp.QuoteMeta.
	re2 dialect = iota
	// pcreAnnotation is PCRE restricted to the characters ingress-nginx's
	// annotation validation accepts in canary-by-header-pattern
	// (parser.IsValidRegex: letters, digits and /-._~:^$[](){}*+?|&=\);
	// every other byte of a literal is written \xHH, which PCRE reads
	// byte-wise as ngx.re.match does without the "u" option.
	pcreAnnotation
)

// nginxPatternChars are the characters ingress-nginx (internal/ingress/
// annotations/parser/validators.go, IsValidRegex) accepts in a regex
// annotation when annotation validation is on, its default since v1.9.
const nginxPatternChars = `/-._~:^$[](){}*+?|&=\`

// re2Meta are the characters regexp.QuoteMeta escapes.
const re2Meta = `\.+*?()|[]{}^$`

// quote returns a pattern matching exactly s.
func (d dialect) quote(s string) string {
	if d == re2 {
		return regexp.QuoteMeta(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-_~/:=&", c) >= 0:
			b.WriteByte(c)
		case strings.IndexByte(re2Meta, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}

// unquote inverts quote: the literal a pattern written by quote matches,
// and false for any other pattern.
func (d dialect) unquote(p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && d == pcreAnnotation && i+4 <= len(p) && p[i+1] == 'x':
			n, err := strconv.ParseUint(p[i+2:i+4], 16, 8)
			if err != nil {
				return "", false
			}
			b.WriteByte(byte(n))
			i += 3
		case c == '\\' && i+1 < len(p):
			b.WriteByte(p[i+1])
			i++
		case strings.IndexByte(re2Meta, c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	return s, d.quote(s) == p
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// semicolon is ";" in d: the ingress-nginx validator refuses the character.
func (d dialect) semicolon() string {
	if d == pcreAnnotation {
		return `\x3b`
	}
	return ";"
}

// cookieRegex is a pattern for the whole Cookie header that holds when
// the cookie name has a value that op accepts, wherever the cookie stands
// among the others: ^(.*?;\s*)?user=developer(;.*)?$ (the shape of Istio's
// own cookie example). A prefix is the quoted value and ".*"; a regex is
// grouped, (?:v).
func (d dialect) cookieRegex(name string, op MatchOp, value string) string {
	var v string
	switch op {
	case Prefix:
		v = d.quote(value) + ".*"
	case Regex:
		v = "(?:" + value + ")"
	default:
		v = d.quote(value)
	}
	semi := d.semicolon()
	return `^(.*?` + semi + `\s*)?` + d.quote(name) + "=" + v + "(" + semi + ".*)?$"
}

// parseCookie inverts cookieRegex, or returns false for a pattern that
// cookieRegex does not write.
func (d dialect) parseCookie(p string) (Match, bool) {
	semi := d.semicolon()
	mid, ok := strings.CutPrefix(p, `^(.*?`+semi+`\s*)?`)
	if !ok {
		return Match{}, false
	}
	if mid, ok = strings.CutSuffix(mid, "("+semi+".*)?$"); !ok {
		return Match{}, false
	}
	quoted, rest, ok := strings.Cut(mid, "=")
	if !ok {
		return Match{}, false
	}
	name, ok := d.unquote(quoted)
	if !ok || !tokenRE.MatchString(name) {
		return Match{}, false
	}
	m := Match{On: OnCookie, Name: name}
	if inner, ok := strings.CutPrefix(rest, "(?:"); ok && strings.HasSuffix(inner, ")") {
		m.Op, m.Value = Regex, strings.TrimSuffix(inner, ")")
		return m, d.cookieRegex(name, Regex, m.Value) == p
	}
	if v, ok := d.unquote(rest); ok {
		m.Op, m.Value = Exact, v
		return m, true
	}
	if lit, ok := strings.CutSuffix(rest, ".*"); ok {
		if v, ok := d.unquote(lit); ok {
			m.Op, m.Value = Prefix, v
			return m, true
		}
	}
	return Match{}, false
}

// prefixRegex is an RE2 pattern for values starting with v: ^v.* holds
// both where a regex must match the whole value (Envoy) and where a match
// anywhere suffices.
func prefixRegex(v string) string { return "^" + regexp.QuoteMeta(v) + ".*" }

// parseRegex reads a regex a provider wrote back as a Prefix when it is
// prefixRegex's form and as a Regex otherwise.
func parseRegex(p string) (MatchOp, string) {
	if mid, ok := strings.CutPrefix(p, "^"); ok {
		if lit, ok := strings.CutSuffix(mid, ".*"); ok {
			if v, ok := re2.unquote(lit); ok {
				return Prefix, v
			}
		}
	}
	return Regex, p
}

// conditionsOnce fails if two conditions of h read the same header
// (case-insensitively; a cookie reads the header Cookie) or query
// parameter, which providers that key conditions by name cannot AND.
func conditionsOnce(kind string, h HeaderRoute) error {
	seen := make(map[string]Match, len(h.Match))
	for _, m := range h.Match {
		key := "header " + strings.ToLower(m.Name)
		switch m.On {
		case OnCookie:
			key = "header cookie"
		case OnQueryParam:
			key = "query parameter " + m.Name
		}
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("%s cannot test the %s twice in one route (header route %q: %s and %s); join them in one regex: %w",
				kind, key, h.Name, describe(prev), describe(m), ErrUnsupported)
		}
		seen[key] = m
	}
	return nil
}
