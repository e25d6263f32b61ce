package importer

import (
	"fmt"
	"slices"
	"sort"
)

// selectorLabel picks the label that tells a workload's pods apart, the
// way Flagger does (app, name, app.kubernetes.io/name, in that order; else
// the first matchLabel).
func selectorLabel(dep map[string]any) (key, value string, err error) {
	ml := mapAt(dep, "spec", "selector", "matchLabels")
	for _, k := range []string{"app", "name", "app.kubernetes.io/name"} {
		if v := str(ml, k); v != "" {
			return k, v, nil
		}
	}
	keys := make([]string, 0, len(ml))
	for k := range ml {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "", "", fmt.Errorf("%s has no spec.selector.matchLabels", str(dep, "metadata", "name"))
	}
	return keys[0], str(ml, keys[0]), nil
}

// copyWorkload copies a Deployment (or a Rollout's pod template into a
// Deployment) under a new name whose selector and pod labels have
// labels set on top of the original ones.
func copyWorkload(src map[string]any, name, ns string, labels map[string]string) map[string]any {
	d := map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       deepCopy(mapAt(src, "spec")),
	}
	if l := mapAt(src, "metadata", "labels"); l != nil {
		d["metadata"].(map[string]any)["labels"] = deepCopy(l)
	}
	sp := d["spec"].(map[string]any)
	if ol := mapAt(d, "metadata", "labels"); ol != nil {
		for k, v := range labels {
			if _, ok := ol[k]; ok {
				ol[k] = v
			}
		}
	}
	ml := ensureMap(sp, "selector", "matchLabels")
	tl := ensureMap(sp, "template", "metadata", "labels")
	for k, v := range labels {
		ml[k], tl[k] = v, v
	}
	return d
}

// copyHPA copies a HorizontalPodAutoscaler to scale target instead.
func copyHPA(src map[string]any, name, ns, target string) map[string]any {
	h := deepCopy(src).(map[string]any)
	h["metadata"] = map[string]any{"name": name, "namespace": ns}
	ensureMap(h, "spec", "scaleTargetRef")["name"] = target
	delete(h, "status")
	return h
}

// service is a ClusterIP Service.
func service(name, ns string, selector map[string]string, ports []any) map[string]any {
	sel := map[string]any{}
	for k, v := range selector {
		sel[k] = v
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"type": "ClusterIP", "selector": sel, "ports": deepCopy(ports)},
	}
}

// virtualService routes host's traffic between two subsets in one http
// route named "primary" (weights 100 / 0); route carries extra fields
// (retries, timeout, match) of the route.
func virtualService(name, ns string, hosts, gateways []any, host, stable, canary string, route map[string]any) map[string]any {
	r := map[string]any{"name": "primary", "route": []any{
		map[string]any{"destination": map[string]any{"host": host, "subset": stable}, "weight": 100},
		map[string]any{"destination": map[string]any{"host": host, "subset": canary}, "weight": 0},
	}}
	for k, v := range route {
		r[k] = deepCopy(v)
	}
	spec := map[string]any{"hosts": deepCopy(hosts), "http": []any{r}}
	if len(gateways) > 0 {
		spec["gateways"] = deepCopy(gateways)
	}
	return map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}
}

// subset is one DestinationRule subset.
type subset struct {
	name   string
	labels map[string]string
}

// destinationRule declares a subset per version of host.
func destinationRule(name, ns, host string, policy map[string]any, subsets ...subset) map[string]any {
	var ss []any
	for _, s := range subsets {
		l := map[string]any{}
		for k, v := range s.labels {
			l[k] = v
		}
		ss = append(ss, map[string]any{"name": s.name, "labels": l})
	}
	spec := map[string]any{"host": host, "subsets": ss}
	if policy != nil {
		spec["trafficPolicy"] = deepCopy(policy)
	}
	return map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}
}

