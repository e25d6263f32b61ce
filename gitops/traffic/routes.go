package traffic

import (
	"errors"
	"fmt"
	"strings"
)

// RoutePrefix begins the name of every route birdwatch adds to a manifest.
// A provider only edits or removes routes whose name has this prefix, so
// routes written by people are never touched.
const RoutePrefix = "birdwatch-"

// MatchOp says how a Match compares a value.
type MatchOp string

// Match operators.
const (
	Exact  MatchOp = "exact"
	Prefix MatchOp = "prefix"
	Regex  MatchOp = "regex" // RE2, matched against the whole value
)

// MatchOn says which part of the request a Match reads.
type MatchOn string

// What a Match reads.
const (
	OnHeader     MatchOn = "header"
	OnCookie     MatchOn = "cookie" // the value of one cookie of the Cookie header
	OnQueryParam MatchOn = "queryParam"
)

// Match is one request condition, e.g. {OnCookie, "user", Exact, "developer"}.
type Match struct {
	On    MatchOn
	Name  string
	Op    MatchOp
	Value string
}

// HeaderRoute sends every request that meets all of Match to the canary,
// before the managed route's weights apply. Its manifest name is
// RoutePrefix + Name.
type HeaderRoute struct {
	Name  string
	Match []Match
}

// Mirror copies Percent percent (0 < Percent <= 100) of the managed route's
// requests to the canary; the copies' responses are dropped. Manifests have
// no place for Name: Router.Routes returns it empty.
type Mirror struct {
	Name    string
	Percent float64
}

// Routes is the full set of routes birdwatch wants in a manifest, beside
// the managed route's weights: header routes in order (first match wins)
// and at most one mirror. The zero value is "none".
type Routes struct {
	Headers []HeaderRoute
	Mirror  *Mirror
}

// Router is a Provider that can also route matched requests to the canary
// and mirror traffic to it. SetRoutes reconciles: birdwatch routes in doc
// that r does not list are removed, the ones it lists are added or
// rewritten, and nothing else changes. It is idempotent, its result does
// not depend on the routes doc held before, and SetRoutes(doc, Routes{})
// on a file birdwatch only added routes to gives the file back byte for
// byte. Weights and SetWeights work the same with or without routes: a
// route named RoutePrefix* is never the managed route.
type Router interface {
	Provider
	// Routes returns the birdwatch routes found in doc, in the form
	// SetRoutes writes them (e.g. a query regex ^b.* comes back as the
	// prefix b), so SetRoutes(doc, Routes(doc)) changes nothing.
	Routes(doc []byte) (Routes, error)
	// SetRoutes returns a copy of doc holding exactly the birdwatch routes
	// r. r is validated (ErrInvalidRoutes) and checked against the
	// provider (ErrUnsupported, see Supports); routes or annotations that
	// someone else wrote where birdwatch's would go wrap ErrConflict.
	SetRoutes(doc []byte, r Routes) ([]byte, error)
}

// ErrUnsupported is wrapped by errors for a route or strategy a provider
// cannot express (e.g. a header route with SMI, a mirror with NGINX).
var ErrUnsupported = errors.New("not supported by the traffic provider")

// Supports reports, without a manifest, whether provider kind can hold r:
// nil, or an error wrapping ErrUnsupported that names the provider and what
// it cannot do. The providers that set weights only (smi, yamlpath,
// apisix, replicas, service) support only the zero Routes; an unknown kind is an error wrapping
// ErrUnknownProvider. Supports does not validate r: see Routes.Validate.
func Supports(kind string, r Routes) error {
	if len(r.Headers) == 0 && r.Mirror == nil {
		return nil
	}
	switch kind {
	case "istio":
		return istioSupports(r)
	case "gatewayapi":
		return gatewaySupports(r)
	case "nginx":
		return nginxSupports(r)
	case "alb":
		return albSupports(r)
	case "traefik":
		return traefikSupports(r)
	case "contour":
		return contourSupports(r)
	case "smi", "yamlpath", "apisix", "replicas", "service":
		return weightsOnly(kind, r)
	default:
		return fmt.Errorf("traffic provider %q: %w", kind, ErrUnknownProvider)
	}
}

// weightsOnly is Supports for the providers that cannot route: it names
// what r asks for that they cannot do.
func weightsOnly(kind string, r Routes) error {
	var cannot []string
	if len(r.Headers) > 0 {
		cannot = append(cannot, fmt.Sprintf("route requests by header, cookie or query parameter (header route %q)", r.Headers[0].Name))
	}
	if r.Mirror != nil {
		cannot = append(cannot, fmt.Sprintf("mirror traffic to the canary (mirror %s%%)", formatPercent(r.Mirror.Percent)))
	}
	return fmt.Errorf("%s sets traffic weights only: it cannot %s: %w", kind, strings.Join(cannot, " nor "), ErrUnsupported)
}

// SupportsWeight reports, without a manifest, whether provider kind can
// set the canary's weight to w (0..100): nil, or an error wrapping
// ErrUnsupported. Only service is limited: it switches all traffic at
// once, so it holds 0 and 100 only. Unknown kinds are accepted (their
// constructor decides).
func SupportsWeight(kind string, w int) error {
	if kind == "service" && w != 0 && w != 100 {
		return fmt.Errorf("service switches all traffic at once between the two versions: it cannot send %d%% to the canary (weights 0 and 100 only): %w", w, ErrUnsupported)
	}
	return nil
}
