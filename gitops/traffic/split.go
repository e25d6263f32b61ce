package traffic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// The list providers (istio, gatewayapi, smi) share one shape: a list of
// items, each naming a destination and carrying a "weight" key. A matcher
// finds the stable and the canary item in such a list, a split reads and
// writes their weights, and candidates picks the one list a Config selects.

// matcher classifies the items of a weighted list as the stable destination,
// the canary destination or another one, by one identifying scalar per item.
type matcher struct {
	place  string // what holds the list, for messages: "route", "rule", "TrafficSplit"
	item   string // what a list item is called: "destination", "backendRef", "backend"
	key    string // path of the identifying scalar inside an item: "destination.subset"
	what   string // what messages call that scalar: "subset", "name", "service"
	stable string // the stable item's identifying value
	canary string // the canary item's identifying value
	// filter, when set, files items for which it returns false as others
	// (istio's host filter); note describes it in messages.
	filter func(d *yamledit.Document, item string) bool
	note   string
}

// pair describes the two destinations for messages:
// `destinations with subsets "production" and "canary"`.
func (m *matcher) pair() string {
	return fmt.Sprintf("%ss with %ss %q and %q%s", m.item, m.what, m.stable, m.canary, m.note)
}

// match classifies the items of the list at path list in d. It returns the
// split if the list holds both destinations, and nil if the list is not one
// the config selects (absent, or holding neither destination) unless
// selected is true. A selected list (by name, or by holding one of the two
// destinations) that lacks a destination is an error wrapping
// ErrDestinationNotFound.
func (m *matcher) match(d *yamledit.Document, obj, list string, selected bool) (*split, error) {
	items, err := d.Lookup(list)
	switch {
	case errors.Is(err, yamledit.ErrPathNotFound) && !selected:
		return nil, nil // e.g. a redirect route without destinations
	case errors.Is(err, yamledit.ErrPathNotFound):
		return nil, &PathError{Object: obj, Path: list, Msg: fmt.Sprintf("%s has no %ss", m.place, m.item), Err: ErrDestinationNotFound}
	case err != nil || items.Kind != yaml.SequenceNode:
		return nil, shapeError(obj, list, fmt.Sprintf("want a list of %ss", m.item), err)
	}
	s := &split{doc: d, object: obj, list: list, stable: -1, canary: -1, m: m}
	for j := range items.Content {
		if err := m.classify(s, j); err != nil {
			return nil, err
		}
	}
	if s.stable < 0 && s.canary < 0 && !selected {
		return nil, nil
	}
	for _, x := range []struct {
		idx int
		id  string
	}{{s.stable, m.stable}, {s.canary, m.canary}} {
		if x.idx < 0 {
			return nil, &PathError{Object: obj, Path: list, Msg: fmt.Sprintf(
				"no %s with %s %q%s", m.item, m.what, x.id, m.note), Err: ErrDestinationNotFound}
		}
	}
	return s, nil
}

// classify files item j of s's list as stable, canary or other.
func (m *matcher) classify(s *split, j int) error {
	at := fmt.Sprintf("%s[%d]", s.list, j)
	if m.filter != nil && !m.filter(s.doc, at) {
		s.others = append(s.others, j)
		return nil
	}
	id, _ := scalarAt(s.doc, at+"."+m.key)
	var slot *int
	switch id {
	case m.stable:
		slot = &s.stable
	case m.canary:
		slot = &s.canary
	default:
		s.others = append(s.others, j)
		return nil
	}
	if *slot >= 0 {
		return &PathError{Object: s.object, Path: s.list, Msg: fmt.Sprintf(
			"%ss %d and %d both have %s %q%s", m.item, *slot, j, m.what, id, m.note), Err: ErrAmbiguous}
	}
	*slot = j
	return nil
}

