package traffic

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// A header route through the AWS Load Balancer Controller is an Ingress
// path of its own (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#conditions):
// a copy of each path that sends to the managed action, placed right
// before it (the controller turns an Ingress's paths into listener rules
// in order, so the copy is tested first), whose backend is the action
// named RoutePrefix+name, port use-annotation, and two annotations for
// that name:
//
//	alb.ingress.kubernetes.io/actions.birdwatch-dev:    '{"type":"forward","forwardConfig":{"targetGroups":[<canary target group, weight 100>]}}'
//	alb.ingress.kubernetes.io/conditions.birdwatch-dev: '[<the managed action's conditions...>,{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["always"]}}]'
//
// The managed route's own conditions (alb.ingress.kubernetes.io/conditions.<Route>)
// are repeated first, so the header route never takes a request the
// managed route would not. A header condition is an http-header condition
// and a query parameter a query-string condition, each with one value: the
// value itself (exact) or the value followed by ALB's wildcard * (prefix).
// ALB compares header and query values case-insensitively, so an exact
// match is exact up to case. ALB has no regular expressions and cannot
// isolate one cookie of the Cookie header, and it has no mirroring: those
// are ErrUnsupported. Values holding ALB's wildcards * or ? cannot be
// written literally and are refused. An ALB rule holds at most five
// condition values, the path's path-pattern and the rule's host-header
// included: SetRoutes counts them.

// albConditionsPrefix begins the controller's condition annotations:
// alb.ingress.kubernetes.io/conditions.<name> holds a JSON list of
// conditions for the paths whose backend is the action <name>.
const albConditionsPrefix = "alb.ingress.kubernetes.io/conditions."

// albMaxValues is ALB's quota of condition values per rule.
const albMaxValues = 5

// albSupports is Supports for alb.
func albSupports(r Routes) error {
	if r.Mirror != nil {
		return fmt.Errorf("alb cannot mirror traffic (mirror %s%%): ALB listener rules have no mirror action: %w",
			formatPercent(r.Mirror.Percent), ErrUnsupported)
	}
	for _, h := range r.Headers {
		if err := conditionsOnce("alb", h); err != nil {
			return err
		}
		if len(h.Match) > albMaxValues-2 {
			return fmt.Errorf("alb cannot AND %d conditions (header route %q): an ALB rule holds %d condition values, and the path and host take two: %w",
				len(h.Match), h.Name, albMaxValues, ErrUnsupported)
		}
		for _, m := range h.Match {
			switch {
			case m.On == OnCookie:
				return fmt.Errorf("alb cannot route by cookie (header route %q: %s): ALB compares whole header values, so one cookie of the Cookie header cannot be isolated: %w",
					h.Name, describe(m), ErrUnsupported)
			case m.Op == Regex:
				return fmt.Errorf("alb cannot match a regex (header route %q: %s): ALB conditions match exact values and the wildcards * and ?: %w",
					h.Name, describe(m), ErrUnsupported)
			case strings.ContainsAny(m.Value, "*?"):
				return fmt.Errorf("alb cannot match the characters * and ? literally (header route %q: %s): they are ALB's wildcards: %w",
					h.Name, describe(m), ErrUnsupported)
			case len(m.Value)+1 > 128:
				return fmt.Errorf("alb cannot match a value of %d characters (header route %q: %s): ALB's limit is 128: %w",
					len(m.Value), h.Name, describe(m), ErrUnsupported)
			case m.On == OnHeader && len(m.Name) > 40:
				return fmt.Errorf("alb cannot match header %q (header route %q): ALB's limit for a header name is 40 characters: %w",
					m.Name, h.Name, ErrUnsupported)
			}
		}
	}
	return nil
}

// albCondition is the ALB condition for m (supported).
func albCondition(m Match) map[string]any {
	v := m.Value
	if m.Op == Prefix {
		v += "*"
	}
	if m.On == OnQueryParam {
		return map[string]any{"field": "query-string", "queryStringConfig": map[string]any{
			"values": []any{map[string]any{"key": m.Name, "value": v}}}}
	}
	return map[string]any{"field": "http-header", "httpHeaderConfig": map[string]any{
		"httpHeaderName": m.Name, "values": []any{v}}}
}

