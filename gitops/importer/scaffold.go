package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// ScaffoldOptions describe a service to put under birdwatch (birdwatch init).
type ScaffoldOptions struct {
	Name, Namespace string
	// File is the repository path of the traffic manifest: a VirtualService,
	// HTTPRoute, TrafficSplit or ingress-nginx canary Ingress.
	File string
	// Route picks a route of the manifest when it has several.
	Route string
	// Stable is the version serving now (a label value); Canary defaults to it.
	Stable, Canary string
	// Ingress is, for nginx, the main Ingress (the canary Ingress's name without -canary by default).
	Ingress string
}

// Scaffold reads the traffic manifest of the checkout and returns a Canary
// for it: the provider and its fields from the manifest's kind and routes,
// the mesh's embedded error-rate and p99 templates, 10% then 50% with five
// minutes of analysis each, and the .sourceignore line that keeps Flux away.
func Scaffold(co *Checkout, o ScaffoldOptions) (*Result, error) {
	if o.Namespace == "" {
		o.Namespace = spec.DefaultNamespace
	}
	if o.Canary == "" {
		o.Canary = o.Stable
	}
	var obj *Object
	for _, x := range co.Objects {
		if x.File == o.File && isTrafficObject(x) && (o.Route == "" || x.Name() == o.Route || x.Kind() == "VirtualService") {
			obj = x
			break
		}
	}
	if obj == nil {
		return nil, fmt.Errorf("--file %s: no VirtualService, HTTPRoute, GRPCRoute, TrafficSplit or canary Ingress there (the path is relative to %s)", o.File, co.Dir)
	}
	c := newCanary(o.Name, o.Namespace, o.Name, o.Stable)
	c.Spec.Canary = o.Canary
	t, prefix, args, err := scaffoldTraffic(obj, o)
	if err != nil {
		return nil, err
	}
	c.Spec.Traffic = t
	five := spec.Duration(5 * 60e9)
	ten, fifty := 10, 50
	c.Spec.Steps = []spec.Step{{SetWeight: &ten}, {Analyze: &five}, {SetWeight: &fifty}, {Analyze: &five}}
	c.Spec.Analysis.Metrics = []spec.Metric{
		{Name: "error-rate", Template: prefix + "-error-rate", Critical: true, Args: args},
		{Name: "latency-p99", Template: prefix + "-latency-p99", Args: args},
	}
	r := &Result{Files: map[string][]byte{}}
	file := fmt.Sprintf("%s/%s-%s.yaml", spec.SpecDir, c.Metadata.Namespace, c.Metadata.Name)
	if _, err := os.Stat(filepath.Join(co.Dir, file)); err == nil {
		return nil, fmt.Errorf("%s exists; not overwritten", file)
	}
	header := fmt.Sprintf("Written by birdwatch init for %s (%s). Set spec.canary to a new version to roll it out;\nspec.promote lists the edits that make it the stable one (none yet: add yours).", obj.Kind(), o.File)
	if err := writeCanary(r, c, header, "", ""); err != nil {
		return nil, err
	}
	r.Notes = r.Notes[:len(r.Notes)-1] // no foreign file to remove
	if err := addSourceIgnore(co, r); err != nil {
		return nil, err
	}
	return r, nil
}

// isTrafficObject is a kind birdwatch sets weights in (for Ingress, a canary one).
func isTrafficObject(o *Object) bool {
	switch o.Kind() {
	case "VirtualService", "HTTPRoute", "GRPCRoute", "TrafficSplit":
		return true
	case "Ingress":
		return str(o.Body, "metadata", "annotations", "nginx.ingress.kubernetes.io/canary") == "true"
	}
	return false
}

// scaffoldTraffic maps the manifest's kind to a provider, its fields and
// the embedded template family.
func scaffoldTraffic(obj *Object, o ScaffoldOptions) (t spec.Traffic, prefix string, args map[string]string, err error) {
	t = spec.Traffic{File: o.File, Route: o.Route}
	switch obj.Kind() {
	case "VirtualService":
		t.Provider, prefix = "istio", "istio"
		for _, h := range maps(obj.Body, "spec", "http") {
			if o.Route != "" && str(h, "name") != o.Route {
				continue
			}
			ds := maps(h, "route")
			if len(ds) == 2 && str(ds[0], "destination", "subset") != "" {
				t.StableSubset, t.CanarySubset = str(ds[0], "destination", "subset"), str(ds[1], "destination", "subset")
				return t, prefix, nil, nil
			}
		}
		return t, "", nil, fmt.Errorf("%s: no http route with two subset destinations (stable first)", o.File)
	case "HTTPRoute", "GRPCRoute", "TrafficSplit":
		t.Provider, prefix = "gatewayapi", "http"
		var refs []map[string]any
		for _, rule := range maps(obj.Body, "spec", "rules") {
			if len(maps(rule, "backendRefs")) == 2 {
				refs = maps(rule, "backendRefs")
			}
		}
		name := "name"
		if obj.Kind() == "TrafficSplit" {
			t.Provider, refs, name = "smi", maps(obj.Body, "spec", "backends"), "service"
		}
		if len(refs) != 2 {
			return t, "", nil, fmt.Errorf("%s: want two backends (stable first)", o.File)
		}
		t.StableService, t.CanaryService = str(refs[0], name), str(refs[1], name)
		return t, prefix, nil, nil
	case "Ingress":
		if str(obj.Body, "metadata", "annotations", "nginx.ingress.kubernetes.io/canary") != "true" {
			return t, "", nil, fmt.Errorf("%s: Ingress %s is not an ingress-nginx canary Ingress (annotation nginx.ingress.kubernetes.io/canary: \"true\")", o.File, obj.Name())
		}
		t.Provider, t.Route = "nginx", obj.Name()
		ing := o.Ingress
		if ing == "" {
			ing = strings.TrimSuffix(obj.Name(), "-canary")
		}
		return t, "nginx", map[string]string{"ingress": ing}, nil
	}
	return t, "", nil, fmt.Errorf("%s: %s is not a traffic manifest birdwatch edits (VirtualService, HTTPRoute, GRPCRoute, TrafficSplit, canary Ingress)", o.File, obj.Kind())
}

// SourceIgnoreLine keeps .birdwatch/ out of Flux's artifacts.
const SourceIgnoreLine = "/" + spec.SpecDir + "/"

// addSourceIgnore appends SourceIgnoreLine to the root .sourceignore.
func addSourceIgnore(co *Checkout, r *Result) error {
	p := filepath.Join(co.Dir, ".sourceignore")
	data, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == SourceIgnoreLine {
			return nil
		}
	}
	if len(data) > 0 && !strings.HasSuffix(string(data), "\n") {
		data = append(data, '\n')
	}
	data = append(data, "# birdwatch reads .birdwatch/ from Git; Flux must not apply it\n"+SourceIgnoreLine+"\n"...)
	r.Files[".sourceignore"] = data
	r.note(Changed, ".sourceignore", "%s (Flux's source-controller leaves it out of the artifact)", SourceIgnoreLine)
	return nil
}
