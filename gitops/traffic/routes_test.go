package traffic

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestRoutesValidate(t *testing.T) {
	hr := func(name string, ms ...Match) Routes { return Routes{Headers: []HeaderRoute{{Name: name, Match: ms}}} }
	tests := []struct {
		name   string
		routes Routes
		msg    string // "" when valid
	}{
		{name: "zero", routes: Routes{}},
		{name: "cookie, header and query", routes: Routes{Headers: []HeaderRoute{devRoute, qaRoute, testers}, Mirror: mirror(0.5)}},
		{name: "mirror of everything", routes: Routes{Mirror: mirror(100)}},
		{name: "no name", routes: hr("", cookieDev), msg: `header route "": no name`},
		{name: "upper-case name", routes: hr("Dev", cookieDev), msg: `header route "Dev": name: want lowercase letters`},
		{name: "name too long for a DNS label", routes: hr(strings.Repeat("a", 54), cookieDev), msg: "at most 53"},
		{name: "two routes, one name", routes: Routes{Headers: []HeaderRoute{devRoute, devRoute}}, msg: `header route "dev": two routes have this name`},
		{name: "no condition", routes: hr("dev"), msg: "no condition: a route without one would take every request"},
		{name: "unknown part of the request", routes: hr("dev", Match{On: "body", Name: "x", Op: Exact, Value: "y"}), msg: `reads "body"`},
		{name: "unknown comparison", routes: hr("dev", Match{On: OnHeader, Name: "x", Op: "suffix", Value: "y"}), msg: `compares by "suffix"`},
		{name: "empty value", routes: hr("dev", Match{On: OnHeader, Name: "x", Op: Exact}), msg: "empty value"},
		{name: "control character", routes: hr("dev", Match{On: OnHeader, Name: "x", Op: Exact, Value: "a\nb"}), msg: "control characters"},
		{name: "header name with a space", routes: hr("dev", Match{On: OnHeader, Name: "x canary", Op: Exact, Value: "y"}), msg: `name "x canary" is not an HTTP token`},
		{name: "cookie name with '='", routes: hr("dev", Match{On: OnCookie, Name: "user=x", Op: Exact, Value: "y"}), msg: "not an HTTP token"},
		{name: "query name with '&'", routes: hr("dev", Match{On: OnQueryParam, Name: "a&b", Op: Exact, Value: "y"}), msg: `query parameter name "a&b"`},
		{name: "regex that does not compile", routes: hr("dev", Match{On: OnHeader, Name: "x", Op: Regex, Value: "(a"}), msg: "regex: error parsing regexp"},
		{name: "mirror of nothing", routes: Routes{Mirror: mirror(0)}, msg: `mirror "shadow": percentage 0 outside (0, 100]`},
		{name: "mirror above 100", routes: Routes{Mirror: mirror(100.5)}, msg: "percentage 100.5 outside"},
		{name: "mirror NaN", routes: Routes{Mirror: mirror(math.NaN())}, msg: "percentage NaN outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.routes.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRoutes) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Validate = %v; want ErrInvalidRoutes with %q", err, tt.msg)
			}
		})
	}
}

