package traffic

import (
	"errors"
	"fmt"
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
	Regex  MatchOp = "regex" // RE2
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
// requests to the canary; the copies' responses are dropped.
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
// rewritten, and nothing else changes.
type Router interface {
	Provider
	// Routes returns the birdwatch routes found in doc.
	Routes(doc []byte) (Routes, error)
	// SetRoutes returns a copy of doc holding exactly the birdwatch routes r.
	SetRoutes(doc []byte, r Routes) ([]byte, error)
}

// ErrUnsupported is wrapped by errors for a route or strategy a provider
// cannot express (e.g. a header route with SMI, a mirror with NGINX).
var ErrUnsupported = errors.New("not supported by the traffic provider")

// Supports reports, without a manifest, whether provider kind can hold r:
// nil, or an error wrapping ErrUnsupported that names the provider and what
// it cannot do. A provider that is not a Router supports only the zero Routes.
func Supports(kind string, r Routes) error {
	if len(r.Headers) == 0 && r.Mirror == nil {
		return nil
	}
	check, ok := supports[kind]
	if !ok {
		return fmt.Errorf("%s sets traffic weights only, it cannot route by header, cookie or query parameter nor mirror: %w", kind, ErrUnsupported)
	}
	return check(r)
}

// supports holds the static capability check of each Router kind.
var supports = map[string]func(Routes) error{}
