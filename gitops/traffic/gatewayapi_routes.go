package traffic

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Header rules and the mirror in a Gateway API HTTPRoute (HTTPRouteRule
// name, v1.2+; HTTPRouteMatch headers and queryParams, type Exact or
// RegularExpression; the RequestMirror filter with percent or fraction,
// GEP-3171, v1.2+):
//
//	rules:
//	- name: birdwatch-dev              # one per HeaderRoute, before the managed rule
//	  matches:                         # the managed rule's matches (or path prefix /),
//	  - path: {type: PathPrefix, value: /}   # each ANDed with the conditions
//	    headers:
//	    - name: Cookie
//	      type: RegularExpression
//	      value: ^(.*?;\s*)?user=developer(;.*)?$
//	  backendRefs:
//	  - name: aleph-canary
//	    port: 8080
//	- name: web                        # the managed rule
//	  backendRefs: [...]
//	  filters:
//	  - type: RequestMirror
//	    requestMirror:
//	      backendRef: {name: aleph-canary, port: 8080}
//	      percent: 20

// gatewayCopied are the managed rule's fields a header rule copies, in
// HTTPRouteRule order: they apply to every request, so matched requests
// must get them too.
var gatewayCopied = []string{"timeouts", "retry"}

// gatewayMaxItems is the most rules a route, and headers or query
// parameters a match, may have (kubebuilder MaxItems in the Gateway API
// CRDs).
const gatewayMaxItems = 16

// Routes implements Router: the rules named RoutePrefix* of the managed
// rule's route object, in order, and the managed rule's RequestMirror
// filter to CanaryService. Conditions come back in the form SetRoutes
// writes them: a regex ^v.* as a Prefix v.
func (p *GatewayAPI) Routes(doc []byte) (Routes, error) {
	return readListRoutes("gatewayapi", doc, p.ruleList, p.readHeaderRule, p.readMirror)
}

// readMirror returns the managed rule's RequestMirror filter to the canary
// service, if there is one.
func (p *GatewayAPI) readMirror(s *split, managed *yaml.Node) (*Mirror, error) {
	for j, flt := range filtersOf(managed) {
		if p.ourMirror(flt) {
			pct, err := mirrorPercent(mapGet(flt, "requestMirror"))
			if err != nil {
				return nil, &PathError{Object: s.object, Path: fmt.Sprintf("spec.rules[%d].filters[%d].requestMirror", s.at, j), Msg: err.Error(), Err: ErrShape}
			}
			return &Mirror{Percent: pct}, nil
		}
	}
	return nil, nil
}

// SetRoutes implements Router. Each HeaderRoute becomes a rule named
// RoutePrefix+Name right before the managed rule, in r's order; the mirror
// is a RequestMirror filter of the managed rule. A GRPCRoute takes a mirror
// but no header route (ErrUnsupported). A condition on a header or query
// parameter the managed rule's matches already test is an error wrapping
// ErrConflict.
func (p *GatewayAPI) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("gatewayapi: %w", err)
	}
	if err := gatewaySupports(r); err != nil {
		return nil, err
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("gatewayapi: %w", err)
	}
	s, l, err := p.ruleList(f)
	if err != nil {
		return nil, err
	}
	if kind, _ := scalarAt(s.doc, "kind"); kind != "HTTPRoute" && len(r.Headers) > 0 {
		return nil, fmt.Errorf("gatewayapi: %s: header route %q: a %s has no cookies nor query parameters; header routes need an HTTPRoute (a mirror works): %w",
			s.object, r.Headers[0].Name, kind, ErrUnsupported)
	}
	if n := len(l.items) - len(l.ours()) + len(r.Headers); n > gatewayMaxItems {
		return nil, fmt.Errorf("gatewayapi: %s: %d header rules would make %d rules; Gateway API allows %d: %w",
			s.object, len(r.Headers), n, gatewayMaxItems, ErrUnsupported)
	}
	return setListRoutes("gatewayapi", doc, s, l, r, p.headerRuleNode, p.setMirror)
}