// split is a located list: the document, the list and the indexes of the
// stable and canary items in it.
type split struct {
	doc    *yamledit.Document
	object string // "VirtualService games/aleph (document 0)"
	list   string // "spec.http[0].route"
	at     int    // index of the route or rule in its list (istio: spec.http, gatewayapi: spec.rules)
	stable int    // index in list of the stable item
	canary int    // index in list of the canary item
	others []int  // indexes of the other items
	m      *matcher
	// milli allows weights written as milli quantities, "500m" (SMI
	// v1alpha1, where a weight is a Kubernetes resource.Quantity). Both
	// weights then share the unit and sum to 100 in it.
	milli bool
}

// read returns the split's weights; they must sum to 100.
func (s *split) read() (Weights, error) {
	var w Weights
	var units [2]string
	var err error
	if w.Stable, units[0], err = s.weight(s.stable, true); err != nil {
		return Weights{}, err
	}
	if w.Canary, units[1], err = s.weight(s.canary, true); err != nil {
		return Weights{}, err
	}
	if units[0] != units[1] {
		return Weights{}, &PathError{Object: s.object, Path: s.list, Msg: fmt.Sprintf(
			"weights %d%s and %d%s mix units; write both as plain integers or both with \"m\"", w.Stable, units[0], w.Canary, units[1]), Err: ErrShape}
	}
	if err := s.checkOthers(); err != nil {
		return Weights{}, err
	}
	if err := w.Validate(); err != nil {
		return Weights{}, &PathError{Object: s.object, Path: s.list, Msg: fmt.Sprintf("weights %d%s (%s %q) + %d%s (%s %q) do not sum to 100",
			w.Stable, units[0], s.m.what, s.m.stable, w.Canary, units[1], s.m.what, s.m.canary), Err: ErrInvalidWeights}
	}
	return w, nil
}

// write returns f's source with the split's weights set to w (valid). The
// current weights need not be valid integers (write can repair them) but
// the keys must exist. A milli split keeps its unit.
func (s *split) write(f *yamledit.File, w Weights) ([]byte, error) {
	_, unit, err := s.weight(s.stable, false)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.weight(s.canary, false); err != nil {
		return nil, err
	}
	if err := s.checkOthers(); err != nil {
		return nil, err
	}
	out, err := f.Apply(
		yamledit.Edit{Path: s.weightPath(s.stable), Value: strconv.Itoa(w.Stable) + unit},
		yamledit.Edit{Path: s.weightPath(s.canary), Value: strconv.Itoa(w.Canary) + unit},
	)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: set weights %s: %w", s.object, s.list, w, err)
	}
	return out, nil
}

func (s *split) weightPath(j int) string {
	return fmt.Sprintf("{%d}%s[%d].weight", s.doc.Index, s.list, j)
}

// weight reads list[j].weight and its unit ("" or "m"). With parse false it
// only checks that the key holds a scalar and returns the unit it appears
// to have.
func (s *split) weight(j int, parse bool) (int, string, error) {
	at := fmt.Sprintf("%s[%d]", s.list, j)
	n, err := s.doc.Lookup(at + ".weight")
	if errors.Is(err, yamledit.ErrPathNotFound) {
		return 0, "", &PathError{Object: s.object, Path: at, Msg: "no weight (add \"weight: 0\")", Err: ErrMissingWeight}
	}
	if err != nil || n.Kind != yaml.ScalarNode {
		return 0, "", shapeError(s.object, at+".weight", "want an integer", err)
	}
	text, unit := s.splitUnit(n.Value)
	if !parse {
		return 0, unit, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		return 0, "", &PathError{Object: s.object, Path: at + ".weight", Msg: fmt.Sprintf("weight %q is not an integer", n.Value), Err: ErrShape}
	}
	if v < 0 || v > 100 {
		return 0, "", &PathError{Object: s.object, Path: at + ".weight", Msg: fmt.Sprintf("weight %d%s outside 0..100", v, unit), Err: ErrInvalidWeights}
	}
	return v, unit, nil
}

// splitUnit splits a milli suffix off a weight when the split allows one.
func (s *split) splitUnit(v string) (string, string) {
	if s.milli && strings.HasSuffix(v, "m") {
		return strings.TrimSuffix(v, "m"), "m"
	}
	return v, ""
}

