package traffic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// traefikGroups are the API groups of Traefik's CRDs: traefik.io since
// Traefik v2.10, traefik.containo.us before. TraefikService has the same
// spec.weighted layout in both.
var traefikGroups = []string{"traefik.io/", "traefik.containo.us/"}

// Traefik is the "traefik" Provider. It manages the weights of two services
// of a weighted TraefikService (Traefik's weighted round robin):
//
//	spec.weighted.services[j].name == StableService
//	spec.weighted.services[k].name == CanaryService
//
// Config.Route selects the TraefikService by metadata.name; without it the
// one weighted TraefikService holding both services is used. Traefik's
// weights are proportions; birdwatch writes percentages, so both services
// carry a weight key and the two sum to 100 (Traefik accepts weight 0).
// A TraefikService using spec.mirroring instead of spec.weighted is not a
// split and is named in the error. A Traefik value is immutable and safe
// for concurrent use.
type Traefik struct {
	cfg Config
	m   matcher
}

// NewTraefik returns the traefik provider for cfg. StableService and
// CanaryService are required and must differ; Route is optional.
func NewTraefik(cfg Config) (*Traefik, error) {
	if err := checkServices("traefik", cfg); err != nil {
		return nil, err
	}
	return &Traefik{cfg: cfg, m: matcher{place: "TraefikService", item: "service", key: "name", what: "name",
		stable: cfg.StableService, canary: cfg.CanaryService}}, nil
}

// Weights implements Provider.
func (p *Traefik) Weights(doc []byte) (Weights, error) {
	return readWith("traefik", doc, p.locate)
}

// SetWeights implements Provider. The current weights need not be valid
// integers (SetWeights can repair them) but the keys must exist.
func (p *Traefik) SetWeights(doc []byte, w Weights) ([]byte, error) {
	return writeWith("traefik", doc, w, p.locate)
}

// locate finds the one weighted TraefikService the config selects.
func (p *Traefik) locate(f *yamledit.File) (*split, error) {
	var c candidates
	var mirroring []string // selected TraefikServices that mirror instead of weighting
	for _, d := range f.Documents() {
		if !isKindIn(d, traefikGroups, "TraefikService") {
			continue
		}
		c.objects++
		name, _ := scalarAt(d, "metadata.name")
		selected, ok := c.selects(p.cfg.Route, name)
		if !ok {
			continue
		}
		if _, err := d.Lookup("spec.weighted"); errors.Is(err, yamledit.ErrPathNotFound) {
			if _, merr := d.Lookup("spec.mirroring"); merr == nil && selected {
				mirroring = append(mirroring, objectName(d))
			}
			if selected {
				c.misses = append(c.misses, &PathError{Object: objectName(d), Path: "spec", Msg: fmt.Sprintf(
					"no spec.weighted.services: birdwatch splits traffic between %s in a weighted TraefikService", p.m.pair()), Err: ErrDestinationNotFound})
			}
			continue
		}
		if err := c.add(p.m.match(d, objectName(d), "spec.weighted.services", selected)); err != nil {
			return nil, err
		}
	}
	s, err := c.pick(&p.m, scope{kinds: "TraefikService (apiVersion traefik.io/* or traefik.containo.us/*)", kind: "TraefikService",
		named: "TraefikService", route: p.cfg.Route})
	if err != nil && len(mirroring) > 0 {
		err = fmt.Errorf("%w (%s mirrors with spec.mirroring; point its service at a weighted TraefikService)", err, strings.Join(mirroring, ", "))
	}
	return s, err
}

// isKindIn is isKind for objects whose kind lives in any of several groups.
func isKindIn(d *yamledit.Document, groups []string, kinds ...string) bool {
	for _, g := range groups {
		if isKind(d, g, kinds...) {
			return true
		}
	}
	return false
}