// ruleList locates the managed rule and its route object's rules.
func (p *GatewayAPI) ruleList(f *yamledit.File) (*split, itemList, error) {
	s, err := p.locate(f)
	if err != nil {
		return nil, itemList{}, err
	}
	items, err := listItems(s, "spec.rules")
	if err != nil {
		return nil, itemList{}, err
	}
	return s, itemList{doc: s.doc.Index, path: "spec.rules", items: items, managed: s.at}, nil
}

// headerRuleNode builds the rule for h.
func (p *GatewayAPI) headerRuleNode(s *split, managed *yaml.Node, h HeaderRoute) (*yaml.Node, error) {
	at := fmt.Sprintf("spec.rules[%d].matches", s.at)
	all := mapNode("path", mapNode("type", strNode("PathPrefix"), "value", strNode("/")))
	entries, err := matchEntries(s.object, at, mapGet(managed, "matches"), all)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		for _, m := range h.Match {
			if err := gatewayAddCondition(e, m); err != nil {
				err.Object, err.Path, err.Msg = s.object, fmt.Sprintf("%s[%d]", at, i), fmt.Sprintf("header route %q: %s", h.Name, err.Msg)
				return nil, err
			}
		}
	}
	backend, err := s.canaryItem()
	if err != nil {
		return nil, err
	}
	var filters []*yaml.Node
	for _, flt := range filtersOf(managed) {
		if !p.ourMirror(flt) {
			filters = append(filters, flt)
		}
	}
	n := mapNode("name", strNode(RoutePrefix+h.Name), "matches", seqNode(entries...))
	if len(filters) > 0 {
		mapSet(n, "filters", seqNode(filters...))
	}
	mapSet(n, "backendRefs", seqNode(backend))
	for _, k := range gatewayCopied {
		if v := mapGet(managed, k); v != nil {
			mapSet(n, k, v)
		}
	}
	return n, nil
}

// gatewayAddCondition ANDs m into HTTPRouteMatch e (a copy). A failure is
// a PathError without object and path, which the caller fills in.
func gatewayAddCondition(e *yaml.Node, m Match) *PathError {
	field, name, typ, value := "headers", m.Name, "Exact", m.Value
	switch m.Op {
	case Prefix:
		typ, value = "RegularExpression", prefixRegex(m.Value)
	case Regex:
		typ = "RegularExpression"
	}
	switch m.On {
	case OnCookie:
		name, typ, value = "Cookie", "RegularExpression", re2.cookieRegex(m.Name, m.Op, m.Value)
	case OnQueryParam:
		field = "queryParams"
	}
	conds := mapGet(e, field)
	if conds == nil {
		conds = seqNode()
		mapSet(e, field, conds)
	}
	if conds.Kind != yaml.SequenceNode {
		return &PathError{Msg: field + " is not a list", Err: ErrShape}
	}
	for _, c := range conds.Content {
		other := scalarOf(mapGet(c, "name"))
		if other == name || field == "headers" && strings.EqualFold(other, name) {
			return &PathError{Msg: fmt.Sprintf("the managed rule already matches %s %q; birdwatch cannot AND a second condition on it", field, other), Err: ErrConflict}
		}
	}
	if len(conds.Content) >= gatewayMaxItems {
		return &PathError{Msg: fmt.Sprintf("the match already has %d %s, the most Gateway API allows", len(conds.Content), field), Err: ErrUnsupported}
	}
	conds.Content = append(conds.Content, mapNode("name", strNode(name), "type", strNode(typ), "value", strNode(value)))
	return nil
}

// readHeaderRule reads back rule (a copy) at index at: the conditions its
// first match has beyond the managed rule's first match.
func (p *GatewayAPI) readHeaderRule(s *split, rule, managed *yaml.Node, at int) (HeaderRoute, error) {
	h := HeaderRoute{Name: strings.TrimPrefix(scalarOf(mapGet(rule, "name")), RoutePrefix)}
	path := fmt.Sprintf("spec.rules[%d].matches", at)
	ours, err := matchEntries(s.object, path, mapGet(rule, "matches"), nil)
	if err != nil {
		return HeaderRoute{}, err
	}
	base, err := matchEntries(s.object, fmt.Sprintf("spec.rules[%d].matches", s.at), mapGet(managed, "matches"), nil)
	if err != nil {
		return HeaderRoute{}, err
	}
	for _, field := range []string{"headers", "queryParams"} {
		conds, had := mapGet(ours[0], field), mapGet(base[0], field)
		if conds == nil {
			continue
		}
		for i, c := range conds.Content {
			if containsValue(had, c) {
				continue
			}
			m, err := gatewayCondition(field, c)
			if err != nil {
				return HeaderRoute{}, &PathError{Object: s.object, Path: fmt.Sprintf("%s[0].%s[%d]", path, field, i), Msg: err.Error(), Err: ErrShape}
			}
			h.Match = append(h.Match, m)
		}
	}
	if len(h.Match) == 0 {
		return HeaderRoute{}, &PathError{Object: s.object, Path: path, Msg: fmt.Sprintf(
			"rule %s%s matches nothing beyond the managed rule; delete it or give it a condition", RoutePrefix, h.Name), Err: ErrShape}
	}
	return h, nil
}

