package traffic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// The ingress-nginx canary annotations
// (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary).
const (
	nginxCanary      = "nginx.ingress.kubernetes.io/canary"
	nginxWeight      = "nginx.ingress.kubernetes.io/canary-weight"
	nginxWeightTotal = "nginx.ingress.kubernetes.io/canary-weight-total"
)

// NGINX is the "nginx" Provider for ingress-nginx canaries. The canary
// version has its own Ingress, named by Config.Route, marked as a canary
// and carrying the canary's share in percent:
//
//	metadata.annotations["nginx.ingress.kubernetes.io/canary"] == "true"
//	metadata.annotations["nginx.ingress.kubernetes.io/canary-weight"] == "10"
//
// The stable weight is 100 minus the canary weight: ingress-nginx sends
// the rest to the main Ingress of the same host and path. Annotation values
// are strings, so both must be quoted in the file; a
// "nginx.ingress.kubernetes.io/canary-weight-total" other than "100" is an
// error. SetWeights changes only the canary-weight value and never adds
// an annotation. NGINX is a Router too: a header route is a set of
// canary-by-header annotations (nginx_routes.go). An NGINX value is
// immutable and safe for concurrent use.
type NGINX struct {
	cfg Config
}

// NewNGINX returns the nginx provider for cfg. Route, the canary Ingress's
// metadata.name, is required.
func NewNGINX(cfg Config) (*NGINX, error) {
	if cfg.Route == "" {
		return nil, fmt.Errorf("nginx: route (the canary Ingress's metadata.name) is required: %w", ErrInvalidConfig)
	}
	return &NGINX{cfg: cfg}, nil
}

// Weights implements Provider.
func (p *NGINX) Weights(doc []byte) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("nginx: %w", err)
	}
	ing, err := p.locate(f)
	if err != nil {
		return Weights{}, err
	}
	n, err := ing.weight(true)
	if err != nil {
		return Weights{}, err
	}
	return Weights{Stable: 100 - n, Canary: n}, nil
}

// SetWeights implements Provider: it writes w.Canary into the canary-weight
// annotation. The current value need not be a valid integer (SetWeights can
// repair it) but the annotation must exist.
func (p *NGINX) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("nginx: set weights: %w", err)
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	ing, err := p.locate(f)
	if err != nil {
		return nil, err
	}
	if _, err := ing.weight(false); err != nil {
		return nil, err
	}
	at := annotationPath(nginxWeight)
	out, err := f.Apply(yamledit.Edit{Path: fmt.Sprintf("{%d}%s", ing.doc.Index, at), Value: strconv.Itoa(w.Canary)})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: set weights %s: %w", ing.object, at, w, err)
	}
	return out, nil
}

// ingress is the located canary Ingress.
type ingress struct {
	doc    *yamledit.Document
	object string
}

// locate finds the canary Ingress by name and checks that it is a canary.
func (p *NGINX) locate(f *yamledit.File) (*ingress, error) {
	var found []*ingress
	count := 0
	for _, d := range f.Documents() {
		if !isKind(d, "networking.k8s.io/", "Ingress") && !isKind(d, "extensions/", "Ingress") {
			continue
		}
		count++
		if name, _ := scalarAt(d, "metadata.name"); name == p.cfg.Route {
			found = append(found, &ingress{doc: d, object: objectName(d)})
		}
	}
	switch {
	case count == 0:
		return nil, &PathError{Msg: "no Ingress (apiVersion networking.k8s.io/* or extensions/*) in the file", Err: ErrObjectNotFound}
	case len(found) == 0:
		return nil, &PathError{Path: "metadata.name", Msg: fmt.Sprintf("no Ingress named %q in %d Ingress(es)", p.cfg.Route, count), Err: ErrRouteNotFound}
	case len(found) > 1:
		where := make([]string, len(found))
		for i, ing := range found {
			where[i] = ing.object
		}
		return nil, &PathError{Msg: fmt.Sprintf("%d Ingresses are named %q (%s)", len(found), p.cfg.Route, strings.Join(where, ", ")), Err: ErrAmbiguous}
	}
	ing := found[0]
	if err := ing.check(); err != nil {
		return nil, err
	}
	return ing, nil
}

// check verifies that the Ingress is an ingress-nginx canary whose weight
// is a percentage.
func (ing *ingress) check() error {
	v, err := ing.annotation(nginxCanary)
	if errors.Is(err, ErrMissingWeight) {
		return &PathError{Object: ing.object, Path: "metadata.annotations", Msg: fmt.Sprintf(
			"not a canary Ingress: no %s annotation (add %s: \"true\")", nginxCanary, nginxCanary), Err: ErrShape}
	}
	if err != nil {
		return err
	}
	if v != "true" {
		return &PathError{Object: ing.object, Path: annotationPath(nginxCanary), Msg: fmt.Sprintf(
			"is %q: the Ingress is not an active canary; birdwatch needs \"true\"", v), Err: ErrShape}
	}
	total, err := ing.annotation(nginxWeightTotal)
	switch {
	case errors.Is(err, ErrMissingWeight):
		return nil
	case err != nil:
		return err
	case total != "100":
		return &PathError{Object: ing.object, Path: annotationPath(nginxWeightTotal), Msg: fmt.Sprintf(
			"is %q: birdwatch writes percentages; remove it or set \"100\"", total), Err: ErrShape}
	}
	return nil
}

// weight reads the canary-weight annotation; with parse false it only
// checks that it exists and is a string.
func (ing *ingress) weight(parse bool) (int, error) {
	v, err := ing.annotation(nginxWeight)
	if errors.Is(err, ErrMissingWeight) {
		return 0, &PathError{Object: ing.object, Path: "metadata.annotations", Msg: fmt.Sprintf(
			"no %s annotation (add %s: \"0\")", nginxWeight, nginxWeight), Err: ErrMissingWeight}
	}
	if err != nil || !parse {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &PathError{Object: ing.object, Path: annotationPath(nginxWeight), Msg: fmt.Sprintf("weight %q is not an integer", v), Err: ErrShape}
	}
	if n < 0 || n > 100 {
		return 0, &PathError{Object: ing.object, Path: annotationPath(nginxWeight), Msg: fmt.Sprintf("weight %d outside 0..100", n), Err: ErrInvalidWeights}
	}
	return n, nil
}

// annotation returns the string value of annotation key. A missing
// annotation wraps ErrMissingWeight; a value that is not a string (an
// unquoted true or 10, which Kubernetes rejects) wraps ErrShape.
func (ing *ingress) annotation(key string) (string, error) {
	at := annotationPath(key)
	n, err := ing.doc.Lookup(at)
	if errors.Is(err, yamledit.ErrPathNotFound) {
		return "", ErrMissingWeight
	}
	if err != nil || n.Kind != yaml.ScalarNode {
		return "", shapeError(ing.object, at, "want a string", err)
	}
	if n.Tag != "!!str" {
		return "", &PathError{Object: ing.object, Path: at, Msg: fmt.Sprintf(
			"%s is not a string; Kubernetes annotation values must be quoted (%q)", n.Value, n.Value), Err: ErrShape}
	}
	return n.Value, nil
}

// annotationPath is the yamledit path of an annotation.
func annotationPath(key string) string { return "metadata.annotations." + escapeKey(key) }
