package traffic

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// A header route on an ingress-nginx canary Ingress is one set of
// annotations (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary):
//
//	nginx.ingress.kubernetes.io/canary-by-header: "X-Canary"
//	nginx.ingress.kubernetes.io/canary-by-header-value: "always"      # exact
//	nginx.ingress.kubernetes.io/canary-by-header-pattern: "^(?:a|b)$" # prefix, regex (PCRE)
//	birdwatch.dev/header-route: "dev"                                  # birdwatch's marker
//
// canary-by-cookie cannot serve: it only knows the values "always" and
// "never". A cookie condition is a pattern on the Cookie header instead:
// ingress-nginx's balancer (rootfs/etc/nginx/lua/balancer.lua,
// route_to_alternative_balancer) reads the header named by canary-by-header
// as ngx.var["http_" .. name], and lua-nginx-module lowercases variable
// names (ngx_http_lua_ffi_var_get), so "Cookie" reads $http_cookie, which
// nginx builds from every Cookie header joined by "; ". The pattern is
// matched with ngx.re.match, unanchored, so birdwatch anchors its patterns.
//
// Annotation validation (on by default since ingress-nginx v1.9,
// internal/ingress/annotations/canary/main.go) accepts in
// canary-by-header and canary-by-header-value only letters, digits and
// /-._~: (spaces too in the value), and in canary-by-header-pattern those
// and ^$[](){}*+?|&=\ : birdwatch writes an exact value outside that set as
// a pattern, and every other character of a literal as \xHH.
const (
	nginxByHeader        = "nginx.ingress.kubernetes.io/canary-by-header"
	nginxByHeaderValue   = "nginx.ingress.kubernetes.io/canary-by-header-value"
	nginxByHeaderPattern = "nginx.ingress.kubernetes.io/canary-by-header-pattern"
	nginxByCookie        = "nginx.ingress.kubernetes.io/canary-by-cookie"
	// nginxRouteMarker names birdwatch's header route; without it the
	// canary-by-header annotations are a person's and are never touched.
	nginxRouteMarker = "birdwatch.dev/header-route"
)

// nginxOwned are the annotations a birdwatch header route consists of, in
// the order SetRoutes adds them.
var nginxOwned = []string{nginxByHeader, nginxByHeaderValue, nginxByHeaderPattern, nginxRouteMarker}

// nginxBasic is ingress-nginx's parser.BasicCharsRegex.
var nginxBasic = regexp.MustCompile(`^[/\-._~a-zA-Z0-9:]*$`)

// Routes implements Router: the header route birdwatch's marker annotation
// names on the canary Ingress, if any. An ingress-nginx canary has no
// mirror. canary-by-header annotations without the marker are a person's
// and are not returned.
func (p *NGINX) Routes(doc []byte) (Routes, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Routes{}, fmt.Errorf("nginx: %w", err)
	}
	ing, err := p.locate(f)
	if err != nil {
		return Routes{}, err
	}
	have, err := ing.annotations(nginxOwned...)
	if err != nil {
		return Routes{}, err
	}
	name, marked := have[nginxRouteMarker]
	if !marked {
		return Routes{}, nil
	}
	header, ok := have[nginxByHeader]
	if !ok {
		return Routes{}, &PathError{Object: ing.object, Path: annotationPath(nginxRouteMarker), Msg: fmt.Sprintf(
			"names header route %q but there is no %s annotation; delete the marker or add the header", name, nginxByHeader), Err: ErrShape}
	}
	m := Match{On: OnHeader, Name: header, Op: Exact, Value: have[nginxByHeaderValue]}
	if _, ok := have[nginxByHeaderValue]; !ok {
		m = nginxReadPattern(header, have[nginxByHeaderPattern])
	}
	return Routes{Headers: []HeaderRoute{{Name: name, Match: []Match{m}}}}, nil
}

// nginxReadPattern reads canary-by-header-pattern back into a condition.
func nginxReadPattern(header, p string) Match {
	if strings.EqualFold(header, "cookie") {
		if m, ok := pcreAnnotation.parseCookie(p); ok {
			return m
		}
	}
	m := Match{On: OnHeader, Name: header, Op: Regex, Value: p}
	if inner, ok := strings.CutPrefix(p, "^(?:"); ok && strings.HasSuffix(inner, ")$") {
		m.Value = strings.TrimSuffix(inner, ")$")
		return m
	}
	if mid, ok := strings.CutPrefix(p, "^"); ok {
		if lit, ok := strings.CutSuffix(mid, "$"); ok {
			if v, ok := pcreAnnotation.unquote(lit); ok {
				m.Op, m.Value = Exact, v
				return m
			}
		}
		if v, ok := pcreAnnotation.unquote(mid); ok {
			m.Op, m.Value = Prefix, v
		}
	}
	return m
}

