package importer

import (
	"fmt"
	"path"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// roleLabel tells the stable and canary Deployments' pods apart.
const roleLabel = "birdwatch.dev/role"

// Argo imports every Argo Rollout in objs. AnalysisTemplates and
// ClusterAnalysisTemplates are looked up in objs first, then in the checkout.
func Argo(co *Checkout, objs []*Object) (*Result, error) {
	r := &Result{Files: map[string][]byte{}}
	n := 0
	for _, o := range objs {
		switch o.Kind() {
		case "Rollout":
			if err := importRollout(co, objs, o, r); err != nil {
				return nil, fmt.Errorf("%s: Rollout %s: %w", o.File, o.Name(), err)
			}
			n++
		case "AnalysisTemplate", "ClusterAnalysisTemplate":
		default:
			r.note(NoEquivalent, o.File, "%s %s is not an Argo Rollouts object; ignored", o.Kind(), o.Name())
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no Rollout (apiVersion argoproj.io/v1alpha1) in the files given")
	}
	return r, nil
}

// rollout is what the import of one Rollout works with.
type rollout struct {
	co                   *Checkout
	objs                 []*Object
	o                    *Object
	ns, name             string
	stable, canary       string // Deployment names
	stableSvc, canarySvc string
	version              string
	r                    *Result
	c                    *spec.Canary
	background           bool // background analysis runs during the steps
}

func importRollout(co *Checkout, objs []*Object, o *Object, r *Result) error {
	ro := &rollout{co: co, objs: objs, o: o, ns: o.Namespace("default"), name: o.Name(), r: r}
	ro.stable, ro.canary = ro.name+"-stable", ro.name+"-canary"
	tmpl, err := ro.podTemplate()
	if err != nil {
		return err
	}
	cname, image, err := containerImage(mapAt(tmpl, "spec"))
	if err != nil {
		return err
	}
	repo, version, ok := imageVersion(image)
	if !ok {
		return fmt.Errorf("image %q has no tag usable as a version label", image)
	}
	ro.version = version
	ro.c = newCanary(ro.name, ro.ns, ro.name, version)
	ro.c.Spec.Analysis.Judge = "threshold"
	r.note(Approximated, "spec.analysis", "judge: threshold (Argo's success and failure conditions are absolute); birdwatch's sequential judge also compares with the stable version")
	st := mapAt(o.Body, "spec", "strategy")
	dir := path.Dir(o.File)
	depFile := path.Join(dir, ro.name+"-deployments.yaml")
	var extra []string
	switch {
	case mapAt(st, "canary") != nil:
		extra, err = ro.canaryStrategy(mapAt(st, "canary"), dir)
	case mapAt(st, "blueGreen") != nil:
		err = ro.blueGreen(mapAt(st, "blueGreen"), depFile, cname)
	default:
		err = fmt.Errorf("spec.strategy: want canary or blueGreen")
	}
	if err != nil {
		return err
	}
	if err := ro.writeDeployments(tmpl, depFile); err != nil {
		return err
	}
	ro.c.Spec.Promote = append([]spec.Edit{
		{File: depFile, Path: fmt.Sprintf("{kind=Deployment,metadata.name=%s}spec.template.spec.containers[name=%s].image", ro.stable, cname), Value: repo + ":{{ .Canary }}"},
		{File: depFile, Path: fmt.Sprintf("{kind=Deployment,metadata.name=%s}spec.template.metadata.labels.version", ro.stable), Value: "{{ .Canary }}"},
	}, ro.c.Spec.Promote...)
	r.note(Approximated, "promotion", "sets the image and version label of Deployment %s to the canary's; Argo Rollouts makes the canary ReplicaSet the stable one", ro.stable)
	if len(ro.c.Spec.Analysis.Metrics) == 0 {
		return fmt.Errorf("no analysis with a Prometheus metric: birdwatch needs at least one metric to judge")
	}
	if err := co.addToKustomization(r, dir, append([]string{depFile}, extra...)...); err != nil {
		return err
	}
	r.note(NoEquivalent, "spec.replicas", "the canary Deployment runs as many replicas as the stable one; Argo scales the canary ReplicaSet with the weight")
	start := fmt.Sprintf("To roll out a version, change in one commit the image and the version label of Deployment %s (%s) and spec.canary.", ro.canary, depFile)
	return writeCanary(r, ro.c, fmt.Sprintf("Imported from Argo Rollout %s/%s (%s) by birdwatch import argo.\n%s", ro.ns, ro.name, o.File, start), o.File, "Argo Rollouts")
}

// podTemplate is the Rollout's pod template, or its workloadRef's.
func (ro *rollout) podTemplate() (map[string]any, error) {
	if t := mapAt(ro.o.Body, "spec", "template"); t != nil {
		return t, nil
	}
	ref := mapAt(ro.o.Body, "spec", "workloadRef")
	if ref == nil {
		return nil, fmt.Errorf("spec.template or spec.workloadRef: required")
	}
	d := ro.co.Find(str(ref, "kind"), ro.ns, str(ref, "name"))
	if d == nil {
		return nil, ro.co.notFound("spec.workloadRef", str(ref, "kind"), ro.ns, str(ref, "name"))
	}
	ro.r.note(Mapped, "spec.workloadRef", "pod template of %s %s (%s); delete that Deployment once birdwatch's run", d.Kind(), d.Name(), d.File)
	return mapAt(d.Body, "spec", "template"), nil
}

// writeDeployments writes the stable and canary Deployments that replace the Rollout.
func (ro *rollout) writeDeployments(tmpl map[string]any, file string) error {
	src := map[string]any{"spec": map[string]any{}}
	for k, v := range mapAt(ro.o.Body, "spec") {
		switch k {
		case "strategy", "workloadRef", "analysis", "restartAt", "progressDeadlineAbort", "rollbackWindow":
		default:
			src["spec"].(map[string]any)[k] = v
		}
	}
	src["spec"].(map[string]any)["template"] = tmpl
	if l := mapAt(ro.o.Body, "metadata", "labels"); l != nil {
		src["metadata"] = map[string]any{"labels": l}
	}
	if mapAt(ro.o.Body, "spec", "selector") == nil {
		return fmt.Errorf("spec.selector: required")
	}
	stable := copyWorkload(src, ro.stable, ro.ns, map[string]string{roleLabel: "stable"})
	canary := copyWorkload(src, ro.canary, ro.ns, map[string]string{roleLabel: "canary"})
	for _, d := range []map[string]any{stable, canary} {
		ensureMap(d, "spec", "template", "metadata", "labels")["version"] = ro.version
	}
	data, err := encodeObjects(fmt.Sprintf("The stable and canary versions of Rollout %s/%s as Deployments (Argo Rollouts keeps\nthem as ReplicaSets). Written by birdwatch import.", ro.ns, ro.name), stable, canary)
	if err != nil {
		return err
	}
	ro.r.Files[file] = data
	ro.r.note(Wrote, file, "Deployments %s and %s (pod labels %s, version)", ro.stable, ro.canary, roleLabel)
	return nil
}

// selectRole adds a selector to a Service of the checkout, as Argo does in
// the cluster with the pod template hash.
func (ro *rollout) selectRole(field, name, key, value string) error {
	if name == "" {
		return fmt.Errorf("%s: required", field)
	}
	svc := ro.co.Find("Service", ro.ns, name)
	if svc == nil {
		return ro.co.notFound(field, "Service", ro.ns, name)
	}
	err := editDocument(ro.co, ro.r, svc.File, svc.Doc, func(n *yaml.Node) error {
		setScalar(mappingValue(n, "spec"), []string{"selector"}, key, value)
		return nil
	})
	if err != nil {
		return err
	}
	ro.r.note(Mapped, field, "Service %s selects %s=%s (Argo adds the pod template hash in the cluster)", name, key, value)
	ro.r.note(Changed, svc.File, "Service %s: selector %s=%s", name, key, value)
	return nil
}

// blueGreen maps activeService/previewService: the switch is the promotion,
// which moves the active Service's version selector to the canary.
func (ro *rollout) blueGreen(bg map[string]any, depFile, cname string) error {
	cs := &ro.c.Spec
	active, preview := str(bg, "activeService"), str(bg, "previewService")
	if preview != "" {
		// What a query names the versions by: the preview Service selects the canary.
		ro.stableSvc, ro.canarySvc = active, preview
	}
	if err := ro.selectRole("spec.strategy.blueGreen.activeService", active, "version", ro.version); err != nil {
		return err
	}
	if preview != "" {
		if err := ro.selectRole("spec.strategy.blueGreen.previewService", preview, roleLabel, "canary"); err != nil {
			return err
		}
	}
	svc := ro.co.Find("Service", ro.ns, active)
	if err := editDocument(ro.co, ro.r, svc.File, svc.Doc, func(n *yaml.Node) error {
		setScalar(n, []string{"metadata", "annotations"}, "birdwatch-weight", "0")
		return nil
	}); err != nil {
		return err
	}
	cs.Traffic = spec.Traffic{Provider: "yamlpath", File: svc.File, CanaryWeightPath: fmt.Sprintf("{kind=Service,metadata.name=%s}metadata.annotations.birdwatch-weight", active)}
	ro.r.note(Approximated, "spec.strategy.blueGreen", "strategy blueGreen; the traffic switch is the promotion, which points Service %s at the canary's version; the annotation birdwatch-weight on it only records the step", active)
	cs.Promote = append(cs.Promote, spec.Edit{File: svc.File, Path: fmt.Sprintf("{kind=Service,metadata.name=%s}spec.selector.version", active), Value: "{{ .Canary }}"})
	b := &spec.BlueGreen{}
	if v, ok := dig(bg, "autoPromotionEnabled").(bool); ok && !v {
		f := false
		b.AutoPromote = &f
		ro.r.note(Mapped, "spec.strategy.blueGreen.autoPromotionEnabled", "blueGreen.autoPromote: false (wait for birdwatch promote)")
	}
	if pre := mapAt(bg, "prePromotionAnalysis"); pre != nil {
		d, err := ro.analysis("spec.strategy.blueGreen.prePromotionAnalysis", pre)
		if err != nil {
			return err
		}
		b.Iterations = max(1, int(d/cs.Analysis.Interval))
		ro.r.note(Mapped, "spec.strategy.blueGreen.prePromotionAnalysis", "analysed for %d interval(s) before the switch", b.Iterations)
	}
	cs.Strategy, cs.BlueGreen = spec.StrategyBlueGreen, b
	for _, k := range []string{"postPromotionAnalysis", "autoPromotionSeconds", "scaleDownDelaySeconds", "previewReplicaCount", "antiAffinity", "activeMetadata", "previewMetadata"} {
		if dig(bg, k) != nil {
			ro.r.note(NoEquivalent, "spec.strategy.blueGreen."+k, "ignored")
		}
	}
	return nil
}
