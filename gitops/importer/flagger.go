package importer

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Flagger imports every Flagger Canary in objs. MetricTemplates and
// AlertProviders are looked up in objs first, then in the checkout.
func Flagger(co *Checkout, objs []*Object) (*Result, error) {
	r := &Result{Files: map[string][]byte{}}
	n := 0
	for _, o := range objs {
		switch {
		case o.Kind() == "Canary" && strings.HasPrefix(o.APIVersion(), "flagger.app/"):
			if err := importFlaggerCanary(co, objs, o, r); err != nil {
				return nil, fmt.Errorf("%s: Canary %s: %w", o.File, o.Name(), err)
			}
			n++
		case o.Kind() == "MetricTemplate" || o.Kind() == "AlertProvider":
			// imported with the Canary that refers to it
		default:
			r.note(NoEquivalent, o.File, "%s %s is not a Flagger object; ignored", o.Kind(), o.Name())
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no Flagger Canary (apiVersion flagger.app/*) in the files given")
	}
	return r, nil
}

// flaggerNames are the objects Flagger generates for a canary.
type flaggerNames struct {
	ns, target, service, primary, canarySvc, primarySvc string
	labelKey, labelValue                                string
}

func importFlaggerCanary(co *Checkout, objs []*Object, o *Object, r *Result) error {
	sp := mapAt(o.Body, "spec")
	ns := o.Namespace("default")
	mesh, err := flaggerMesh(sp, r)
	if err != nil {
		return err
	}
	if k := str(sp, "targetRef", "kind"); k != "Deployment" {
		return fmt.Errorf("spec.targetRef.kind %q: birdwatch imports Deployments only", k)
	}
	dep := co.Find("Deployment", ns, str(sp, "targetRef", "name"))
	if dep == nil {
		return co.notFound("spec.targetRef", "Deployment", ns, str(sp, "targetRef", "name"))
	}
	key, val, err := selectorLabel(dep.Body)
	if err != nil {
		return err
	}
	nm := flaggerNames{ns: ns, target: dep.Name(), labelKey: key, labelValue: val}
	nm.service = str(sp, "service", "name")
	if nm.service == "" {
		nm.service = dep.Name()
	}
	nm.primary, nm.primarySvc, nm.canarySvc = dep.Name()+"-primary", nm.service+"-primary", nm.service+"-canary"
	cname, image, err := containerImage(mapAt(dep.Body, "spec", "template", "spec"))
	if err != nil {
		return err
	}
	repo, version, ok := imageVersion(image)
	if !ok {
		return fmt.Errorf("target Deployment %s: image %q has no tag usable as a version label", dep.Name(), image)
	}
	r.note(Mapped, "spec.targetRef", "Deployment %s (%s) is the canary workload; its image tag %s is spec.stable and spec.canary", dep.Name(), dep.File, version)

	c := newCanary(o.Name(), ns, nm.service, version)
	c.Spec.Analysis.Judge = "threshold"
	r.note(Approximated, "spec.analysis", "judge: threshold (Flagger's absolute limits); birdwatch's sequential judge also compares with the primary")
	dir := path.Dir(dep.File)
	genFile := path.Join(dir, o.Name()+"-primary.yaml")
	trafficFile := path.Join(dir, o.Name()+"-traffic.yaml")
	if err := flaggerWorkloads(co, o, dep, nm, mesh, genFile, r); err != nil {
		return err
	}
	if err := flaggerTraffic(co, sp, nm, mesh, trafficFile, &c.Spec, r); err != nil {
		return err
	}
	if err := flaggerAnalysis(co, objs, sp, nm, mesh, &c.Spec, r); err != nil {
		return err
	}
	if c.Spec.ABTesting != nil && (mesh == "contour" || mesh == "traefik" || mesh == "apisix") {
		return fmt.Errorf("spec.analysis.match: birdwatch's %s provider splits by weight only (no header routes); use iterations without match for blue/green, or the gatewayapi provider", mesh)
	}
	c.Spec.Promote = []spec.Edit{{
		File:  genFile,
		Path:  fmt.Sprintf("{kind=Deployment,metadata.name=%s}spec.template.spec.containers[name=%s].image", nm.primary, cname),
		Value: repo + ":{{ .Canary }}",
	}}
	r.note(Approximated, "promotion", "sets the image of Deployment %s to the canary's; Flagger copies the whole pod template (env, ConfigMaps, Secrets)", nm.primary)
	flaggerRest(co, objs, o, sp, &c.Spec, r)
	if err := co.addToKustomization(r, dir, genFile, trafficFile); err != nil {
		return err
	}
	start := fmt.Sprintf("To roll out a version, change in one commit the image of Deployment %s (%s) and spec.canary to its tag.", dep.Name(), dep.File)
	return writeCanary(r, c, fmt.Sprintf("Imported from Flagger Canary %s/%s (%s) by birdwatch import flagger.\n%s", ns, o.Name(), o.File, start), o.File, "Flagger")
}

// flaggerMesh maps spec.provider to birdwatch's traffic provider family.
func flaggerMesh(sp map[string]any, r *Result) (string, error) {
	p := str(sp, "provider")
	if p == "" {
		r.note(Approximated, "spec.provider", "not set: Flagger uses its -mesh-provider flag; assumed istio")
		p = "istio"
	}
	base, _, _ := strings.Cut(p, ":")
	switch base {
	case "istio", "nginx", "gatewayapi", "linkerd", "smi", "contour", "traefik", "apisix":
		r.note(Mapped, "spec.provider", "%s", p)
		return base, nil
	}
	return "", fmt.Errorf("spec.provider %q: the import maps istio, linkerd, smi, nginx, gatewayapi, contour, traefik and apisix", p)
}

// flaggerWorkloads writes the primary Deployment, its HPA and the three
// Services Flagger generates.
func flaggerWorkloads(co *Checkout, o, dep *Object, nm flaggerNames, mesh, file string, r *Result) error {
	sp := mapAt(o.Body, "spec")
	primaryLabels := map[string]string{nm.labelKey: nm.labelValue + "-primary"}
	apexSelector := primaryLabels
	if mesh == "istio" {
		// The istio Service must hold both versions' pods: its
		// DestinationRule subsets tell them apart.
		const shared = "birdwatch.dev/service"
		primaryLabels = map[string]string{nm.labelKey: nm.labelValue + "-primary", shared: nm.service}
		apexSelector = map[string]string{shared: nm.service}
		if err := editDocument(co, r, dep.File, dep.Doc, func(n *yaml.Node) error {
			setScalar(mappingValue(n, "spec"), []string{"template", "metadata", "labels"}, shared, nm.service)
			return nil
		}); err != nil {
			return err
		}
		r.note(Changed, dep.File, "Deployment %s: pod label %s=%s, so that Service %s selects both versions", dep.Name(), shared, nm.service, nm.service)
	}
	objs := []map[string]any{copyWorkload(dep.Body, nm.primary, nm.ns, primaryLabels)}
	if ref := str(sp, "autoscalerRef", "name"); ref != "" {
		hpa := co.Find(str(sp, "autoscalerRef", "kind"), nm.ns, ref)
		if hpa == nil {
			return co.notFound("spec.autoscalerRef", str(sp, "autoscalerRef", "kind"), nm.ns, ref)
		}
		objs = append(objs, copyHPA(hpa.Body, nm.primary, nm.ns, nm.primary))
		r.note(Mapped, "spec.autoscalerRef", "%s %s copied for %s", hpa.Kind(), ref, nm.primary)
	}
	ports, err := flaggerPorts(mapAt(sp, "service"))
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		sel  map[string]string
	}{{nm.service, apexSelector}, {nm.primarySvc, primaryLabels}, {nm.canarySvc, map[string]string{nm.labelKey: nm.labelValue}}} {
		if old := co.Find("Service", nm.ns, s.name); old != nil {
			return fmt.Errorf("a Service %s already exists in %s; Flagger generates it: delete it and import again", s.name, old.File)
		}
		objs = append(objs, service(s.name, nm.ns, s.sel, ports))
	}
	r.note(Mapped, "spec.service.port", "Services %s, %s, %s", nm.service, nm.primarySvc, nm.canarySvc)
	data, err := encodeObjects(fmt.Sprintf("What Flagger generates in the cluster for Canary %s/%s: the primary\nDeployment (the stable version), its autoscaler and the Services. Written by birdwatch import.", nm.ns, o.Name()), objs...)
	if err != nil {
		return err
	}
	r.Files[file] = data
	r.note(Wrote, file, "Deployment %s, Services", nm.primary)
	return nil
}

// flaggerPorts is the port list of Flagger's generated Services.
func flaggerPorts(svc map[string]any) ([]any, error) {
	port, ok := number(svc, "port")
	if !ok {
		return nil, fmt.Errorf("spec.service.port: required")
	}
	target := dig(svc, "targetPort")
	if target == nil {
		target = int(port)
	}
	name := str(svc, "portName")
	if name == "" {
		name = "http"
	}
	return []any{map[string]any{"name": name, "port": int(port), "targetPort": target, "protocol": "TCP"}}, nil
}

// flaggerTraffic writes the routing object and fills spec.traffic.
func flaggerTraffic(co *Checkout, sp map[string]any, nm flaggerNames, mesh, file string, cs *spec.CanarySpec, r *Result) error {
	svc := mapAt(sp, "service")
	var obj map[string]any
	switch mesh {
	case "istio":
		// Like Flagger: the Service's own name is always a host, and the
		// mesh gateway is added to named gateways.
		hosts := append([]any{nm.service}, list(svc, "hosts")...)
		gateways := list(svc, "gateways")
		if len(gateways) > 0 && !slices.Contains(gateways, any("mesh")) {
			gateways = append(gateways, "mesh")
		}
		route := map[string]any{}
		for _, k := range []string{"retries", "timeout", "headers", "corsPolicy", "rewrite"} {
			if v := dig(svc, k); v != nil {
				route[k] = v
				r.note(Mapped, "spec.service."+k, "on the VirtualService route")
			}
		}
		obj = virtualService(nm.service, nm.ns, hosts, gateways, nm.service, "primary", "canary", route)
		dr := destinationRule(nm.service, nm.ns, nm.service, mapAt(svc, "trafficPolicy"),
			subset{"primary", map[string]string{nm.labelKey: nm.labelValue + "-primary"}},
			subset{"canary", map[string]string{nm.labelKey: nm.labelValue}})
		data, err := encodeObjects("Flagger's VirtualService and DestinationRule (a subset per version). Written by birdwatch import;\nbirdwatch edits the two weights.", obj, dr)
		if err != nil {
			return err
		}
		r.Files[file] = data
		cs.Traffic = spec.Traffic{Provider: "istio", File: file, Route: "primary", StableSubset: "primary", CanarySubset: "canary"}
		r.note(Wrote, file, "VirtualService %s (route primary), DestinationRule %s (subsets primary, canary)", nm.service, nm.service)
		return nil
	case "linkerd", "smi":
		obj = trafficSplit(nm.service, nm.ns, nm.service, nm.primarySvc, nm.canarySvc)
		cs.Traffic = spec.Traffic{Provider: "smi", File: file, Route: nm.service, StableService: nm.primarySvc, CanaryService: nm.canarySvc}
	case "gatewayapi":
		if len(list(svc, "gatewayRefs")) == 0 {
			return fmt.Errorf("spec.service.gatewayRefs: required for the gatewayapi provider")
		}
		port, _ := number(svc, "port")
		obj = httpRoute(nm.service, nm.ns, list(svc, "gatewayRefs"), list(svc, "hosts"), nm.primarySvc, nm.canarySvc, int(port))
		cs.Traffic = spec.Traffic{Provider: "gatewayapi", File: file, Route: nm.service, StableService: nm.primarySvc, CanaryService: nm.canarySvc}
	case "contour":
		port, _ := number(svc, "port")
		obj = httpProxy(nm.service, nm.ns, nm.primarySvc, nm.canarySvc, int(port), svc, r)
		cs.Traffic = spec.Traffic{Provider: "contour", File: file, Route: nm.service, StableService: nm.primarySvc, CanaryService: nm.canarySvc}
	case "traefik":
		port, _ := number(svc, "port")
		obj = traefikService(nm.service, nm.ns, nm.primarySvc, nm.canarySvc, int(port))
		cs.Traffic = spec.Traffic{Provider: "traefik", File: file, Route: nm.service, StableService: nm.primarySvc, CanaryService: nm.canarySvc}
	case "apisix":
		var err error
		if obj, err = apisixCanaryRoute(co, sp, nm, r); err != nil {
			return err
		}
		rule := str(maps(obj, "spec", "http")[0], "name")
		cs.Traffic = spec.Traffic{Provider: "apisix", File: file, Route: rule, StableService: nm.primarySvc, CanaryService: nm.canarySvc}
	case "nginx":
		ref := str(sp, "ingressRef", "name")
		ing := co.Find("Ingress", nm.ns, ref)
		if ing == nil {
			return co.notFound("spec.ingressRef", "Ingress", nm.ns, ref)
		}
		if !slices.Contains(ingressServices(ing.Body), nm.service) {
			return fmt.Errorf("spec.ingressRef: Ingress %s (%s) does not route to Service %s", ref, ing.File, nm.service)
		}
		obj = canaryIngress(ing.Body, ref+"-canary", nm.ns, nm.service, nm.canarySvc)
		cs.Traffic = spec.Traffic{Provider: "nginx", File: file, Route: ref + "-canary"}
		r.note(Mapped, "spec.ingressRef", "Ingress %s (%s) stays the main Ingress", ref, ing.File)
	}
	data, err := encodeObjects(fmt.Sprintf("Flagger's %s for %s/%s. Written by birdwatch import; birdwatch edits the weights.", obj["kind"], nm.ns, nm.service), obj)
	if err != nil {
		return err
	}
	r.Files[file] = data
	r.note(Wrote, file, "%s %s", obj["kind"], str(obj, "metadata", "name"))
	return nil
}

// newCanary is a Canary at rest: the stable version is the canary.
func newCanary(name, ns, service, version string) *spec.Canary {
	c := &spec.Canary{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: name, Namespace: ns}}
	if service != name {
		c.Spec.Service = service
	}
	c.Spec.Stable, c.Spec.Canary = version, version
	c.Spec.Sync = spec.SyncSpec{Engine: "none", ApplyDelay: spec.Duration(30 * time.Second)}
	return c
}

// apisixCanaryRoute is the ApisixRoute Flagger generates from spec.routeRef:
// a copy named NAME-canary whose one HTTP rule has priority 10000 and two
// weighted backends, the primary and the canary Service.
func apisixCanaryRoute(co *Checkout, sp map[string]any, nm flaggerNames, r *Result) (map[string]any, error) {
	ref := str(sp, "routeRef", "name")
	ar := co.Find("ApisixRoute", nm.ns, ref)
	if ar == nil {
		return nil, co.notFound("spec.routeRef", "ApisixRoute", nm.ns, ref)
	}
	http := maps(ar.Body, "spec", "http")
	if len(http) != 1 || len(maps(http[0], "backends")) == 0 {
		return nil, fmt.Errorf("spec.routeRef: ApisixRoute %s (%s) must have one http rule with a backend, as Flagger requires", ref, ar.File)
	}
	rule := deepCopy(http[0]).(map[string]any)
	if str(rule, "name") == "" {
		return nil, fmt.Errorf("spec.routeRef: ApisixRoute %s (%s): the http rule has no name", ref, ar.File)
	}
	first := maps(rule, "backends")[0]
	rule["priority"] = 10000
	rule["backends"] = []any{
		map[string]any{"serviceName": nm.primarySvc, "servicePort": first["servicePort"], "weight": 100},
		map[string]any{"serviceName": nm.canarySvc, "servicePort": first["servicePort"], "weight": 0},
	}
	sp2 := deepCopy(mapAt(ar.Body, "spec")).(map[string]any)
	sp2["http"] = []any{rule}
	md := map[string]any{"name": ref + "-canary", "namespace": nm.ns}
	for _, k := range []string{"labels", "annotations"} {
		if v := mapAt(ar.Body, "metadata", k); v != nil {
			md[k] = deepCopy(v)
		}
	}
	r.note(Mapped, "spec.routeRef", "ApisixRoute %s (%s) stays; its copy %s-canary (priority 10000) carries the split", ref, ar.File, ref)
	return map[string]any{"apiVersion": ar.APIVersion(), "kind": "ApisixRoute", "metadata": md, "spec": sp2}, nil
}