// albMatch reads back a condition albCondition wrote.
func albMatch(c any) (Match, bool) {
	_, field := getFold(c, "field")
	var m Match
	var v any
	switch field {
	case "http-header":
		_, cfg := getFold(c, "httpHeaderConfig")
		_, name := getFold(cfg, "httpHeaderName")
		_, vs := getFold(cfg, "values")
		list, _ := vs.([]any)
		if len(list) != 1 {
			return Match{}, false
		}
		m.On, m.Name, v = OnHeader, fmt.Sprint(name), list[0]
	case "query-string":
		_, cfg := getFold(c, "queryStringConfig")
		_, vs := getFold(cfg, "values")
		list, _ := vs.([]any)
		if len(list) != 1 {
			return Match{}, false
		}
		_, key := getFold(list[0], "key")
		_, v = getFold(list[0], "value")
		m.On, m.Name = OnQueryParam, fmt.Sprint(key)
	default:
		return Match{}, false
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return Match{}, false
	}
	m.Op, m.Value = Exact, s
	if body, ok := strings.CutSuffix(s, "*"); ok {
		m.Op, m.Value = Prefix, body
	}
	return m, !strings.ContainsAny(m.Value, "*?")
}

// albRoutes is the alb provider's view of a manifest's routes: the
// managed action, its conditions, the birdwatch annotations in file
// order, and the Ingress path lists.
type albRoutes struct {
	a          *albAction
	conditions []any      // the managed route's conditions, nil when none
	anns       *yaml.Node // metadata.annotations
	ours       []albAnn   // birdwatch's annotations, in file order
}

// albAnn is one annotation.
type albAnn struct {
	key, value string
}

// readRoutes locates the managed action and collects the rest.
func (p *ALB) readRoutes(doc []byte) (*albRoutes, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("alb: %w", err)
	}
	a, err := p.locate(f)
	if err != nil {
		return nil, err
	}
	anns, _ := a.doc.Lookup("metadata.annotations")
	ar := &albRoutes{a: a, anns: anns}
	for i := 0; i+1 < len(anns.Content); i += 2 {
		k, v := anns.Content[i].Value, anns.Content[i+1]
		switch {
		case k == albConditionsPrefix+p.cfg.Route:
			if err := json.Unmarshal([]byte(v.Value), &ar.conditions); err != nil || v.Kind != yaml.ScalarNode {
				return nil, &PathError{Object: a.object, Path: annotationPath(k), Msg: fmt.Sprintf("want a JSON list of conditions (%v)", err), Err: ErrShape}
			}
		case strings.HasPrefix(k, albActionPrefix+RoutePrefix), strings.HasPrefix(k, albConditionsPrefix+RoutePrefix):
			if v.Kind != yaml.ScalarNode {
				return nil, &PathError{Object: a.object, Path: annotationPath(k), Msg: "want a string", Err: ErrShape}
			}
			ar.ours = append(ar.ours, albAnn{key: k, value: v.Value})
		}
	}
	return ar, nil
}

// Routes implements Router: the header routes whose condition annotations
// birdwatch wrote, in file order. ALB has no mirror.
func (p *ALB) Routes(doc []byte) (Routes, error) {
	ar, err := p.readRoutes(doc)
	if err != nil {
		return Routes{}, err
	}
	var r Routes
	for _, an := range ar.ours {
		name, ok := strings.CutPrefix(an.key, albConditionsPrefix+RoutePrefix)
		if !ok {
			continue
		}
		h, err := ar.headerRoute(name, an)
		if err != nil {
			return Routes{}, err
		}
		r.Headers = append(r.Headers, h)
	}
	// The paths hold the order (ALB's precedence); renderers such as
	// kustomize sort annotations by key.
	order := ar.pathOrder()
	slices.SortStableFunc(r.Headers, func(a, b HeaderRoute) int {
		return cmp.Compare(rank(order, a.Name), rank(order, b.Name))
	})
	return r, nil
}

// pathOrder maps each header route name to the position of its first
// path in the Ingress.
func (ar *albRoutes) pathOrder() map[string]int {
	order := map[string]int{}
	rules, _ := ar.a.doc.Lookup("spec.rules")
	if rules == nil {
		return order
	}
	for _, rule := range rules.Content {
		paths := mapGet(mapGet(rule, "http"), "paths")
		if paths == nil {
			continue
		}
		for _, it := range paths.Content {
			if name, ok := strings.CutPrefix(albBackend(it), RoutePrefix); ok {
				if _, seen := order[name]; !seen {
					order[name] = len(order)
				}
			}
		}
	}
	return order
}

// rank is name's position in order; names without a path come last.
func rank(order map[string]int, name string) int {
	if i, ok := order[name]; ok {
		return i
	}
	return len(order)
}

