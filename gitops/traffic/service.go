package traffic

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Service is the "service" Provider: blue-green without a mesh (Argo
// Rollouts' activeService and previewService). Both versions run their own
// pods, labelled with their version; the Service named Config.ActiveService
// sends every request to the version its selector names:
//
//	spec.selector[VersionLabel] == StableVersion   weight 0
//	spec.selector[VersionLabel] == CanaryVersion   weight 100
//
// VersionLabel defaults to "version". SetWeights switches the selector;
// any other weight is an error wrapping ErrUnsupported. The optional
// Service named Config.PreviewService is pointed at the canary version on
// every write, so the canary can be tested (and analysed) through it before
// the switch. Promote points both Services at the canary version, which
// becomes the stable one. The selector key must exist; Service adds none.
// A Service value is immutable and safe for concurrent use.
type Service struct {
	cfg   Config
	label string
}

// NewService returns the service provider for cfg. ActiveService,
// StableVersion and CanaryVersion are required; the versions must differ
// and PreviewService, if set, must differ from ActiveService.
func NewService(cfg Config) (*Service, error) {
	switch {
	case cfg.ActiveService == "":
		return nil, fmt.Errorf("service: activeService is required: %w", ErrInvalidConfig)
	case cfg.PreviewService == cfg.ActiveService:
		return nil, fmt.Errorf("service: previewService and activeService are both %q: %w", cfg.ActiveService, ErrInvalidConfig)
	case cfg.StableVersion == "" || cfg.CanaryVersion == "":
		return nil, fmt.Errorf("service: the stable and canary versions are required: %w", ErrInvalidConfig)
	}
	label := cfg.VersionLabel
	if label == "" {
		label = "version"
	}
	return &Service{cfg: cfg, label: label}, nil
}

// Weights implements Provider: 0 while the active Service selects the
// stable version, 100 once it selects the canary version. A third version
// in the selector is an error: birdwatch does not know what serves.
func (p *Service) Weights(doc []byte) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("service: %w", err)
	}
	sel, err := p.selector(f, p.cfg.ActiveService)
	if err != nil {
		return Weights{}, err
	}
	switch sel.value {
	case p.cfg.StableVersion:
		return Weights{Stable: 100}, nil
	case p.cfg.CanaryVersion:
		return Weights{Canary: 100}, nil
	}
	return Weights{}, &PathError{Object: sel.object, Path: sel.path, Msg: fmt.Sprintf(
		"selects %s=%s, neither the stable version %q nor the canary version %q", p.label, sel.value, p.cfg.StableVersion, p.cfg.CanaryVersion), Err: ErrInvalidWeights}
}

// SetWeights implements Provider for weights 0 and 100: the active
// Service selects the stable or the canary version; the preview Service,
// if any, selects the canary version.
func (p *Service) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("service: set weights: %w", err)
	}
	if err := SupportsWeight("service", w.Canary); err != nil {
		return nil, err
	}
	active := p.cfg.StableVersion
	if w.Canary == 100 {
		active = p.cfg.CanaryVersion
	}
	return p.point(doc, active)
}

// Promote implements Promoter: the canary version becomes the stable one,
// so both Services select it.
func (p *Service) Promote(doc []byte) ([]byte, error) {
	return p.point(doc, p.cfg.CanaryVersion)
}

// Preview implements Previewer: the preview Service, if any, selects the
// canary version; the active one stays as it is.
func (p *Service) Preview(doc []byte) ([]byte, error) {
	if p.cfg.PreviewService == "" {
		return doc, nil
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	sel, err := p.selector(f, p.cfg.ActiveService)
	if err != nil {
		return nil, err
	}
	return p.point(doc, sel.value)
}

// point sets the active Service's version to active and the preview's to
// the canary version.
func (p *Service) point(doc []byte, active string) ([]byte, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	sel, err := p.selector(f, p.cfg.ActiveService)
	if err != nil {
		return nil, err
	}
	edits := []yamledit.Edit{{Path: sel.edit, Value: active}}
	if p.cfg.PreviewService != "" {
		prev, err := p.selector(f, p.cfg.PreviewService)
		if err != nil {
			return nil, err
		}
		edits = append(edits, yamledit.Edit{Path: prev.edit, Value: p.cfg.CanaryVersion})
	}
	out, err := f.Apply(edits...)
	if err != nil {
		return nil, fmt.Errorf("service: %s: select %s=%s: %w", sel.object, p.label, active, err)
	}
	return out, nil
}

// versionSelector is a located selector value.
type versionSelector struct {
	object string
	path   string // relative to the object, for messages
	edit   string // with the document selector, for edits
	value  string
}

// selector finds spec.selector[label] of the one Service named name.
func (p *Service) selector(f *yamledit.File, name string) (versionSelector, error) {
	var found []*yamledit.Document
	services := 0
	for _, d := range f.Documents() {
		if kind, _ := scalarAt(d, "kind"); kind != "Service" {
			continue
		}
		if api, _ := scalarAt(d, "apiVersion"); api != "v1" {
			continue
		}
		services++
		if n, _ := scalarAt(d, "metadata.name"); n == name {
			found = append(found, d)
		}
	}
	switch {
	case services == 0:
		return versionSelector{}, &PathError{Msg: "no Service (apiVersion v1) in the file", Err: ErrObjectNotFound}
	case len(found) == 0:
		return versionSelector{}, &PathError{Msg: fmt.Sprintf("no Service named %q in %d Service(s)", name, services), Err: ErrRouteNotFound}
	case len(found) > 1:
		return versionSelector{}, &PathError{Msg: fmt.Sprintf("%s and %s are both named %q", objectName(found[0]), objectName(found[1]), name), Err: ErrAmbiguous}
	}
	d := found[0]
	s := versionSelector{object: objectName(d), path: "spec.selector." + escapeKey(p.label)}
	s.edit = fmt.Sprintf("{%d}%s", d.Index, s.path)
	n, err := d.Lookup(s.path)
	switch {
	case errors.Is(err, yamledit.ErrPathNotFound):
		return versionSelector{}, &PathError{Object: s.object, Path: "spec.selector", Msg: fmt.Sprintf(
			"no %s label in the selector (add %s: %s, and the label to both versions' pods)", p.label, p.label, p.cfg.StableVersion), Err: ErrMissingWeight}
	case err != nil || n.Kind != yaml.ScalarNode:
		return versionSelector{}, shapeError(s.object, s.path, "want a label value", err)
	}
	s.value = n.Value
	return s, nil
}
