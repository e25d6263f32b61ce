package traffic

import (
	"errors"
	"strings"
)

// Sentinel errors returned (wrapped) by providers. Test for them with
// errors.Is. Errors about a manifest are *PathError values naming the object
// and the YAML path; errors from the YAML layer wrap yamledit's sentinels
// (yamledit.ErrSyntax, yamledit.ErrUnsupported) and are returned as they are.
var (
	// ErrUnknownProvider means Config.Provider names no known provider.
	ErrUnknownProvider = errors.New("unknown traffic provider")

	// ErrInvalidConfig means a Config lacks a field its provider needs.
	ErrInvalidConfig = errors.New("invalid traffic config")

	// ErrInvalidWeights means weights outside 0..100 or not summing to 100,
	// either passed to SetWeights or found in the manifest.
	ErrInvalidWeights = errors.New("invalid weights")

	// ErrObjectNotFound means the file holds no object the provider manages
	// (istio: no networking.istio.io VirtualService; gatewayapi: no
	// HTTPRoute or GRPCRoute; smi: no TrafficSplit; nginx: no Ingress).
	ErrObjectNotFound = errors.New("traffic object not found")

	// ErrRouteNotFound means no route matches Config.Route, or no route has
	// destinations for both the stable and the canary version.
	ErrRouteNotFound = errors.New("route not found")

	// ErrDestinationNotFound means the selected route lacks the stable or the
	// canary destination.
	ErrDestinationNotFound = errors.New("destination not found")

	// ErrAmbiguous means several routes or destinations match where one is
	// needed; narrow Config.Route or Config.Host.
	ErrAmbiguous = errors.New("ambiguous traffic target")

	// ErrMissingWeight means a destination that must carry a weight has no
	// weight key (nginx: no canary-weight annotation; yamlpath: the path does
	// not resolve). Providers never add keys; add "weight: 0" to the
	// manifest.
	ErrMissingWeight = errors.New("missing weight")

	// ErrShape means the manifest has an unexpected shape at a path, e.g. a
	// list where a mapping belongs or a weight that is not an integer.
	ErrShape = errors.New("unexpected manifest shape")

	// ErrInvalidRoutes means Routes that no provider can write: a header
	// route without a name or a condition, two routes with one name, a
	// condition without a name or value, a regular expression that does
	// not compile, a mirror percentage outside (0, 100].
	ErrInvalidRoutes = errors.New("invalid routes")

	// ErrConflict means the manifest already holds something, written by
	// someone else, where birdwatch would write a route: a mirror to
	// another destination, a condition on the same header, ingress-nginx
	// canary-by-header annotations without birdwatch's marker. birdwatch
	// never overwrites it; a person resolves it.
	ErrConflict = errors.New("conflicts with the manifest")
)

// PathError is a problem at one YAML path of one manifest object. Its
// message reads `VirtualService games/aleph (document 2): spec.http[0].route:
// no destination with subset "canary"`; the path is relative to the object,
// so it means the same whatever file holds it. Err is the sentinel it wraps.
type PathError struct {
	// Object names the manifest object and its zero-based document index in
	// the file, e.g. "VirtualService games/aleph (document 2)"; "" when the
	// problem concerns no single object.
	Object string
	// Path is the YAML path inside the object, in yamledit syntax; "" when
	// the problem concerns the whole object.
	Path string
	// Msg describes the problem.
	Msg string
	// Err is one of this package's sentinel errors.
	Err error
}

// Error returns "Object: Path: Msg", leaving out empty parts.
func (e *PathError) Error() string {
	parts := make([]string, 0, 3)
	for _, s := range []string{e.Object, e.Path, e.Msg} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns the sentinel error.
func (e *PathError) Unwrap() error { return e.Err }
