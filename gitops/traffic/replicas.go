package traffic

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Replicas is the "replicas" Provider: no router at all (Argo Rollouts'
// basic canary). The canary's share of traffic is its share of the pods
// behind one Service, so SetWeights scales two workloads: the Deployments
// named Config.StableDeployment and Config.CanaryDeployment in the file
// (spec.replicas), or, for Helm values and Kustomize replica lists, the
// integers at Config.StableReplicasPath and Config.CanaryReplicasPath.
//
// The total is Config.TotalReplicas, or else the sum of the two counts in
// the file, which at the start of a rollout is the stable's replicas (the
// canary has none). Weight N gives the canary round(total*N/100) pods,
// rounding halves up, but at least one pod for any weight above 0 and at
// most total-1 for any weight below 100, so both versions serve until the
// switch; the stable gets the rest. Weights reads the pod share back,
// rounded to a percentage. A split that needs both and has one pod in
// total is an error wrapping ErrUnsupported. Approximate says what a
// weight becomes, for the status. Promotion and rollback are weight 0: the
// stable gets every pod, the canary none; spec.promote sets the stable's
// version. The replica keys must exist; Replicas adds none. A Replicas
// value is immutable and safe for concurrent use.
type Replicas struct {
	cfg Config
}

// NewReplicas returns the replicas provider for cfg: either both
// deployment names or both replica paths, the two different, and a
// TotalReplicas that is not negative.
func NewReplicas(cfg Config) (*Replicas, error) {
	names := cfg.StableDeployment != "" || cfg.CanaryDeployment != ""
	paths := cfg.StableReplicasPath != "" || cfg.CanaryReplicasPath != ""
	switch {
	case names && paths:
		return nil, fmt.Errorf("replicas: set stableDeployment and canaryDeployment, or stableReplicasPath and canaryReplicasPath, not both: %w", ErrInvalidConfig)
	case names && (cfg.StableDeployment == "" || cfg.CanaryDeployment == ""):
		return nil, fmt.Errorf("replicas: stableDeployment and canaryDeployment are both required: %w", ErrInvalidConfig)
	case paths && (cfg.StableReplicasPath == "" || cfg.CanaryReplicasPath == ""):
		return nil, fmt.Errorf("replicas: stableReplicasPath and canaryReplicasPath are both required: %w", ErrInvalidConfig)
	case !names && !paths:
		return nil, fmt.Errorf("replicas: stableDeployment and canaryDeployment (or stableReplicasPath and canaryReplicasPath) are required: %w", ErrInvalidConfig)
	case names && cfg.StableDeployment == cfg.CanaryDeployment:
		return nil, fmt.Errorf("replicas: stableDeployment and canaryDeployment are both %q: %w", cfg.StableDeployment, ErrInvalidConfig)
	case paths && cfg.StableReplicasPath == cfg.CanaryReplicasPath:
		return nil, fmt.Errorf("replicas: stableReplicasPath and canaryReplicasPath are both %q: %w", cfg.StableReplicasPath, ErrInvalidConfig)
	case cfg.TotalReplicas < 0:
		return nil, fmt.Errorf("replicas: totalReplicas %d is negative: %w", cfg.TotalReplicas, ErrInvalidConfig)
	}
	for _, p := range []string{cfg.StableReplicasPath, cfg.CanaryReplicasPath} {
		if _, err := yamledit.ParsePath(p); p != "" && err != nil {
			return nil, fmt.Errorf("replicas: %w: %w", ErrInvalidConfig, err)
		}
	}
	return &Replicas{cfg: cfg}, nil
}

// counts are the two replica counts and where they are.
type counts struct {
	stable, canary         int
	stablePath, canaryPath string // yamledit paths, with a document selector
}

// Weights implements Provider: the canary's share of the pods, rounded to
// the nearest percent.
func (p *Replicas) Weights(doc []byte) (Weights, error) {
	c, err := p.read(doc)
	if err != nil {
		return Weights{}, err
	}
	total := c.stable + c.canary
	if total == 0 {
		return Weights{}, &PathError{Path: c.stablePath, Msg: "stable and canary both have 0 replicas: no pods to share traffic", Err: ErrInvalidWeights}
	}
	canary := int(math.Floor(float64(100*c.canary)/float64(total) + 0.5))
	return Weights{Stable: 100 - canary, Canary: canary}, nil
}

// SetWeights implements Provider: it scales the two workloads so that the
// canary's share of the total approximates w (see Replicas).
func (p *Replicas) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("replicas: set weights: %w", err)
	}
	c, err := p.read(doc)
	if err != nil {
		return nil, err
	}
	stable, canary, err := p.split(c, w)
	if err != nil {
		return nil, err
	}
	out, err := yamledit.Apply(doc,
		yamledit.Edit{Path: c.stablePath, Value: strconv.Itoa(stable)},
		yamledit.Edit{Path: c.canaryPath, Value: strconv.Itoa(canary)})
	if err != nil {
		return nil, fmt.Errorf("replicas: set %d stable and %d canary replicas: %w", stable, canary, err)
	}
	return out, nil
}

