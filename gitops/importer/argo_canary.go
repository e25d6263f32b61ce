package importer

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// canaryStrategy maps strategy.canary: services, traffic routing, background
// analysis and steps. It returns the files it generated.
func (ro *rollout) canaryStrategy(cn map[string]any, dir string) ([]string, error) {
	ro.stableSvc, ro.canarySvc = str(cn, "stableService"), str(cn, "canaryService")
	if err := ro.selectRole("spec.strategy.canary.stableService", ro.stableSvc, roleLabel, "stable"); err != nil {
		return nil, err
	}
	if err := ro.selectRole("spec.strategy.canary.canaryService", ro.canarySvc, roleLabel, "canary"); err != nil {
		return nil, err
	}
	files, err := ro.trafficRouting(mapAt(cn, "trafficRouting"), dir)
	if err != nil {
		return nil, err
	}
	if bg := mapAt(cn, "analysis"); bg != nil {
		if _, err := ro.analysis("spec.strategy.canary.analysis", bg); err != nil {
			return nil, err
		}
		ro.background = true
		if dig(bg, "startingStep") != nil {
			ro.r.note(Approximated, "spec.strategy.canary.analysis.startingStep", "birdwatch analyses from the first timed step")
		}
	}
	if err := ro.steps(list(cn, "steps")); err != nil {
		return nil, err
	}
	for _, k := range []string{"maxSurge", "maxUnavailable", "dynamicStableScale", "scaleDownDelaySeconds", "antiAffinity", "canaryMetadata", "stableMetadata", "abortScaleDownDelaySeconds", "minPodsPerReplicaSet"} {
		if dig(cn, k) != nil {
			ro.r.note(NoEquivalent, "spec.strategy.canary."+k, "ignored (Deployment rolling updates apply)")
		}
	}
	return files, nil
}

// trafficRouting maps the istio, smi and nginx blocks.
func (ro *rollout) trafficRouting(tr map[string]any, dir string) ([]string, error) {
	cs := &ro.c.Spec
	file := path.Join(dir, ro.name+"-traffic.yaml")
	switch {
	case tr == nil:
		return nil, fmt.Errorf("spec.strategy.canary.trafficRouting: required: birdwatch moves traffic with a router, not by scaling ReplicaSets")
	case mapAt(tr, "istio") != nil:
		return nil, ro.istio(mapAt(tr, "istio"))
	case mapAt(tr, "smi") != nil:
		smi := mapAt(tr, "smi")
		name, root := str(smi, "trafficSplitName"), str(smi, "rootService")
		if name == "" {
			name = ro.name
		}
		if root == "" {
			root = ro.stableSvc
		}
		ts := trafficSplit(name, ro.ns, root, ro.stableSvc, ro.canarySvc)
		cs.Traffic = spec.Traffic{Provider: "smi", File: file, Route: name, StableService: ro.stableSvc, CanaryService: ro.canarySvc}
		ro.r.note(Mapped, "spec.strategy.canary.trafficRouting.smi", "TrafficSplit %s (root %s)", name, root)
		return []string{file}, ro.writeObject(file, "Argo Rollouts' TrafficSplit", ts)
	case mapAt(tr, "nginx") != nil:
		ng := mapAt(tr, "nginx")
		ref := str(ng, "stableIngress")
		ing := ro.co.Find("Ingress", ro.ns, ref)
		if ing == nil {
			return nil, ro.co.notFound("spec.strategy.canary.trafficRouting.nginx.stableIngress", "Ingress", ro.ns, ref)
		}
		name := ro.name + "-" + ref + "-canary"
		cs.Traffic = spec.Traffic{Provider: "nginx", File: file, Route: name}
		ro.r.note(Mapped, "spec.strategy.canary.trafficRouting.nginx", "canary Ingress %s next to Ingress %s (%s)", name, ref, ing.File)
		if dig(ng, "additionalIngressAnnotations") != nil {
			ro.r.note(NoEquivalent, "spec.strategy.canary.trafficRouting.nginx.additionalIngressAnnotations", "ignored")
		}
		return []string{file}, ro.writeObject(file, "Argo Rollouts' canary Ingress", canaryIngress(ing.Body, name, ro.ns, ro.stableSvc, ro.canarySvc))
	case mapAt(tr, "alb") != nil:
		return nil, ro.alb(mapAt(tr, "alb"))
	}
	return nil, fmt.Errorf("spec.strategy.canary.trafficRouting: want istio, smi, nginx or alb")
}

