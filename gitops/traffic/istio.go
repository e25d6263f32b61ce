package traffic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// istioGroup is the API group of Istio's networking objects; every version
// (v1alpha3, v1beta1, v1) has the same VirtualService route layout.
const istioGroup = "networking.istio.io/"

// Istio is the "istio" Provider. It manages the weights of two destinations
// of one HTTP route of a VirtualService:
//
//	spec.http[i].route[j].destination.subset == StableSubset
//	spec.http[i].route[k].destination.subset == CanarySubset
//
// Both destinations must exist and carry a weight key; Istio adds none and
// removes none. Other documents in the file (Deployments, DestinationRules,
// other VirtualServices) are skipped. An Istio value is immutable and safe
// for concurrent use.
type Istio struct {
	cfg Config
}

// NewIstio returns the istio provider for cfg. StableSubset and CanarySubset
// are required and must differ; Route and Host are optional filters.
func NewIstio(cfg Config) (*Istio, error) {
	if cfg.StableSubset == "" || cfg.CanarySubset == "" {
		return nil, fmt.Errorf("istio: stableSubset and canarySubset are required: %w", ErrInvalidConfig)
	}
	if cfg.StableSubset == cfg.CanarySubset {
		return nil, fmt.Errorf("istio: stableSubset and canarySubset are both %q: %w", cfg.StableSubset, ErrInvalidConfig)
	}
	return &Istio{cfg: cfg}, nil
}

// split is a located route: the document and the destination indexes.
type split struct {
	doc    *yamledit.Document
	object string // "VirtualService games/aleph"
	route  string // "spec.http[0].route"
	stable int    // index in route of the stable destination
	canary int    // index in route of the canary destination
	others []int  // indexes of the other destinations
}

// Weights implements Provider.
func (p *Istio) Weights(doc []byte) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("istio: %w", err)
	}
	s, err := p.locate(f)
	if err != nil {
		return Weights{}, err
	}
	var w Weights
	if w.Stable, err = s.weight(s.stable, true); err != nil {
		return Weights{}, err
	}
	if w.Canary, err = s.weight(s.canary, true); err != nil {
		return Weights{}, err
	}
	if err := s.checkOthers(); err != nil {
		return Weights{}, err
	}
	if err := w.Validate(); err != nil {
		return Weights{}, &PathError{Object: s.object, Path: s.route, Msg: fmt.Sprintf(
			"weights %d (subset %q) + %d (subset %q) do not sum to 100", w.Stable, p.cfg.StableSubset, w.Canary, p.cfg.CanarySubset), Err: ErrInvalidWeights}
	}
	return w, nil
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *Istio) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("istio: set weights: %w", err)
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("istio: %w", err)
	}
	s, err := p.locate(f)
	if err != nil {
		return nil, err
	}
	for _, j := range []int{s.stable, s.canary} {
		if _, err := s.weight(j, false); err != nil {
			return nil, err
		}
	}
	if err := s.checkOthers(); err != nil {
		return nil, err
	}
	out, err := f.Apply(
		yamledit.Edit{Path: s.weightPath(s.stable), Value: strconv.Itoa(w.Stable)},
		yamledit.Edit{Path: s.weightPath(s.canary), Value: strconv.Itoa(w.Canary)},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: set weights %s: %w", s.object, s.route, w, err)
	}
	return out, nil
}

// locate finds the one route the config selects.
func (p *Istio) locate(f *yamledit.File) (*split, error) {
	var (
		found  []*split
		misses []error
		vs     int
		named  int
	)
	for _, d := range f.Documents() {
		if !isVirtualService(d) {
			continue
		}
		vs++
		obj := objectName(d)
		http, err := d.Lookup("spec.http")
		if errors.Is(err, yamledit.ErrPathNotFound) {
			continue // a TCP/TLS-only VirtualService
		}
		if err != nil || http.Kind != yaml.SequenceNode {
			return nil, shapeError(obj, "spec.http", "want a list of routes", err)
		}
		for i := range http.Content {
			s, isNamed, err := p.matchRoute(d, obj, i)
			if isNamed {
				named++
			}
			switch {
			case errors.Is(err, ErrDestinationNotFound):
				misses = append(misses, err)
			case err != nil:
				return nil, err
			case s != nil:
				found = append(found, s)
			}
		}
	}
	return p.pick(found, misses, vs, named)
}