// checkOthers fails if an item other than stable and canary carries
// traffic, since then the two cannot sum to 100.
func (s *split) checkOthers() error {
	for _, j := range s.others {
		n, err := s.doc.Lookup(fmt.Sprintf("%s[%d].weight", s.list, j))
		if err != nil || n.Kind != yaml.ScalarNode {
			continue
		}
		if text, _ := s.splitUnit(n.Value); text == "0" {
			continue
		}
		return &PathError{Object: s.object, Path: fmt.Sprintf("%s[%d].weight", s.list, j), Msg: fmt.Sprintf(
			"%s is neither stable nor canary but has weight %q", s.m.item, n.Value), Err: ErrInvalidWeights}
	}
	return nil
}

// candidates collects the lists a provider found while scanning a file.
type candidates struct {
	objects int      // objects of the provider's kinds
	named   int      // places whose name matched Config.Route
	found   []*split // lists holding both destinations
	misses  []error  // selected places lacking a destination
}

// add records the result of matcher.match; errors other than a missing
// destination end the scan.
func (c *candidates) add(s *split, err error) error {
	switch {
	case errors.Is(err, ErrDestinationNotFound):
		c.misses = append(c.misses, err)
	case err != nil:
		return err
	case s != nil:
		c.found = append(c.found, s)
	}
	return nil
}

// selects reports whether the place called name is one the provider may
// manage under Config.Route: every place when route is empty (none of them
// selected by name), else only the place of that name, which is counted in
// named and reported as selected.
func (c *candidates) selects(route, name string) (selected, ok bool) {
	switch {
	case route == "":
		return false, true
	case name != route:
		return false, false
	}
	c.named++
	return true, true
}

// scope describes a provider's search, for messages.
type scope struct {
	kinds string // what was looked for: "VirtualService (apiVersion networking.istio.io/*)"
	kind  string // the object kind in counts: "VirtualService"
	list  string // the path holding the places, "spec.http"; "" when places are objects
	named string // what Config.Route names: "route"
	route string // Config.Route
}

// pick turns the candidates into one split or a clear error.
func (c *candidates) pick(m *matcher, sc scope) (*split, error) {
	switch {
	case c.objects == 0:
		return nil, &PathError{Msg: "no " + sc.kinds + " in the file", Err: ErrObjectNotFound}
	case len(c.found) == 1:
		return c.found[0], nil
	case len(c.found) > 1:
		where := make([]string, len(c.found))
		for i, s := range c.found {
			where[i] = s.object + " " + s.list
		}
		return nil, &PathError{Msg: fmt.Sprintf("%d %ss have %s (%s); set the route name",
			len(c.found), m.place, m.pair(), strings.Join(where, ", ")), Err: ErrAmbiguous}
	case sc.route != "" && c.named == 0:
		return nil, &PathError{Path: sc.list, Msg: fmt.Sprintf("no %s named %q in %d %s(s)", sc.named, sc.route, c.objects, sc.kind), Err: ErrRouteNotFound}
	case len(c.misses) > 0:
		return nil, errors.Join(c.misses...)
	default:
		return nil, &PathError{Path: sc.list, Msg: fmt.Sprintf("no %s has %s", m.place, m.pair()), Err: ErrRouteNotFound}
	}
}

// readWith parses doc, locates its split and reads the weights; name
// prefixes parse errors ("istio: ...").
func readWith(name string, doc []byte, locate func(*yamledit.File) (*split, error)) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("%s: %w", name, err)
	}
	s, err := locate(f)
	if err != nil {
		return Weights{}, err
	}
	return s.read()
}

// writeWith validates w, parses doc, locates its split and writes w.
func writeWith(name string, doc []byte, w Weights, locate func(*yamledit.File) (*split, error)) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("%s: set weights: %w", name, err)
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s, err := locate(f)
	if err != nil {
		return nil, err
	}
	return s.write(f, w)
}
