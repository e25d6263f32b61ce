package traffic

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Traefik mirrors with a second TraefikService
// (https://doc.traefik.io/traefik/routing/providers/kubernetes-crd/#mirroring):
//
//	kind: TraefikService
//	metadata: {name: podinfo-mirror}
//	spec:
//	  mirroring:
//	    name: podinfo          # the weighted TraefikService birdwatch splits
//	    kind: TraefikService
//	    mirrors:
//	      - name: podinfo-canary
//	        port: 9898
//	        percent: 20
//
// The IngressRoute sends to the mirroring service, which forwards every
// request to the weighted one and copies percent percent (an integer) to
// each mirror. The mirroring service must be in the same file as the
// weighted one and there must be one; birdwatch does not create it, since
// only a route sending to it makes it do anything. Its mirror naming
// CanaryService is birdwatch's; other mirrors are left alone. Without a
// mirroring service there is no mirror to read, and setting one is
// ErrObjectNotFound naming what to add. Header routes are not supported
// by this provider.

// traefikSupports is Supports for traefik.
func traefikSupports(r Routes) error {
	if len(r.Headers) > 0 {
		return fmt.Errorf("traefik sets weights and mirrors only: it cannot route requests by header, cookie or query parameter (header route %q): %w",
			r.Headers[0].Name, ErrUnsupported)
	}
	if m := r.Mirror; m != nil && m.Percent != float64(int64(m.Percent)) {
		return fmt.Errorf("traefik cannot mirror %s%%: a mirror's percent is an integer: %w", formatPercent(m.Percent), ErrUnsupported)
	}
	return nil
}

// traefikMirroring is a located mirroring TraefikService.
type traefikMirroring struct {
	doc    *yamledit.Document
	object string
	list   *yaml.Node // spec.mirroring.mirrors, nil when absent
}

// mirroring finds the TraefikService mirroring the weighted one s: nil
// when there is none.
func (p *Traefik) mirroring(f *yamledit.File, s *split) (*traefikMirroring, error) {
	weighted, _ := scalarAt(s.doc, "metadata.name")
	var found []*traefikMirroring
	for _, d := range f.Documents() {
		if !isKindIn(d, traefikGroups, "TraefikService") {
			continue
		}
		name, _ := scalarAt(d, "spec.mirroring.name")
		kind, _ := scalarAt(d, "spec.mirroring.kind")
		if name != weighted || kind != "TraefikService" {
			continue
		}
		m := &traefikMirroring{doc: d, object: objectName(d)}
		if l, err := d.Lookup("spec.mirroring.mirrors"); err == nil {
			if l.Kind != yaml.SequenceNode {
				return nil, shapeError(m.object, "spec.mirroring.mirrors", "want a list of mirrors", nil)
			}
			m.list = l
		}
		found = append(found, m)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, &PathError{Msg: fmt.Sprintf("%s and %s both mirror the TraefikService %s; keep one", found[0].object, found[1].object, weighted), Err: ErrAmbiguous}
}

// ourMirror reports whether a mirror is birdwatch's.
func (p *Traefik) ourMirror(m *yaml.Node) bool {
	kind := scalarOf(mapGet(m, "kind"))
	return scalarOf(mapGet(m, "name")) == p.cfg.CanaryService && (kind == "" || kind == "Service")
}

// locateMirror parses doc and locates the weighted service and its
// mirroring service (nil when none).
func (p *Traefik) locateMirror(doc []byte) (*split, *traefikMirroring, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("traefik: %w", err)
	}
	s, err := p.locate(f)
	if err != nil {
		return nil, nil, err
	}
	m, err := p.mirroring(f, s)
	return s, m, err
}

// Routes implements Router: the mirror to the canary in the service
// mirroring the weighted one, if any.
func (p *Traefik) Routes(doc []byte) (Routes, error) {
	_, m, err := p.locateMirror(doc)
	if err != nil || m == nil || m.list == nil {
		return Routes{}, err
	}
	for j, it := range m.list.Content {
		if it.Kind == yaml.AliasNode {
			it = it.Alias
		}
		if !p.ourMirror(it) {
			continue
		}
		at := fmt.Sprintf("spec.mirroring.mirrors[%d].percent", j)
		v := mapGet(it, "percent")
		n, err := strconv.Atoi(scalarOf(v))
		if v == nil || err != nil || n < 0 || n > 100 {
			return Routes{}, &PathError{Object: m.object, Path: at, Msg: fmt.Sprintf("percent %q: want an integer in 0..100", scalarOf(v)), Err: ErrShape}
		}
		if n == 0 {
			return Routes{}, nil // mirrors nothing
		}
		return Routes{Mirror: &Mirror{Percent: float64(n)}}, nil
	}
	return Routes{}, nil
}

// SetRoutes implements Router: at most a mirror to the canary, as a mirror
// of the service mirroring the weighted one.
func (p *Traefik) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("traefik: %w", err)
	}
	if err := traefikSupports(r); err != nil {
		return nil, err
	}
	s, m, err := p.locateMirror(doc)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if r.Mirror == nil {
			return doc, nil
		}
		weighted, _ := scalarAt(s.doc, "metadata.name")
		return nil, &PathError{Msg: fmt.Sprintf(
			"no TraefikService mirrors %s (spec.mirroring: {name: %s, kind: TraefikService}); add one, route to it, and birdwatch sets its mirror to %s",
			s.object, weighted, p.cfg.CanaryService), Err: ErrObjectNotFound}
	}
	var want *yaml.Node
	if r.Mirror != nil {
		if want, err = s.canaryItem(); err != nil {
			return nil, err
		}
		mapSet(want, "percent", intNode(int64(r.Mirror.Percent)))
	}
	out, err := reconcileMirror(doc, fmt.Sprintf("{%d}spec.mirroring.mirrors", m.doc.Index), m.list, want, p.ourMirror)
	if err != nil {
		return nil, fmt.Errorf("traefik: %s: spec.mirroring.mirrors: %w", m.object, err)
	}
	return out, nil
}