// headerRoute reads one birdwatch condition annotation.
func (ar *albRoutes) headerRoute(name string, an albAnn) (HeaderRoute, error) {
	bad := func(msg string) error {
		return &PathError{Object: ar.a.object, Path: annotationPath(an.key), Msg: msg + "; birdwatch writes these: delete it and let birdwatch write it again", Err: ErrShape}
	}
	var conds []any
	if err := json.Unmarshal([]byte(an.value), &conds); err != nil {
		return HeaderRoute{}, bad(fmt.Sprintf("not a JSON list of conditions (%v)", err))
	}
	if len(conds) >= len(ar.conditions) && reflect.DeepEqual(conds[:len(ar.conditions)], ar.conditions) {
		conds = conds[len(ar.conditions):]
	}
	h := HeaderRoute{Name: name}
	for i, c := range conds {
		m, ok := albMatch(c)
		if !ok {
			return HeaderRoute{}, bad(fmt.Sprintf("condition %d is not an http-header or query-string condition with one value", i))
		}
		h.Match = append(h.Match, m)
	}
	if len(h.Match) == 0 {
		return HeaderRoute{}, bad("no condition of its own")
	}
	return h, nil
}

// SetRoutes implements Router: header routes as Ingress paths and
// annotations (see above); mirrors, cookies and regexes are
// ErrUnsupported. Every path that sends to the managed action gets the
// header routes' paths right before it; a paths list that sends to the
// action twice cannot (ErrUnsupported). When the routes change, all of
// birdwatch's annotations are removed and written again in route order,
// so the bytes do not depend on the routes set before.
func (p *ALB) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("alb: %w", err)
	}
	if err := albSupports(r); err != nil {
		return nil, err
	}
	ar, err := p.readRoutes(doc)
	if err != nil {
		return nil, err
	}
	want, err := ar.annotations(r)
	if err != nil {
		return nil, err
	}
	out, err := p.setPaths(doc, ar, r)
	if err != nil {
		return nil, err
	}
	if ar.sameAnnotations(want) {
		return out, nil
	}
	var edits []structEdit
	at := func(k string) string { return fmt.Sprintf("{%d}%s", ar.a.doc.Index, annotationPath(k)) }
	for _, an := range ar.ours {
		edits = append(edits, structEdit{path: at(an.key)})
	}
	for _, an := range want {
		edits = append(edits, structEdit{path: at(an.key), value: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.SingleQuotedStyle, Value: an.value}})
	}
	if out, err = applyStruct(out, edits); err != nil {
		return nil, fmt.Errorf("alb: %s: header routes: %w", ar.a.object, err)
	}
	return out, nil
}

// annotations are the birdwatch annotations routes r consist of, in order.
func (ar *albRoutes) annotations(r Routes) ([]albAnn, error) {
	canary := ar.a.cloneJSON()
	_, fc := getFold(canary, "forwardConfig")
	_, gv := getFold(fc, "targetGroups")
	tg, _ := gv.([]any)[ar.a.canary].(map[string]any)
	key, _ := getFold(tg, "weight")
	if key == "" {
		key = "weight"
	}
	tg[key] = 100
	group, err := json.Marshal(tg)
	if err != nil {
		return nil, fmt.Errorf("alb: %w", err)
	}
	// Written by hand for the controller's documented key order.
	action := `{"type":"forward","forwardConfig":{"targetGroups":[` + string(group) + `]}}`
	var want []albAnn
	for _, h := range r.Headers {
		conds := append([]any(nil), ar.conditions...)
		for _, m := range h.Match {
			conds = append(conds, albCondition(m))
		}
		cj, err := json.Marshal(conds)
		if err != nil {
			return nil, fmt.Errorf("alb: %w", err)
		}
		want = append(want, albAnn{key: albActionPrefix + RoutePrefix + h.Name, value: action},
			albAnn{key: albConditionsPrefix + RoutePrefix + h.Name, value: string(cj)})
	}
	return want, nil
}

