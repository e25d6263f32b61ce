package traffic

import (
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// YAMLPath is the "yamlpath" Provider: the canary weight is the integer
// scalar at Config.CanaryWeightPath in any YAML file, and, when
// Config.StableWeightPath is set, the stable weight is the one there; else
// the stable weight is 100 minus the canary weight. Paths use yamledit's
// syntax (see yamledit.ParsePath), so it fits Helm values
// ("canary.weight"), Kustomize patches
// ("{kind=VirtualService}spec.http[name=primary].route[destination.subset=canary].weight",
// or "[path=/spec/http/0/route/1/weight].value" in a JSON 6902 patch) and
// Argo CD Application parameters
// ("spec.source.helm.parameters[name=canary.weight].value"). A quoted value
// stays quoted. The path must exist; the provider adds no keys. A YAMLPath
// value is immutable and safe for concurrent use.
type YAMLPath struct {
	canary, stable string // stable is "" without a stable path
}

// NewYAMLPath returns the yamlpath provider for cfg. CanaryWeightPath is
// required; both paths must parse and differ.
func NewYAMLPath(cfg Config) (*YAMLPath, error) {
	if cfg.CanaryWeightPath == "" {
		return nil, fmt.Errorf("yamlpath: canaryWeightPath is required: %w", ErrInvalidConfig)
	}
	for _, p := range []string{cfg.CanaryWeightPath, cfg.StableWeightPath} {
		if p == "" {
			continue
		}
		if _, err := yamledit.ParsePath(p); err != nil {
			return nil, fmt.Errorf("yamlpath: %w: %w", ErrInvalidConfig, err)
		}
	}
	if cfg.CanaryWeightPath == cfg.StableWeightPath {
		return nil, fmt.Errorf("yamlpath: canaryWeightPath and stableWeightPath are both %q: %w", cfg.CanaryWeightPath, ErrInvalidConfig)
	}
	return &YAMLPath{canary: cfg.CanaryWeightPath, stable: cfg.StableWeightPath}, nil
}

// Weights implements Provider.
func (p *YAMLPath) Weights(doc []byte) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("yamlpath: %w", err)
	}
	c, err := valueAt(f, p.canary, true)
	if err != nil {
		return Weights{}, err
	}
	if p.stable == "" {
		return Weights{Stable: 100 - c, Canary: c}, nil
	}
	s, err := valueAt(f, p.stable, true)
	if err != nil {
		return Weights{}, err
	}
	w := Weights{Stable: s, Canary: c}
	if err := w.Validate(); err != nil {
		return Weights{}, &PathError{Path: p.canary, Msg: fmt.Sprintf("canary weight %d + stable weight %d (at %s) do not sum to 100", c, s, p.stable), Err: ErrInvalidWeights}
	}
	return w, nil
}

// SetWeights implements Provider. The current values need not be valid
// integers (SetWeights can repair them) but the paths must exist.
func (p *YAMLPath) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("yamlpath: set weights: %w", err)
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("yamlpath: %w", err)
	}
	edits := []yamledit.Edit{{Path: p.canary, Value: strconv.Itoa(w.Canary)}}
	if p.stable != "" {
		edits = append(edits, yamledit.Edit{Path: p.stable, Value: strconv.Itoa(w.Stable)})
	}
	for _, e := range edits {
		if _, err := valueAt(f, e.Path, false); err != nil {
			return nil, err
		}
	}
	out, err := f.Apply(edits...)
	if err != nil {
		return nil, fmt.Errorf("%s: set weights %s: %w", p.canary, w, err)
	}
	return out, nil
}

// valueAt reads the weight at path: the scalar in the first document where
// path resolves, as yamledit resolves it. With parse false it only checks
// that the path names one scalar.
func valueAt(f *yamledit.File, path string, parse bool) (int, error) {
	var (
		n       *yaml.Node
		obj     string
		lastErr error
	)
	for _, d := range f.Documents() {
		var err error
		if n, err = d.Lookup(path); err == nil {
			obj = objectName(d)
			break
		}
		if !errors.Is(err, yamledit.ErrPathNotFound) {
			return 0, yamlpathError(path, err)
		}
		lastErr = err
	}
	switch {
	case n == nil && lastErr == nil:
		return 0, &PathError{Path: path, Msg: "file has no YAML documents", Err: ErrMissingWeight}
	case n == nil:
		return 0, yamlpathError(path, lastErr)
	case n.Kind != yaml.ScalarNode:
		return 0, &PathError{Object: obj, Path: path, Msg: "want an integer weight, found a mapping or list", Err: ErrShape}
	case !parse:
		return 0, nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, &PathError{Object: obj, Path: path, Msg: fmt.Sprintf("weight %q is not an integer", n.Value), Err: ErrShape}
	}
	if v < 0 || v > 100 {
		return 0, &PathError{Object: obj, Path: path, Msg: fmt.Sprintf("weight %d outside 0..100", v), Err: ErrInvalidWeights}
	}
	return v, nil
}

// yamlpathError turns a yamledit lookup error into a PathError with this
// package's sentinel.
func yamlpathError(path string, err error) error {
	sentinel := ErrShape
	switch {
	case errors.Is(err, yamledit.ErrPathNotFound):
		sentinel = ErrMissingWeight
	case errors.Is(err, yamledit.ErrAmbiguous):
		sentinel = ErrAmbiguous
	}
	return &PathError{Path: path, Msg: err.Error(), Err: sentinel}
}