// istio maps subset-level traffic splitting: the DestinationRule's subsets
// select the role label the Deployments carry.
func (ro *rollout) istio(is map[string]any) error {
	vsName := str(is, "virtualService", "name")
	routes := list(is, "virtualService", "routes")
	if vsName == "" {
		vss := maps(is, "virtualServices")
		if len(vss) == 0 {
			return fmt.Errorf("spec.strategy.canary.trafficRouting.istio.virtualService: required")
		}
		if len(vss) > 1 {
			ro.r.note(Approximated, "spec.strategy.canary.trafficRouting.istio.virtualServices", "only the first, %s, is weighted", str(vss[0], "name"))
		}
		vsName, routes = str(vss[0], "name"), list(vss[0], "routes")
	}
	vs := ro.co.Find("VirtualService", ro.ns, vsName)
	if vs == nil {
		return ro.co.notFound("spec.strategy.canary.trafficRouting.istio.virtualService", "VirtualService", ro.ns, vsName)
	}
	dr := mapAt(is, "destinationRule")
	if dr == nil {
		return ro.istioByHost(vs, vsName, routes)
	}
	drObj := ro.co.Find("DestinationRule", ro.ns, str(dr, "name"))
	if drObj == nil {
		return ro.co.notFound("spec.strategy.canary.trafficRouting.istio.destinationRule", "DestinationRule", ro.ns, str(dr, "name"))
	}
	stable, canary := str(dr, "stableSubsetName"), str(dr, "canarySubsetName")
	err := editDocument(ro.co, ro.r, drObj.File, drObj.Doc, func(n *yaml.Node) error {
		found := 0
		for _, s := range mappingValue(mappingValue(n, "spec"), "subsets").Content {
			name := mappingValue(s, "name")
			if name == nil || (name.Value != stable && name.Value != canary) {
				continue
			}
			role := "stable"
			if name.Value == canary {
				role = "canary"
			}
			setScalar(s, []string{"labels"}, roleLabel, role)
			found++
		}
		if found != 2 {
			return fmt.Errorf("DestinationRule %s: want subsets %s and %s", str(dr, "name"), stable, canary)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ro.r.note(Changed, drObj.File, "DestinationRule %s: subsets %s and %s select %s (Argo adds the pod template hash in the cluster)", str(dr, "name"), stable, canary, roleLabel)
	t := spec.Traffic{Provider: "istio", File: vs.File, StableSubset: stable, CanarySubset: canary}
	if len(routes) > 0 {
		t.Route = fmt.Sprint(routes[0])
		if len(routes) > 1 {
			ro.r.note(Approximated, "spec.strategy.canary.trafficRouting.istio.virtualService.routes", "only route %s is weighted", t.Route)
		}
	}
	ro.c.Spec.Traffic = t
	ro.r.note(Mapped, "spec.strategy.canary.trafficRouting.istio", "VirtualService %s (%s), subsets %s/%s", vsName, vs.File, stable, canary)
	return nil
}

func (ro *rollout) writeObject(file, what string, obj map[string]any) error {
	data, err := encodeObjects(fmt.Sprintf("%s for %s/%s. Written by birdwatch import; birdwatch edits the weights.", what, ro.ns, ro.name), obj)
	if err != nil {
		return err
	}
	ro.r.Files[file] = data
	ro.r.note(Wrote, file, "%s %s", obj["kind"], str(obj, "metadata", "name"))
	return nil
}

// steps maps the canary steps.
func (ro *rollout) steps(steps []any) error {
	cs := &ro.c.Spec
	for i, v := range steps {
		st, _ := v.(map[string]any)
		f := fmt.Sprintf("spec.strategy.canary.steps[%d]", i)
		switch {
		case dig(st, "setWeight") != nil:
			w, ok := number(st, "setWeight")
			if !ok {
				return fmt.Errorf("%s.setWeight: want a number", f)
			}
			iw := int(w)
			cs.Steps = append(cs.Steps, spec.Step{SetWeight: &iw})
		case dig(st, "pause") != nil || hasKey(st, "pause"):
			p := mapAt(st, "pause")
			if dig(p, "duration") == nil {
				cs.Steps = append(cs.Steps, spec.Step{Pause: &spec.Pause{}})
				continue
			}
			d, err := parseDuration(dig(p, "duration"))
			if err != nil {
				return fmt.Errorf("%s.pause.duration: %w", f, err)
			}
			if ro.background {
				cs.Steps = append(cs.Steps, spec.Step{Analyze: &d})
				ro.r.note(Mapped, f, "pause %v with background analysis is analyze: %s", dig(p, "duration"), d)
			} else {
				cs.Steps = append(cs.Steps, spec.Step{Pause: &spec.Pause{Duration: &d}})
				ro.r.note(Mapped, f, "pause {duration: %v} is pause {duration: %s}", dig(p, "duration"), d)
			}
		case mapAt(st, "analysis") != nil:
			d, err := ro.analysis(f+".analysis", mapAt(st, "analysis"))
			if err != nil {
				return err
			}
			cs.Steps = append(cs.Steps, spec.Step{Analyze: &d})
			ro.r.note(Approximated, f+".analysis", "analyze: %s (every metric of the canary is judged at each look)", d)
		case mapAt(st, "setHeaderRoute") != nil:
			h := mapAt(st, "setHeaderRoute")
			hr := &spec.HeaderRoute{Name: str(h, "name")}
			for _, m := range maps(h, "match") {
				hv := mapAt(m, "headerValue")
				hr.Match = append(hr.Match, spec.Match{Header: str(m, "headerName"), Exact: str(hv, "exact"), Prefix: str(hv, "prefix"), Regex: str(hv, "regex")})
			}
			cs.Steps = append(cs.Steps, spec.Step{SetHeaderRoute: hr})
		case mapAt(st, "setMirrorRoute") != nil:
			m := mapAt(st, "setMirrorRoute")
			p, _ := number(m, "percentage")
			if p == 0 && len(maps(m, "match")) > 0 {
				p = 100
			}
			cs.Steps = append(cs.Steps, spec.Step{SetMirrorRoute: &spec.MirrorRoute{Name: str(m, "name"), Percentage: p}})
			if len(maps(m, "match")) > 0 {
				ro.r.note(Approximated, f+".setMirrorRoute.match", "birdwatch mirrors a share of all requests of the route")
			}
		default:
			ro.r.note(NoEquivalent, f, "%v", keysOf(st))
		}
	}
	if len(cs.Steps) == 0 {
		w := 100
		cs.Steps = []spec.Step{{SetWeight: &w}}
	}
	ro.r.note(Mapped, "spec.strategy.canary.steps", "%d step(s)", len(cs.Steps))
	return nil
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// istioByHost maps host-level splitting (no destinationRule): the
// VirtualService's route has one destination per Service, and birdwatch's
// istio provider weighs them by host (stableService, canaryService) as the
// VirtualService writes the hosts (short or fully qualified).
func (ro *rollout) istioByHost(vs *Object, vsName string, routes []any) error {
	stable, canary := vsHost(vs.Body, ro.stableSvc), vsHost(vs.Body, ro.canarySvc)
	if stable == "" || canary == "" {
		return fmt.Errorf("spec.strategy.canary.trafficRouting.istio: VirtualService %s (%s) has no route destination for both services %s and %s", vsName, vs.File, ro.stableSvc, ro.canarySvc)
	}
	t := spec.Traffic{Provider: "istio", File: vs.File, StableService: stable, CanaryService: canary}
	if len(routes) > 0 {
		t.Route = fmt.Sprint(routes[0])
		if len(routes) > 1 {
			ro.r.note(Approximated, "spec.strategy.canary.trafficRouting.istio.virtualService.routes", "only route %s is weighted", t.Route)
		}
	}
	ro.c.Spec.Traffic = t
	ro.r.note(Mapped, "spec.strategy.canary.trafficRouting.istio", "VirtualService %s (%s), split by host: stableService %s, canaryService %s", vsName, vs.File, stable, canary)
	return nil
}

// vsHost is the destination host of a VirtualService's HTTP routes that
// names service svc (svc itself, or svc.namespace...), or "".
func vsHost(vs map[string]any, svc string) string {
	for _, h := range maps(mapAt(vs, "spec"), "http") {
		for _, d := range maps(h, "route") {
			host := str(d, "destination", "host")
			if host == svc || strings.HasPrefix(host, svc+".") {
				return host
			}
		}
	}
	return ""
}

// alb maps the AWS Load Balancer Controller's routing: the Ingress path
// whose backend is the root (or stable) Service with port use-annotation
// gets the forward action annotation Argo Rollouts writes in the cluster,
// alb.ingress.kubernetes.io/actions.<that service>, with the stable
// Service at weight 100; birdwatch's alb provider edits its weights.
func (ro *rollout) alb(alb map[string]any) error {
	const field = "spec.strategy.canary.trafficRouting.alb"
	name := str(alb, "ingress")
	if name == "" {
		if ings := list(alb, "ingresses"); len(ings) > 0 {
			name = fmt.Sprint(ings[0])
			if len(ings) > 1 {
				ro.r.note(Approximated, field+".ingresses", "only the first, %s, is weighted", name)
			}
		}
	}
	ing := ro.co.Find("Ingress", ro.ns, name)
	if ing == nil {
		return ro.co.notFound(field+".ingress", "Ingress", ro.ns, name)
	}
	action := str(alb, "rootService")
	if action == "" {
		action = ro.stableSvc
	}
	port := "80"
	if v := dig(alb, "servicePort"); v != nil {
		port = fmt.Sprint(v)
	}
	groups := []map[string]any{
		{"serviceName": ro.stableSvc, "servicePort": port, "weight": 100},
		{"serviceName": ro.canarySvc, "servicePort": port, "weight": 0},
	}
	js, err := json.Marshal(map[string]any{"type": "forward", "forwardConfig": map[string]any{"targetGroups": groups}})
	if err != nil {
		return err
	}
	key := "alb.ingress.kubernetes.io/actions." + action
	err = editDocument(ro.co, ro.r, ing.File, ing.Doc, func(n *yaml.Node) error {
		setScalar(n, []string{"metadata", "annotations"}, key, string(js))
		return nil
	})
	if err != nil {
		return err
	}
	ro.r.note(Changed, ing.File, "Ingress %s: annotation %s, a forward action to %s (weight 100) and %s (weight 0), as Argo Rollouts writes it in the cluster", name, key, ro.stableSvc, ro.canarySvc)
	ro.c.Spec.Traffic = spec.Traffic{Provider: "alb", File: ing.File, Route: action, StableService: ro.stableSvc, CanaryService: ro.canarySvc}
	ro.r.note(Mapped, field, "provider alb: Ingress %s (%s), action %s", name, ing.File, action)
	for _, k := range []string{"annotationPrefix", "stickinessConfig"} {
		if dig(alb, k) != nil {
			ro.r.note(NoEquivalent, field+"."+k, "ignored")
		}
	}
	return nil
}
