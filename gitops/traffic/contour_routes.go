package traffic

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Contour mirrors with a service of the managed route marked
// "mirror: true" (https://projectcontour.io/docs/main/config/request-routing/#traffic-mirroring);
// its weight, an integer 1..100, is the percentage of requests copied to
// it, and no weight means all of them. A route has at most one mirror. The
// mirror service naming CanaryService is birdwatch's: SetRoutes writes it
// as a copy of the canary service (name, port and the rest) with
// "mirror: true" and the weight, after the route's other services. A
// mirror to another service is a person's: birdwatch leaves it, and
// adding its own beside it is ErrConflict. Header routes are not
// supported by this provider.

// contourSupports is Supports for contour.
func contourSupports(r Routes) error {
	if len(r.Headers) > 0 {
		return fmt.Errorf("contour sets weights and mirrors only: it cannot route requests by header, cookie or query parameter (header route %q): %w",
			r.Headers[0].Name, ErrUnsupported)
	}
	if m := r.Mirror; m != nil && m.Percent != float64(int64(m.Percent)) {
		return fmt.Errorf("contour cannot mirror %s%%: a mirror service's weight is a whole percentage: %w", formatPercent(m.Percent), ErrUnsupported)
	}
	return nil
}

// isContourMirror reports whether a route service is a mirror.
func isContourMirror(svc *yaml.Node) bool {
	return scalarOf(mapGet(svc, "mirror")) == "true" // as notMirror reads it
}

// Routes implements Router: the managed route's mirror to the canary, if
// any. Contour has no header routes here.
func (p *Contour) Routes(doc []byte) (Routes, error) {
	s, items, err := p.mirrorList(doc)
	if err != nil {
		return Routes{}, err
	}
	for j, it := range items {
		if !p.ourMirror(it) {
			continue
		}
		pct := 100
		if w := mapGet(it, "weight"); w != nil {
			n, err := strconv.Atoi(scalarOf(w))
			if err != nil || n < 0 || n > 100 {
				return Routes{}, &PathError{Object: s.object, Path: fmt.Sprintf("%s[%d].weight", s.list, j), Msg: fmt.Sprintf(
					"mirror weight %q: want an integer percentage in 1..100", scalarOf(w)), Err: ErrShape}
			}
			if n > 0 { // Contour mirrors everything at weight 0 too
				pct = n
			}
		}
		return Routes{Mirror: &Mirror{Percent: float64(pct)}}, nil
	}
	return Routes{}, nil
}

// SetRoutes implements Router: at most a mirror to the canary, as a mirror
// service of the managed route.
func (p *Contour) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("contour: %w", err)
	}
	if err := contourSupports(r); err != nil {
		return nil, err
	}
	s, items, err := p.mirrorList(doc)
	if err != nil {
		return nil, err
	}
	var want *yaml.Node
	if r.Mirror != nil {
		for j, it := range items {
			if isContourMirror(it) && !p.ourMirror(it) {
				return nil, &PathError{Object: s.object, Path: fmt.Sprintf("%s[%d]", s.list, j), Msg: fmt.Sprintf(
					"mirrors to %q; Contour allows one mirror per route, so birdwatch cannot add its mirror to %q", scalarOf(mapGet(it, "name")), p.cfg.CanaryService), Err: ErrConflict}
			}
		}
		if want, err = s.canaryItem(); err != nil {
			return nil, err
		}
		mapSet(want, "mirror", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		mapSet(want, "weight", intNode(int64(r.Mirror.Percent)))
	}
	list, _ := s.doc.Lookup(s.list)
	out, err := reconcileMirror(doc, fmt.Sprintf("{%d}%s", s.doc.Index, s.list), list, want, p.ourMirror)
	if err != nil {
		return nil, fmt.Errorf("contour: %s: %s: mirror: %w", s.object, s.list, err)
	}
	return out, nil
}

// ourMirror reports whether a route service is birdwatch's mirror.
func (p *Contour) ourMirror(svc *yaml.Node) bool {
	return isContourMirror(svc) && scalarOf(mapGet(svc, "name")) == p.cfg.CanaryService
}

// mirrorList locates the managed route and returns its services.
func (p *Contour) mirrorList(doc []byte) (*split, []*yaml.Node, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("contour: %w", err)
	}
	s, err := p.locate(f)
	if err != nil {
		return nil, nil, err
	}
	items, err := listItems(s, s.list)
	if err != nil {
		return nil, nil, err
	}
	return s, items, nil
}