func TestSupports(t *testing.T) {
	hr := func(ms ...Match) Routes { return Routes{Headers: []HeaderRoute{{Name: "dev", Match: ms}}} }
	header := func(name string, op MatchOp, v string) Match {
		return Match{On: OnHeader, Name: name, Op: op, Value: v}
	}
	tests := []struct {
		name   string
		kind   string
		routes Routes
		err    error  // nil: supported
		msg    string // substring of the message
	}{
		{name: "no routes anywhere", kind: "smi"},
		{name: "no routes, unknown provider", kind: "linkerd"},
		{name: "smi header route", kind: "smi", routes: Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported,
			msg: `smi sets traffic weights only: it cannot route requests by header, cookie or query parameter (header route "dev")`},
		{name: "yamlpath mirror", kind: "yamlpath", routes: Routes{Mirror: mirror(20)}, err: ErrUnsupported,
			msg: "yamlpath sets traffic weights only: it cannot mirror traffic to the canary (mirror 20%)"},
		{name: "smi both", kind: "smi", routes: Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(0.5)}, err: ErrUnsupported,
			msg: "nor mirror traffic to the canary (mirror 0.5%)"},
		{name: "unknown provider", kind: "linkerd", routes: Routes{Mirror: mirror(20)}, err: ErrUnknownProvider, msg: `"linkerd"`},

		{name: "istio everything", kind: "istio", routes: Routes{Headers: []HeaderRoute{devRoute, qaRoute, testers}, Mirror: mirror(33.3)}},
		{name: "istio two cookies", kind: "istio", routes: hr(cookieDev, Match{On: OnCookie, Name: "team", Op: Exact, Value: "qa"}), err: ErrUnsupported,
			msg: `istio cannot test the header cookie twice in one route (header route "dev": cookie user exact "developer" and cookie team exact "qa")`},
		{name: "istio cookie and Cookie header", kind: "istio", routes: hr(cookieDev, header("Cookie", Regex, ".*")), err: ErrUnsupported, msg: "header cookie twice"},
		{name: "istio header in two cases", kind: "istio", routes: hr(header("X-A", Exact, "1"), header("x-a", Prefix, "2")), err: ErrUnsupported, msg: "header x-a twice"},
		{name: "istio query twice", kind: "istio", routes: hr(queryBeta, queryBeta), err: ErrUnsupported, msg: "query parameter variant twice"},

		{name: "gatewayapi everything", kind: "gatewayapi", routes: Routes{Headers: []HeaderRoute{devRoute, gatewayQA}, Mirror: mirror(12.5)}},
		{name: "gatewayapi routes ranked by condition counts", kind: "gatewayapi", routes: Routes{Headers: []HeaderRoute{devRoute, qaRoute}},
			err: ErrUnsupported, msg: `header routes "dev" and "qa" have different numbers of header or query conditions`},
		{name: "gatewayapi seven decimals", kind: "gatewayapi", routes: Routes{Mirror: mirror(0.0000001)}},
		{name: "gatewayapi eight decimals", kind: "gatewayapi", routes: Routes{Mirror: mirror(33.33333333)}, err: ErrUnsupported,
			msg: "mirror percentage 33.33333333 has more than 7 decimals"},
		{name: "gatewayapi two cookies", kind: "gatewayapi", routes: hr(cookieDev, cookieDev), err: ErrUnsupported, msg: "gatewayapi cannot test the header cookie twice"},

		{name: "nginx cookie", kind: "nginx", routes: Routes{Headers: []HeaderRoute{devRoute}}},
		{name: "nginx header prefix", kind: "nginx", routes: hr(header("X-Canary", Prefix, "b e;t@"))},
		{name: "nginx mirror", kind: "nginx", routes: Routes{Mirror: mirror(20)}, err: ErrUnsupported,
			msg: "nginx cannot mirror traffic (mirror 20%): ingress-nginx canary Ingresses have no percentage mirror"},
		{name: "nginx two routes", kind: "nginx", routes: Routes{Headers: []HeaderRoute{devRoute, testers}}, err: ErrUnsupported,
			msg: `nginx holds one header route per canary Ingress (canary-by-header), not 2 ("dev", "testers")`},
		{name: "nginx two conditions", kind: "nginx", routes: hr(cookieDev, headerQA), err: ErrUnsupported, msg: `nginx cannot AND 2 conditions (header route "dev")`},
		{name: "nginx query", kind: "nginx", routes: hr(queryBeta), err: ErrUnsupported,
			msg: `nginx cannot route by query parameter (header route "dev": queryParam variant prefix "b")`},
		{name: "nginx header name the validator refuses", kind: "nginx", routes: hr(header("X!Canary", Exact, "1")), err: ErrUnsupported,
			msg: `nginx cannot route by header "X!Canary"`},
		{name: "nginx regex the validator refuses", kind: "nginx", routes: hr(header("X-Canary", Regex, "a{1,2} b")), err: ErrUnsupported,
			msg: `ingress-nginx's annotation validation refuses ", " in canary-by-header-pattern; write them as \xHH`},
		{name: "alb header and query routes", kind: "alb", routes: Routes{Headers: []HeaderRoute{qaRoute, {Name: "beta", Match: []Match{queryBeta}}}}},
		{name: "alb mirror", kind: "alb", routes: Routes{Mirror: mirror(20)}, err: ErrUnsupported, msg: "alb cannot mirror traffic (mirror 20%)"},
		{name: "alb cookie", kind: "alb", routes: Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported,
			msg: `alb cannot route by cookie (header route "dev": cookie user exact "developer")`},
		{name: "alb regex", kind: "alb", routes: Routes{Headers: []HeaderRoute{testers}}, err: ErrUnsupported, msg: `alb cannot match a regex (header route "testers"`},
		{name: "alb wildcard in a value", kind: "alb", routes: hr(header("X-Canary", Exact, "a*b")), err: ErrUnsupported, msg: "alb cannot match the characters * and ? literally"},
		{name: "alb four conditions", kind: "alb", routes: hr(header("A", Exact, "1"), header("B", Exact, "1"), header("C", Exact, "1"), header("D", Exact, "1")),
			err: ErrUnsupported, msg: "alb cannot AND 4 conditions"},
		{name: "alb long header name", kind: "alb", routes: hr(header(strings.Repeat("x", 41), Exact, "1")), err: ErrUnsupported, msg: "limit for a header name is 40"},
		{name: "alb same header twice", kind: "alb", routes: hr(header("X-A", Exact, "1"), header("x-a", Prefix, "2")), err: ErrUnsupported, msg: "alb cannot test the header x-a twice"},
		{name: "traefik mirror", kind: "traefik", routes: Routes{Mirror: mirror(20)}},
		{name: "traefik fractional mirror", kind: "traefik", routes: Routes{Mirror: mirror(0.5)}, err: ErrUnsupported, msg: "traefik cannot mirror 0.5%: a mirror's percent is an integer"},
		{name: "traefik header route", kind: "traefik", routes: Routes{Headers: []HeaderRoute{devRoute}}, err: ErrUnsupported,
			msg: `traefik sets weights and mirrors only: it cannot route requests by header, cookie or query parameter (header route "dev")`},
		{name: "contour mirror", kind: "contour", routes: Routes{Mirror: mirror(100)}},
		{name: "contour fractional mirror", kind: "contour", routes: Routes{Mirror: mirror(12.5)}, err: ErrUnsupported, msg: "contour cannot mirror 12.5%"},
		{name: "contour header route", kind: "contour", routes: Routes{Headers: []HeaderRoute{devRoute}, Mirror: mirror(5)}, err: ErrUnsupported, msg: "contour sets weights and mirrors only"},
		{name: "apisix mirror", kind: "apisix", routes: Routes{Mirror: mirror(5)}, err: ErrUnsupported, msg: "apisix sets traffic weights only"},

		{name: "nginx cookie regex the validator refuses", kind: "nginx", routes: hr(Match{On: OnCookie, Name: "user", Op: Regex, Value: "dev;.*"}), err: ErrUnsupported, msg: `refuses ";"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Supports(tt.kind, tt.routes)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Supports: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Supports = %v; want %v with %q", err, tt.err, tt.msg)
			}
		})
	}
}

// TestRoutersAreProviders checks which built-in providers route.
func TestRoutersAreProviders(t *testing.T) {
	cfgs := map[string]Config{
		"istio": istioAleph, "gatewayapi": aleph, "nginx": nginxAleph, "smi": {StableService: "a", CanaryService: "b"},
		"yamlpath": {CanaryWeightPath: "w"}, "alb": {Route: "split", StableService: "a", CanaryService: "b"},
		"traefik": {StableService: "a", CanaryService: "b"}, "contour": {StableService: "a", CanaryService: "b"},
		"apisix": {StableService: "a", CanaryService: "b"}, "replicas": {StableDeployment: "a", CanaryDeployment: "b"},
		"service": {ActiveService: "a", StableVersion: "v1", CanaryVersion: "v2"},
	}
	want := map[string]bool{"istio": true, "gatewayapi": true, "nginx": true, "alb": true, "traefik": true, "contour": true}
	for kind := range Providers() {
		t.Run(kind, func(t *testing.T) {
			cfg := cfgs[kind]
			cfg.Provider = kind
			p, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, ok := p.(Router); ok != want[kind] {
				t.Fatalf("%s is a Router: %v, want %v", kind, ok, want[kind])
			}
		})
	}
}

// TestCookieRegex runs the cookie patterns each dialect writes against
// Cookie headers, with Go's RE2 (whose syntax the PCRE patterns share for
// ASCII), and reads each pattern back.
func TestCookieRegex(t *testing.T) {
	tests := []struct {
		name    string
		m       Match
		matches []string
		misses  []string
	}{
		{name: "exact", m: cookieDev,
			matches: []string{"user=developer", "a=b; user=developer", "a=b;user=developer; c=d", "user=developer;"},
			misses:  []string{"user=developers", "xuser=developer", "a=user=developer", "user=dev", "", "user=developer x"}},
		{name: "exact with regex characters", m: Match{On: OnCookie, Name: "v", Op: Exact, Value: "1.0+(beta)"},
			matches: []string{"v=1.0+(beta)", "z=1; v=1.0+(beta)"}, misses: []string{"v=1x0+(beta)", "v=1.0(beta)"}},
		{name: "prefix", m: Match{On: OnCookie, Name: "user", Op: Prefix, Value: "dev"},
			matches: []string{"user=dev", "user=developer", "a=1; user=devops; b=2"}, misses: []string{"user=de", "user=xdev"}},
		{name: "regex", m: Match{On: OnCookie, Name: "user", Op: Regex, Value: "alice|bob"},
			matches: []string{"user=alice", "a=1; user=bob"}, misses: []string{"user=carol", "user=alicex", "a=bob"}},
	}
	for _, tt := range tests {
		for _, d := range []dialect{re2, pcreAnnotation} {
			t.Run(tt.name, func(t *testing.T) {
				p := d.cookieRegex(tt.m.Name, tt.m.Op, tt.m.Value)
				re := regexp.MustCompile(p)
				for _, c := range tt.matches {
					if !re.MatchString(c) {
						t.Errorf("%s does not match Cookie %q", p, c)
					}
				}
				for _, c := range tt.misses {
					if re.MatchString(c) {
						t.Errorf("%s matches Cookie %q", p, c)
					}
				}
				if got, ok := d.parseCookie(p); !ok || got != tt.m {
					t.Errorf("parseCookie(%s) = %+v, %v; want %+v", p, got, ok, tt.m)
				}
				if bad := refusedChars(p); d == pcreAnnotation && bad != "" {
					t.Errorf("%s holds %q, which ingress-nginx's validation refuses", p, bad)
				}
			})
		}
	}
}

func TestDialectQuote(t *testing.T) {
	for _, s := range []string{"developer", "1.0+(beta)", `a\b`, "a b;c,d@e", "x$^|[]{}?*", "é", "\\x41", "-_~/:=&"} {
		for _, d := range []dialect{re2, pcreAnnotation} {
			q := d.quote(s)
			if got, ok := d.unquote(q); !ok || got != s {
				t.Errorf("dialect %d: unquote(quote(%q) = %q) = %q, %v", d, s, q, got, ok)
			}
			if d == pcreAnnotation && refusedChars(q) != "" {
				t.Errorf("quote(%q) = %q holds refused characters %q", s, q, refusedChars(q))
			}
			if s == "é" {
				continue // \xHH is a byte in PCRE, a rune in RE2
			}
			if !regexp.MustCompile("^" + q + "$").MatchString(s) {
				t.Errorf("dialect %d: %q does not match %q", d, q, s)
			}
		}
	}
	for _, p := range []string{"a.b", "a*", `a\`, "(x)"} {
		if _, ok := re2.unquote(p); ok {
			t.Errorf("re2.unquote(%q) reads a pattern with operators as a literal", p)
		}
	}
}

func TestPrefixRegex(t *testing.T) {
	re := regexp.MustCompile(prefixRegex("b.1"))
	for s, want := range map[string]bool{"b.1": true, "b.12": true, "bx1": false, "ab.1": false} {
		if re.MatchString(s) != want {
			t.Errorf("%s matching %q: want %v", re, s, want)
		}
	}
	for _, tt := range []struct {
		p  string
		op MatchOp
		v  string
	}{{"^b\\.1.*", Prefix, "b.1"}, {"^b.*x", Regex, "^b.*x"}, {"b.*", Regex, "b.*"}, {"^(a|b).*", Regex, "^(a|b).*"}} {
		if op, v := parseRegex(tt.p); op != tt.op || v != tt.v {
			t.Errorf("parseRegex(%q) = %s %q; want %s %q", tt.p, op, v, tt.op, tt.v)
		}
	}
}

// routeErrorCase is one bad manifest or route set for a Router: SetRoutes
// (routes set) or Routes (routes nil) must fail with err and msg.
type routeErrorCase struct {
	name   string
	doc    string
	cfg    Config // merged over the test's defaults
	routes *Routes
	err    error
	msg    string
}

func checkRouteErrors(t *testing.T, kind string, defaults Config, cases []routeErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := overlay(defaults, tt.cfg)
			cfg.Provider = kind
			p, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			router := p.(Router)
			if tt.routes == nil {
				_, err = router.Routes([]byte(tt.doc))
			} else {
				var out []byte
				if out, err = router.SetRoutes([]byte(tt.doc), *tt.routes); out != nil {
					t.Errorf("output returned with error %v", err)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("error = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}