// containsValue reports whether sequence list holds an item equal to n.
func containsValue(list, n *yaml.Node) bool {
	if list == nil {
		return false
	}
	for _, c := range list.Content {
		if sameValue(c, n) {
			return true
		}
	}
	return false
}

// gatewayCondition reads one HTTPHeaderMatch or HTTPQueryParamMatch back.
func gatewayCondition(field string, c *yaml.Node) (Match, error) {
	name, typ, v := scalarOf(mapGet(c, "name")), scalarOf(mapGet(c, "type")), scalarOf(mapGet(c, "value"))
	m := Match{On: OnHeader, Name: name, Op: Exact, Value: v}
	if field == "queryParams" {
		m.On = OnQueryParam
	}
	switch typ {
	case "", "Exact":
	case "RegularExpression":
		if cookie, ok := re2.parseCookie(v); ok && m.On == OnHeader && strings.EqualFold(name, "cookie") {
			return cookie, nil
		}
		m.Op, m.Value = parseRegex(v)
	default:
		return Match{}, fmt.Errorf("type %q: want Exact or RegularExpression", typ)
	}
	return m, nil
}

// filtersOf returns the items of a rule's filters list.
func filtersOf(rule *yaml.Node) []*yaml.Node {
	if f := mapGet(rule, "filters"); f != nil && f.Kind == yaml.SequenceNode {
		return f.Content
	}
	return nil
}

// ourMirror reports whether filter is a RequestMirror to CanaryService.
func (p *GatewayAPI) ourMirror(filter *yaml.Node) bool {
	return scalarOf(mapGet(filter, "type")) == "RequestMirror" &&
		scalarOf(mapGet(mapGet(mapGet(filter, "requestMirror"), "backendRef"), "name")) == p.cfg.CanaryService
}

// conditionCounts returns how many header (cookies included) and query
// parameter conditions h has.
func conditionCounts(h HeaderRoute) (headers, queries int) {
	for _, m := range h.Match {
		if m.On == OnQueryParam {
			queries++
		} else {
			headers++
		}
	}
	return headers, queries
}

// gatewaySupports is Supports for gatewayapi: one condition per header
// (a cookie reads the header Cookie) and per query parameter in a route,
// since an HTTPRouteMatch considers only the first of equal names; header
// routes with equal condition counts (see below); and a mirror percentage a
// RequestMirror fraction can hold.
func gatewaySupports(r Routes) error {
	for _, h := range r.Headers {
		if err := conditionsOnce("gatewayapi", h); err != nil {
			return err
		}
	}
	// Gateway API ranks matching rules by their number of header matches,
	// then of query parameter matches, and only then by list order, so
	// "first match wins" holds only among rules with equal counts.
	for i := 1; i < len(r.Headers); i++ {
		ah, aq := conditionCounts(r.Headers[0])
		if bh, bq := conditionCounts(r.Headers[i]); ah != bh || aq != bq {
			return fmt.Errorf("gatewayapi: header routes %q and %q have different numbers of header or query conditions: "+
				"Gateway API prefers the rule with more matches over list order, so the first match would not win: %w",
				r.Headers[0].Name, r.Headers[i].Name, ErrUnsupported)
		}
	}
	if r.Mirror != nil {
		if _, _, err := mirrorShare(r.Mirror.Percent); err != nil {
			return fmt.Errorf("gatewayapi: %w", err)
		}
	}
	return nil
}