// SetRoutes implements Router: at most one header route with one header
// or cookie condition, as annotations on the canary Ingress (see the
// constants above); query parameters, more conditions or routes, and
// mirrors are ErrUnsupported. canary-by-header, -value, -pattern or
// canary-by-cookie annotations without birdwatch's marker are a person's:
// adding a route then fails with ErrConflict, and removing routes leaves
// them.
func (p *NGINX) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	if err := nginxSupports(r); err != nil {
		return nil, err
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	ing, err := p.locate(f)
	if err != nil {
		return nil, err
	}
	have, err := ing.annotations(append(slices.Clone(nginxOwned), nginxByCookie)...)
	if err != nil {
		return nil, err
	}
	_, marked := have[nginxRouteMarker]
	if !marked && len(r.Headers) > 0 {
		for _, k := range []string{nginxByHeader, nginxByHeaderValue, nginxByHeaderPattern, nginxByCookie} {
			if v, ok := have[k]; ok {
				return nil, &PathError{Object: ing.object, Path: annotationPath(k), Msg: fmt.Sprintf(
					"is %q, set without birdwatch's %s annotation; birdwatch will not overwrite it with header route %q",
					v, nginxRouteMarker, r.Headers[0].Name), Err: ErrConflict}
			}
		}
	}
	want := map[string]string{}
	if len(r.Headers) > 0 {
		want = nginxAnnotations(r.Headers[0])
	}
	// A changed route is rewritten whole, in nginxOwned order, so the
	// bytes do not depend on the routes set before.
	var edits []structEdit
	changed := !maps.Equal(ownedOf(have), want)
	if marked && changed {
		for _, k := range nginxOwned {
			if _, has := have[k]; has {
				edits = append(edits, structEdit{path: fmt.Sprintf("{%d}%s", ing.doc.Index, annotationPath(k))})
			}
		}
	}
	if changed {
		for _, k := range nginxOwned {
			if v, ok := want[k]; ok {
				edits = append(edits, structEdit{path: fmt.Sprintf("{%d}%s", ing.doc.Index, annotationPath(k)), value: annotationNode(v)})
			}
		}
	}
	out, err := applyStruct(doc, edits)
	if err != nil {
		return nil, fmt.Errorf("nginx: %s: header route: %w", ing.object, err)
	}
	return out, nil
}

// ownedOf returns the annotations of have that a birdwatch header route
// consists of.
func ownedOf(have map[string]string) map[string]string {
	owned := make(map[string]string, len(nginxOwned))
	for _, k := range nginxOwned {
		if v, ok := have[k]; ok {
			owned[k] = v
		}
	}
	return owned
}

// annotationNode is an annotation value, quoted as annotations usually
// are: in double quotes, or in single quotes when it holds a backslash
// (a pattern), which double quotes would have to double.
func annotationNode(v string) *yaml.Node {
	style := yaml.DoubleQuotedStyle
	if strings.Contains(v, `\`) {
		style = yaml.SingleQuotedStyle
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: v}
}

// annotations returns the annotations among keys that the Ingress has.
// Each must be a string.
func (ing *ingress) annotations(keys ...string) (map[string]string, error) {
	have := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := ing.annotation(k)
		switch {
		case errors.Is(err, ErrMissingWeight): // absent
		case err != nil:
			return nil, err
		default:
			have[k] = v
		}
	}
	return have, nil
}

// nginxAnnotations are the annotations of header route h (supported).
func nginxAnnotations(h HeaderRoute) map[string]string {
	m := h.Match[0]
	a := map[string]string{nginxRouteMarker: h.Name, nginxByHeader: m.Name}
	switch {
	case m.On == OnCookie:
		a[nginxByHeader] = "Cookie"
		a[nginxByHeaderPattern] = pcreAnnotation.cookieRegex(m.Name, m.Op, m.Value)
	case m.Op == Exact && nginxBasic.MatchString(strings.ReplaceAll(m.Value, " ", "")):
		a[nginxByHeaderValue] = m.Value
	case m.Op == Exact:
		a[nginxByHeaderPattern] = "^" + pcreAnnotation.quote(m.Value) + "$"
	case m.Op == Prefix:
		a[nginxByHeaderPattern] = "^" + pcreAnnotation.quote(m.Value)
	default:
		a[nginxByHeaderPattern] = "^(?:" + m.Value + ")$"
	}
	return a
}

// nginxSupports is Supports for nginx.
func nginxSupports(r Routes) error {
	if r.Mirror != nil {
		return fmt.Errorf("nginx cannot mirror traffic (mirror %s%%): ingress-nginx canary Ingresses have no percentage mirror: %w",
			formatPercent(r.Mirror.Percent), ErrUnsupported)
	}
	if len(r.Headers) == 0 {
		return nil
	}
	h := r.Headers[0]
	switch {
	case len(r.Headers) > 1:
		return fmt.Errorf("nginx holds one header route per canary Ingress (canary-by-header), not %d (%q, %q): %w",
			len(r.Headers), h.Name, r.Headers[1].Name, ErrUnsupported)
	case len(h.Match) != 1:
		return fmt.Errorf("nginx cannot AND %d conditions (header route %q): canary-by-header tests one header or cookie: %w",
			len(h.Match), h.Name, ErrUnsupported)
	case h.Match[0].On == OnQueryParam:
		return fmt.Errorf("nginx cannot route by query parameter (header route %q: %s): %w", h.Name, describe(h.Match[0]), ErrUnsupported)
	case h.Match[0].On == OnHeader && !nginxBasic.MatchString(h.Match[0].Name):
		return fmt.Errorf("nginx cannot route by header %q (header route %q): ingress-nginx's annotation validation accepts only letters, digits and /-._~: in canary-by-header: %w",
			h.Match[0].Name, h.Name, ErrUnsupported)
	}
	if bad := refusedChars(nginxAnnotations(h)[nginxByHeaderPattern]); bad != "" {
		return fmt.Errorf("nginx cannot route by %s (header route %q): ingress-nginx's annotation validation refuses %q in canary-by-header-pattern; write them as \\xHH: %w",
			describe(h.Match[0]), h.Name, bad, ErrUnsupported)
	}
	return nil
}

// refusedChars returns the characters of pattern p that ingress-nginx's
// annotation validation refuses, each once.
func refusedChars(p string) string {
	var bad []rune
	for _, c := range p {
		if !isAlnumRune(c) && !strings.ContainsRune(nginxPatternChars, c) && !slices.Contains(bad, c) {
			bad = append(bad, c)
		}
	}
	return string(bad)
}

func isAlnumRune(c rune) bool { return c < 0x80 && isAlnum(byte(c)) }