// pick turns the candidate routes into one route or a clear error.
func (p *Istio) pick(found []*split, misses []error, vs, named int) (*split, error) {
	switch {
	case vs == 0:
		return nil, &PathError{Msg: "no VirtualService (apiVersion " + istioGroup + "*) in the file", Err: ErrObjectNotFound}
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		where := make([]string, len(found))
		for i, s := range found {
			where[i] = s.object + " " + s.route
		}
		return nil, &PathError{Msg: fmt.Sprintf("%d routes have subsets %q and %q (%s); set the route name",
			len(found), p.cfg.StableSubset, p.cfg.CanarySubset, strings.Join(where, ", ")), Err: ErrAmbiguous}
	case p.cfg.Route != "" && named == 0:
		return nil, &PathError{Path: "spec.http", Msg: fmt.Sprintf("no route named %q in %d VirtualService(s)", p.cfg.Route, vs), Err: ErrRouteNotFound}
	case len(misses) > 0:
		return nil, errors.Join(misses...)
	default:
		return nil, &PathError{Path: "spec.http", Msg: fmt.Sprintf("no route has destinations with subsets %q and %q%s",
			p.cfg.StableSubset, p.cfg.CanarySubset, p.hostNote()), Err: ErrRouteNotFound}
	}
}

// matchRoute inspects spec.http[i]. It returns the split if the route has
// both destinations, nil if the route is not one the config selects, and an
// error wrapping ErrDestinationNotFound if the route is selected (by name, or
// by holding one of the subsets) but lacks a destination.
func (p *Istio) matchRoute(d *yamledit.Document, obj string, i int) (*split, bool, error) {
	base := fmt.Sprintf("spec.http[%d]", i)
	isNamed := false
	if p.cfg.Route != "" {
		if name, _ := scalarAt(d, base+".name"); name != p.cfg.Route {
			return nil, false, nil
		}
		isNamed = true
	}
	s := &split{doc: d, object: obj, route: base + ".route", stable: -1, canary: -1}
	dests, err := d.Lookup(s.route)
	if errors.Is(err, yamledit.ErrPathNotFound) && !isNamed {
		return nil, false, nil // a redirect or direct-response route
	}
	if err != nil || dests.Kind != yaml.SequenceNode {
		if errors.Is(err, yamledit.ErrPathNotFound) {
			return nil, isNamed, &PathError{Object: obj, Path: s.route, Msg: "route has no destinations", Err: ErrDestinationNotFound}
		}
		return nil, isNamed, shapeError(obj, s.route, "want a list of destinations", err)
	}
	for j := range dests.Content {
		if err := p.classify(s, j); err != nil {
			return nil, isNamed, err
		}
	}
	if s.stable < 0 && s.canary < 0 && !isNamed {
		return nil, false, nil
	}
	for _, m := range []struct {
		idx    int
		subset string
	}{{s.stable, p.cfg.StableSubset}, {s.canary, p.cfg.CanarySubset}} {
		if m.idx < 0 {
			return nil, isNamed, &PathError{Object: obj, Path: s.route, Msg: fmt.Sprintf(
				"no destination with subset %q%s", m.subset, p.hostNote()), Err: ErrDestinationNotFound}
		}
	}
	return s, isNamed, nil
}

