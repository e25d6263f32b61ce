package traffic

import (
	"errors"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// contourGroup is Contour's API group; HTTPProxy is projectcontour.io/v1.
const contourGroup = "projectcontour.io/"

// Contour is the "contour" Provider. It manages the weights of two services
// of one route of an HTTPProxy:
//
//	spec.routes[i].services[j].name == StableService
//	spec.routes[i].services[k].name == CanaryService
//
// A service with "mirror: true" is a mirror, never a weighted destination,
// even when it names the canary, and its weight (the share it copies) is
// not part of the split; Contour is a Router for that mirror (see
// contour_routes.go). Config.Route selects the HTTPProxy by
// metadata.name; without it the one route holding both services is used.
// Contour's weights are proportions (absent weights share evenly);
// birdwatch writes percentages, so both services carry a weight key and
// the two sum to 100. A Contour value is immutable and safe for concurrent
// use.
type Contour struct {
	cfg Config
	m   matcher
}

// NewContour returns the contour provider for cfg. StableService and
// CanaryService are required and must differ; Route is optional.
func NewContour(cfg Config) (*Contour, error) {
	if err := checkServices("contour", cfg); err != nil {
		return nil, err
	}
	return &Contour{cfg: cfg, m: matcher{place: "route", item: "service", key: "name", what: "name",
		stable: cfg.StableService, canary: cfg.CanaryService, filter: notMirror}}, nil
}

// notMirror files Contour's mirror services (mirror: true) as others.
func notMirror(d *yamledit.Document, item string) bool {
	v, _ := scalarAt(d, item+".mirror")
	return v != "true"
}

// Weights implements Provider.
func (p *Contour) Weights(doc []byte) (Weights, error) {
	return readWith("contour", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *Contour) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("contour", doc, w, p.locate)
}

// locate finds the one route the config selects.
func (p *Contour) locate(f *yamledit.File) (*split, error) {
	var c candidates
	for _, d := range f.Documents() {
		if !isKind(d, contourGroup, "HTTPProxy") {
			continue
		}
		c.objects++
		name, _ := scalarAt(d, "metadata.name")
		if _, ok := c.selects(p.cfg.Route, name); !ok {
			continue
		}
		obj := objectName(d)
		routes, err := d.Lookup("spec.routes")
		if errors.Is(err, yamledit.ErrPathNotFound) {
			continue // a proxy that only includes others, or TCP proxying
		}
		if err != nil || routes.Kind != yaml.SequenceNode {
			return nil, shapeError(obj, "spec.routes", "want a list of routes", err)
		}
		for i := range routes.Content {
			s, err := p.m.match(d, obj, fmt.Sprintf("spec.routes[%d].services", i), false)
			if s != nil {
				s.at = i
			}
			if err := c.add(s, err); err != nil {
				return nil, err
			}
		}
	}
	s, err := c.pick(&p.m, scope{kinds: "HTTPProxy (apiVersion " + contourGroup + "*)", kind: "HTTPProxy",
		list: "spec.routes", named: "HTTPProxy", route: p.cfg.Route})
	if err != nil {
		return nil, err
	}
	// A mirror's weight is the share of requests it copies, not a share
	// of the split.
	s.others = slices.DeleteFunc(s.others, func(j int) bool { return !notMirror(s.doc, fmt.Sprintf("%s[%d]", s.list, j)) })
	return s, nil
}