// httpRoute splits traffic between two Services (Gateway API).
func httpRoute(name, ns string, parents, hostnames []any, stable, canary string, port any) map[string]any {
	spec := map[string]any{"parentRefs": deepCopy(parents), "rules": []any{map[string]any{"backendRefs": []any{
		map[string]any{"name": stable, "port": port, "weight": 100},
		map[string]any{"name": canary, "port": port, "weight": 0},
	}}}}
	if len(hostnames) > 0 {
		spec["hostnames"] = deepCopy(hostnames)
	}
	return map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}
}

// httpProxy is the Contour HTTPProxy Flagger generates: one route of the
// two Services, with the Canary's timeout and retries; the user's root
// HTTPProxy includes it.
func httpProxy(name, ns, stable, canary string, port int, svc map[string]any, r *Result) map[string]any {
	route := map[string]any{"conditions": []any{map[string]any{"prefix": "/"}}, "services": []any{
		map[string]any{"name": stable, "port": port, "weight": 100},
		map[string]any{"name": canary, "port": port, "weight": 0},
	}}
	if t := str(svc, "timeout"); t != "" {
		route["timeoutPolicy"] = map[string]any{"response": t}
		r.note(Mapped, "spec.service.timeout", "HTTPProxy timeoutPolicy.response %s", t)
	}
	if n, ok := number(svc, "retries", "attempts"); ok {
		rp := map[string]any{"count": int(n)}
		if t := str(svc, "retries", "perTryTimeout"); t != "" {
			rp["perTryTimeout"] = t
		}
		route["retryPolicy"] = rp
		r.note(Mapped, "spec.service.retries", "HTTPProxy retryPolicy")
	}
	return map[string]any{
		"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"routes": []any{route}},
	}
}

// traefikService is the weighted TraefikService Flagger generates; the
// user's IngressRoute routes to it.
func traefikService(name, ns, stable, canary string, port int) map[string]any {
	return map[string]any{
		"apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"weighted": map[string]any{"services": []any{
			map[string]any{"name": stable, "port": port, "weight": 100},
			map[string]any{"name": canary, "port": port, "weight": 0},
		}}},
	}
}

// trafficSplit splits root's traffic between two Services (SMI v1alpha2).
func trafficSplit(name, ns, root, stable, canary string) map[string]any {
	return map[string]any{
		"apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"service": root, "backends": []any{
			map[string]any{"service": stable, "weight": 100},
			map[string]any{"service": canary, "weight": 0},
		}},
	}
}

// canaryIngress copies the main Ingress as ingress-nginx's canary Ingress
// named name, whose backends are the canary Service.
func canaryIngress(main map[string]any, name, ns, fromService, canaryService string) map[string]any {
	ing := map[string]any{
		"apiVersion": str(main, "apiVersion"), "kind": "Ingress",
		"metadata": map[string]any{"name": name, "namespace": ns, "annotations": map[string]any{
			"nginx.ingress.kubernetes.io/canary":        "true",
			"nginx.ingress.kubernetes.io/canary-weight": "0",
		}},
		"spec": deepCopy(mapAt(main, "spec")),
	}
	spec := ing["spec"].(map[string]any)
	delete(spec, "tls") // the main Ingress terminates TLS for the host
	for _, rule := range maps(spec, "rules") {
		for _, p := range maps(rule, "http", "paths") {
			if svc := mapAt(p, "backend", "service"); svc != nil && (fromService == "" || str(svc, "name") == fromService) {
				svc["name"] = canaryService
			}
		}
	}
	return ing
}

// ingressServices lists the backend Services of an Ingress.
func ingressServices(ing map[string]any) []string {
	var out []string
	for _, rule := range maps(ing, "spec", "rules") {
		for _, p := range maps(rule, "http", "paths") {
			if n := str(p, "backend", "service", "name"); n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// containerImage returns the first container's name and image.
func containerImage(podSpec map[string]any) (name, image string, err error) {
	cs := maps(podSpec, "containers")
	if len(cs) == 0 {
		return "", "", fmt.Errorf("no containers in the pod template")
	}
	return str(cs[0], "name"), str(cs[0], "image"), nil
}