// classify files destination j of s's route as stable, canary or other.
func (p *Istio) classify(s *split, j int) error {
	dest := fmt.Sprintf("%s[%d].destination", s.route, j)
	subset, _ := scalarAt(s.doc, dest+".subset")
	if host, _ := scalarAt(s.doc, dest+".host"); p.cfg.Host != "" && host != p.cfg.Host {
		s.others = append(s.others, j)
		return nil
	}
	slot := (*int)(nil)
	switch subset {
	case p.cfg.StableSubset:
		slot = &s.stable
	case p.cfg.CanarySubset:
		slot = &s.canary
	default:
		s.others = append(s.others, j)
		return nil
	}
	if *slot >= 0 {
		return &PathError{Object: s.object, Path: s.route, Msg: fmt.Sprintf(
			"destinations %d and %d both have subset %q%s", *slot, j, subset, p.hostNote()), Err: ErrAmbiguous}
	}
	*slot = j
	return nil
}

func (p *Istio) hostNote() string {
	if p.cfg.Host == "" {
		return ""
	}
	return fmt.Sprintf(" and host %q", p.cfg.Host)
}

func (s *split) weightPath(j int) string {
	return fmt.Sprintf("{%d}%s[%d].weight", s.doc.Index, s.route, j)
}

// weight reads route[j].weight. With parse false it only checks that the key
// holds a scalar.
func (s *split) weight(j int, parse bool) (int, error) {
	at := fmt.Sprintf("%s[%d]", s.route, j)
	n, err := s.doc.Lookup(at + ".weight")
	if errors.Is(err, yamledit.ErrPathNotFound) {
		return 0, &PathError{Object: s.object, Path: at, Msg: "no weight (add \"weight: 0\")", Err: ErrMissingWeight}
	}
	if err != nil || n.Kind != yaml.ScalarNode {
		return 0, shapeError(s.object, at+".weight", "want an integer", err)
	}
	if !parse {
		return 0, nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, &PathError{Object: s.object, Path: at + ".weight", Msg: fmt.Sprintf("weight %q is not an integer", n.Value), Err: ErrShape}
	}
	if v < 0 || v > 100 {
		return 0, &PathError{Object: s.object, Path: at + ".weight", Msg: fmt.Sprintf("weight %d outside 0..100", v), Err: ErrInvalidWeights}
	}
	return v, nil
}

// checkOthers fails if a destination other than stable and canary carries
// traffic, since then the two cannot sum to 100.
func (s *split) checkOthers() error {
	for _, j := range s.others {
		n, err := s.doc.Lookup(fmt.Sprintf("%s[%d].weight", s.route, j))
		if err != nil || n.Kind != yaml.ScalarNode {
			continue
		}
		if v, err := strconv.Atoi(n.Value); err == nil && v == 0 {
			continue
		}
		return &PathError{Object: s.object, Path: fmt.Sprintf("%s[%d].weight", s.route, j), Msg: fmt.Sprintf(
			"destination is neither stable nor canary but has weight %q", n.Value), Err: ErrInvalidWeights}
	}
	return nil
}

func isVirtualService(d *yamledit.Document) bool {
	kind, _ := scalarAt(d, "kind")
	api, _ := scalarAt(d, "apiVersion")
	return kind == "VirtualService" && strings.HasPrefix(api, istioGroup)
}

// objectName describes d for messages: "VirtualService games/aleph".
func objectName(d *yamledit.Document) string {
	name, _ := scalarAt(d, "metadata.name")
	if ns, _ := scalarAt(d, "metadata.namespace"); ns != "" {
		name = ns + "/" + name
	}
	return strings.TrimSpace(fmt.Sprintf("VirtualService %s (document %d)", name, d.Index))
}

// scalarAt returns the scalar at path, or false if there is none.
func scalarAt(d *yamledit.Document, path string) (string, bool) {
	n, err := d.Lookup(path)
	if err != nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

func shapeError(obj, path, msg string, cause error) error {
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &PathError{Object: obj, Path: path, Msg: msg, Err: ErrShape}
}