// Approximate returns the split SetWeights(doc, w) writes, as a share of
// pods, and a note for the status when it differs from w: "weight 10 is 1
// of 3 pods (33%)".
func (p *Replicas) Approximate(doc []byte, w Weights) (Weights, string, error) {
	if err := w.Validate(); err != nil {
		return Weights{}, "", fmt.Errorf("replicas: %w", err)
	}
	c, err := p.read(doc)
	if err != nil {
		return Weights{}, "", err
	}
	stable, canary, err := p.split(c, w)
	if err != nil {
		return Weights{}, "", err
	}
	total := stable + canary
	share := int(math.Floor(float64(100*canary)/float64(total) + 0.5))
	got := Weights{Stable: 100 - share, Canary: share}
	if float64(canary) == float64(total)*float64(w.Canary)/100 {
		return got, "", nil
	}
	return got, fmt.Sprintf("weight %d is %d of %d pods (%d%%): replicas round to the nearest pod, at least one each for both versions below weight 100",
		w.Canary, canary, total, share), nil
}

// split computes the stable and canary replicas for w.
func (p *Replicas) split(c counts, w Weights) (stable, canary int, err error) {
	total := p.cfg.TotalReplicas
	if total == 0 {
		total = c.stable + c.canary
	}
	if total == 0 {
		return 0, 0, &PathError{Path: c.stablePath, Msg: "stable and canary both have 0 replicas and totalReplicas is not set: no pods to split", Err: ErrInvalidWeights}
	}
	canary = int(math.Floor(float64(total*w.Canary)/100 + 0.5))
	if w.Canary > 0 && w.Canary < 100 {
		if total < 2 {
			return 0, 0, fmt.Errorf("replicas: 1 pod cannot be split at weight %d (both versions need one); set totalReplicas to 2 or more: %w", w.Canary, ErrUnsupported)
		}
		canary = min(max(canary, 1), total-1)
	}
	return total - canary, canary, nil
}

// read finds the two replica counts.
func (p *Replicas) read(doc []byte) (counts, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return counts{}, fmt.Errorf("replicas: %w", err)
	}
	var c counts
	if p.cfg.StableReplicasPath != "" {
		c.stablePath, c.canaryPath = p.cfg.StableReplicasPath, p.cfg.CanaryReplicasPath
		if c.stable, err = replicaAt(f, c.stablePath); err != nil {
			return counts{}, err
		}
		if c.canary, err = replicaAt(f, c.canaryPath); err != nil {
			return counts{}, err
		}
		return c, nil
	}
	if c.stablePath, err = deploymentReplicas(f, p.cfg.StableDeployment); err != nil {
		return counts{}, err
	}
	if c.canaryPath, err = deploymentReplicas(f, p.cfg.CanaryDeployment); err != nil {
		return counts{}, err
	}
	if c.stable, err = replicaAt(f, c.stablePath); err != nil {
		return counts{}, err
	}
	if c.canary, err = replicaAt(f, c.canaryPath); err != nil {
		return counts{}, err
	}
	return c, nil
}

// deploymentReplicas returns the path of spec.replicas of the one
// Deployment named name in f, with its document selector.
func deploymentReplicas(f *yamledit.File, name string) (string, error) {
	var found []*yamledit.Document
	deployments := 0
	for _, d := range f.Documents() {
		if !isKind(d, "apps/", "Deployment") {
			continue
		}
		deployments++
		if n, _ := scalarAt(d, "metadata.name"); n == name {
			found = append(found, d)
		}
	}
	switch {
	case deployments == 0:
		return "", &PathError{Msg: "no Deployment (apiVersion apps/*) in the file", Err: ErrObjectNotFound}
	case len(found) == 0:
		return "", &PathError{Msg: fmt.Sprintf("no Deployment named %q in %d Deployment(s)", name, deployments), Err: ErrDestinationNotFound}
	case len(found) > 1:
		return "", &PathError{Msg: fmt.Sprintf("%s and %s are both named %q", objectName(found[0]), objectName(found[1]), name), Err: ErrAmbiguous}
	}
	d := found[0]
	if _, err := d.Lookup("spec.replicas"); errors.Is(err, yamledit.ErrPathNotFound) {
		return "", &PathError{Object: objectName(d), Path: "spec.replicas", Msg: "no replicas (add \"replicas: 0\"; Kubernetes' default of 1 is not written in the file)", Err: ErrMissingWeight}
	}
	return fmt.Sprintf("{%d}spec.replicas", d.Index), nil
}

// replicaAt reads the replica count at path: a non-negative integer.
func replicaAt(f *yamledit.File, path string) (int, error) {
	n, err := lookupFirst(f, path)
	if err != nil {
		return 0, err
	}
	if n.Kind != yaml.ScalarNode {
		return 0, &PathError{Path: path, Msg: "want a replica count, found a mapping or list", Err: ErrShape}
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 0 {
		return 0, &PathError{Path: path, Msg: fmt.Sprintf("replicas %q is not a non-negative integer", n.Value), Err: ErrShape}
	}
	return v, nil
}

// lookupFirst resolves path in the first document where it resolves.
func lookupFirst(f *yamledit.File, path string) (*yaml.Node, error) {
	var lastErr error = &PathError{Path: path, Msg: "file has no YAML documents", Err: ErrMissingWeight}
	for _, d := range f.Documents() {
		n, err := d.Lookup(path)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, yamledit.ErrPathNotFound) {
			return nil, yamlpathError(path, err)
		}
		lastErr = yamlpathError(path, err)
	}
	return nil, lastErr
}