// sameAnnotations reports whether the file's birdwatch annotations are
// want, in order, each holding the same JSON.
func (ar *albRoutes) sameAnnotations(want []albAnn) bool {
	if len(ar.ours) != len(want) {
		return false
	}
	for i, an := range ar.ours {
		var a, b any
		if an.key != want[i].key || json.Unmarshal([]byte(an.value), &a) != nil || json.Unmarshal([]byte(want[i].value), &b) != nil || !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}

// albBackend returns the backend name of an Ingress path: the service
// name (networking.k8s.io/v1) or serviceName (v1beta1).
func albBackend(path *yaml.Node) string {
	b := mapGet(path, "backend")
	if s := mapGet(b, "service"); s != nil {
		return scalarOf(mapGet(s, "name"))
	}
	return scalarOf(mapGet(b, "serviceName"))
}

// albPathFor is a copy of managed path sending to action name.
func albPathFor(managed *yaml.Node, name string) *yaml.Node {
	c := copyNode(managed)
	b := mapGet(c, "backend")
	if s := mapGet(b, "service"); s != nil {
		mapSet(s, "name", strNode(name))
	} else {
		mapSet(b, "serviceName", strNode(name))
	}
	return c
}

// setPaths reconciles the header routes' paths in every paths list of the
// Ingress: right before the path sending to the managed action, or none
// where no path does.
func (p *ALB) setPaths(doc []byte, ar *albRoutes, r Routes) ([]byte, error) {
	d := ar.a.doc
	rules, err := d.Lookup("spec.rules")
	if err != nil || rules.Kind != yaml.SequenceNode {
		if len(r.Headers) > 0 {
			return nil, &PathError{Object: ar.a.object, Path: "spec.rules", Msg: fmt.Sprintf(
				"no rules: a header route needs a path whose backend is the action %s (port use-annotation)", p.cfg.Route), Err: ErrRouteNotFound}
		}
		return doc, nil
	}
	s := &split{doc: d, object: ar.a.object}
	out, found := doc, false
	for i, rule := range rules.Content {
		path := fmt.Sprintf("spec.rules[%d].http.paths", i)
		if mapGet(mapGet(rule, "http"), "paths") == nil {
			continue
		}
		items, err := listItems(s, path)
		if err != nil {
			return nil, err
		}
		l := itemList{doc: d.Index, path: path, items: items, managed: -1, nameOf: albBackend}
		for j, it := range items {
			if albBackend(it) != p.cfg.Route {
				continue
			}
			if l.managed >= 0 && len(r.Headers) > 0 {
				return nil, &PathError{Object: ar.a.object, Path: path, Msg: fmt.Sprintf(
					"paths %d and %d both send to the action %s; birdwatch puts header routes before one path per rule", l.managed, j, p.cfg.Route), Err: ErrUnsupported}
			}
			if l.managed < 0 {
				l.managed = j
			}
		}
		if l.managed < 0 {
			l.managed = len(items) // none: only removes birdwatch's paths
		} else {
			found = true
			if err := albCountValues(ar, r, rule, items[l.managed], path); err != nil {
				return nil, err
			}
		}
		var want []namedItem
		if l.managed < len(items) {
			for _, h := range r.Headers {
				want = append(want, namedItem{name: RoutePrefix + h.Name, node: albPathFor(items[l.managed], RoutePrefix+h.Name)})
			}
		}
		if out, err = l.reconcile(out, want); err != nil {
			return nil, fmt.Errorf("alb: %s: %w", ar.a.object, err)
		}
	}
	if !found && len(r.Headers) > 0 {
		return nil, &PathError{Object: ar.a.object, Path: "spec.rules", Msg: fmt.Sprintf(
			"no path's backend is the action %s (port use-annotation): header routes are copies of that path", p.cfg.Route), Err: ErrRouteNotFound}
	}
	return out, nil
}

// albCountValues checks ALB's quota of condition values for each header
// route's rule: its conditions, the managed route's, the path's
// path-pattern and the rule's host-header.
func albCountValues(ar *albRoutes, r Routes, rule, path *yaml.Node, at string) error {
	base := countValues(ar.conditions)
	if scalarOf(mapGet(path, "path")) != "" {
		base++
	}
	if scalarOf(mapGet(rule, "host")) != "" {
		base++
	}
	for _, h := range r.Headers {
		if n := base + len(h.Match); n > albMaxValues {
			return &PathError{Object: ar.a.object, Path: at, Msg: fmt.Sprintf(
				"header route %q needs %d condition values (%d of its own, %d of the path, host and the action's conditions); an ALB rule holds %d",
				h.Name, n, len(h.Match), base, albMaxValues), Err: ErrUnsupported}
		}
	}
	return nil
}

// countValues counts the values of decoded ALB conditions: the entries of
// every "values" list in their configs.
func countValues(conds []any) int {
	n := 0
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		for _, cfg := range cm {
			if _, vs := getFold(cfg, "values"); vs != nil {
				if list, ok := vs.([]any); ok {
					n += len(list)
				}
			}
		}
	}
	return n
}
