package traffic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Header routes and the mirror in an Istio VirtualService
// (networking.istio.io HTTPRoute, HTTPMatchRequest, HTTPMirrorPolicy):
//
//	http:
//	- name: birdwatch-dev           # one per HeaderRoute, before the managed route
//	  match:                        # the managed route's match, each entry ANDed with
//	  - headers:                    # the conditions
//	      cookie:
//	        regex: ^(.*?;\s*)?user=developer(;.*)?$
//	  route:
//	  - destination: {host: aleph, subset: canary}
//	  retries: ...                  # timeout, retries, headers, rewrite, corsPolicy copied
//	- name: primary                 # the managed route
//	  route: [...]
//	  mirror: {host: aleph, subset: canary}
//	  mirrorPercentage: {value: 20}

// istioCopied are the managed route's fields a header route copies: they
// apply to every request, so matched requests must get them too. The
// mirror is not copied: matched requests already reach the canary.
var istioCopied = map[string]bool{"timeout": true, "retries": true, "headers": true, "rewrite": true, "corsPolicy": true}

// Routes implements Router: the http routes named RoutePrefix* of the
// managed route's VirtualService, in order, and the managed route's mirror
// when its destination is the canary subset. Conditions come back in the
// form SetRoutes writes them: header names in lower case, a query
// parameter regex ^v.* as a Prefix v, header conditions before query
// parameter ones.
func (p *Istio) Routes(doc []byte) (Routes, error) {
	return readListRoutes("istio", doc, p.routeList, p.readHeaderRoute, p.readMirror)
}

// SetRoutes implements Router. Each HeaderRoute becomes an http route named
// RoutePrefix+Name, placed right before the managed route in r's order;
// the mirror is set on the managed route. A mirror that someone else set
// on the managed route (to another destination) is an error wrapping
// ErrConflict, as is a condition on a header the managed route's match
// already tests.
func (p *Istio) SetRoutes(doc []byte, r Routes) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("istio: %w", err)
	}
	if err := istioSupports(r); err != nil {
		return nil, err
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("istio: %w", err)
	}
	s, l, err := p.routeList(f)
	if err != nil {
		return nil, err
	}
	return setListRoutes("istio", doc, s, l, r, p.headerRouteNode, p.setMirror)
}

// routeList locates the managed route and its VirtualService's http list.
func (p *Istio) routeList(f *yamledit.File) (*split, itemList, error) {
	s, err := p.locate(f)
	if err != nil {
		return nil, itemList{}, err
	}
	items, err := listItems(s, "spec.http")
	if err != nil {
		return nil, itemList{}, err
	}
	return s, itemList{doc: s.doc.Index, path: "spec.http", items: items, managed: s.at}, nil
}

// headerRouteNode builds the http route for h.
func (p *Istio) headerRouteNode(s *split, managed *yaml.Node, h HeaderRoute) (*yaml.Node, error) {
	at := fmt.Sprintf("spec.http[%d].match", s.at)
	entries, err := matchEntries(s.object, at, mapGet(managed, "match"), nil)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		for _, m := range h.Match {
			if err := istioAddCondition(e, m); err != nil {
				err.Object, err.Path, err.Msg = s.object, fmt.Sprintf("%s[%d]", at, i), fmt.Sprintf("header route %q: %s", h.Name, err.Msg)
				return nil, err
			}
		}
	}
	dest, err := s.canaryItem()
	if err != nil {
		return nil, err
	}
	n := mapNode("name", strNode(RoutePrefix+h.Name), "match", seqNode(entries...), "route", seqNode(dest))
	for i := 0; i+1 < len(managed.Content); i += 2 {
		if k := managed.Content[i].Value; istioCopied[k] {
			mapSet(n, k, managed.Content[i+1])
		}
	}
	return n, nil
}

// matchEntries copies the entries of a match list (nil: none) for ANDing
// conditions into; with no entry it returns one, a copy of def or an empty
// mapping.
func matchEntries(obj, at string, list, def *yaml.Node) ([]*yaml.Node, error) {
	if list == nil || list.Kind == yaml.SequenceNode && len(list.Content) == 0 {
		if def == nil {
			def = mapNode()
		}
		return []*yaml.Node{def}, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, shapeError(obj, at, "want a list of matches", nil)
	}
	entries := make([]*yaml.Node, len(list.Content))
	for i, e := range list.Content {
		if e.Kind != yaml.MappingNode {
			return nil, shapeError(obj, fmt.Sprintf("%s[%d]", at, i), "want a mapping", nil)
		}
		entries[i] = copyNode(e)
	}
	return entries, nil
}

// istioAddCondition ANDs m into match entry e (a copy). A failure is a
// PathError without object and path, which the caller fills in.
func istioAddCondition(e *yaml.Node, m Match) *PathError {
	field, key, sm := "headers", strings.ToLower(m.Name), mapNode(string(m.Op), strNode(m.Value))
	switch {
	case m.On == OnCookie:
		key, sm = "cookie", mapNode("regex", strNode(re2.cookieRegex(m.Name, m.Op, m.Value)))
	case m.On == OnQueryParam && m.Op == Prefix: // Istio matches query parameters exactly or by regex only
		field, key, sm = "queryParams", m.Name, mapNode("regex", strNode(prefixRegex(m.Value)))
	case m.On == OnQueryParam:
		field, key = "queryParams", m.Name
	}
	conds := mapGet(e, field)
	if conds == nil {
		conds = mapNode()
		mapSet(e, field, conds)
	}
	if conds.Kind != yaml.MappingNode {
		return &PathError{Msg: field + " is not a mapping", Err: ErrShape}
	}
	for i := 0; i+1 < len(conds.Content); i += 2 {
		if strings.EqualFold(conds.Content[i].Value, key) {
			return &PathError{Msg: fmt.Sprintf("the managed route already matches %s %q; birdwatch cannot AND a second condition on it", field, key), Err: ErrConflict}
		}
	}
	mapSet(conds, key, sm)
	return nil
}

// readHeaderRoute reads back the route item at index at: the conditions
// its first match entry has beyond the managed route's first entry.
func (p *Istio) readHeaderRoute(s *split, item, managed *yaml.Node, at int) (HeaderRoute, error) {
	c := copyNode(item)
	h := HeaderRoute{Name: strings.TrimPrefix(scalarOf(mapGet(c, "name")), RoutePrefix)}
	path := fmt.Sprintf("spec.http[%d].match", at)
	ours, err := matchEntries(s.object, path, mapGet(c, "match"), nil)
	if err != nil {
		return HeaderRoute{}, err
	}
	base, err := matchEntries(s.object, fmt.Sprintf("spec.http[%d].match", s.at), mapGet(managed, "match"), nil)
	if err != nil {
		return HeaderRoute{}, err
	}
	for _, field := range []string{"headers", "queryParams"} {
		conds, had := mapGet(ours[0], field), mapGet(base[0], field)
		if conds == nil {
			continue
		}
		for i := 0; i+1 < len(conds.Content); i += 2 {
			key, sm := conds.Content[i].Value, conds.Content[i+1]
			if prev := mapGet(had, key); prev != nil && sameValue(prev, sm) {
				continue
			}
			m, err := istioCondition(field, key, sm)
			if err != nil {
				return HeaderRoute{}, &PathError{Object: s.object, Path: fmt.Sprintf("%s[0].%s.%s", path, field, escapeKey(key)), Msg: err.Error(), Err: ErrShape}
			}
			h.Match = append(h.Match, m)
		}
	}
	if len(h.Match) == 0 {
		return HeaderRoute{}, &PathError{Object: s.object, Path: path, Msg: fmt.Sprintf(
			"route %s%s matches nothing beyond the managed route; delete it or give it a condition", RoutePrefix, h.Name), Err: ErrShape}
	}
	return h, nil
}

// istioCondition reads one StringMatch ({exact|prefix|regex: v}) back.
func istioCondition(field, key string, sm *yaml.Node) (Match, error) {
	if sm.Kind != yaml.MappingNode || len(sm.Content) != 2 {
		return Match{}, errors.New("want one of exact, prefix or regex")
	}
	op, v := MatchOp(sm.Content[0].Value), scalarOf(sm.Content[1])
	if op != Exact && op != Prefix && op != Regex {
		return Match{}, fmt.Errorf("%q: want exact, prefix or regex", op)
	}
	m := Match{On: OnHeader, Name: key, Op: op, Value: v}
	switch {
	case field == "queryParams":
		m.On = OnQueryParam
		if op == Regex {
			m.Op, m.Value = parseRegex(v)
		}
	case key == "cookie" && op == Regex:
		if c, ok := re2.parseCookie(v); ok {
			return c, nil
		}
	}
	return m, nil
}

// readMirror returns the managed route's mirror if it is birdwatch's: its
// destination is the canary subset.
func (p *Istio) readMirror(s *split, managed *yaml.Node) (*Mirror, error) {
	mirror := mapGet(managed, "mirror")
	if !p.ourMirror(mirror) {
		return nil, nil
	}
	pct := mapGet(managed, "mirrorPercentage")
	if pct == nil {
		return &Mirror{Percent: 100}, nil // Istio mirrors every request without mirrorPercentage
	}
	v, err := strconv.ParseFloat(scalarOf(mapGet(pct, "value")), 64)
	if err == nil && v == 0 {
		return nil, nil // a legal "mirror off"
	}
	if err != nil || !(v > 0 && v <= 100) {
		return nil, &PathError{Object: s.object, Path: fmt.Sprintf("spec.http[%d].mirrorPercentage.value", s.at),
			Msg: fmt.Sprintf("%q is not a percentage in (0, 100]", scalarOf(mapGet(pct, "value"))), Err: ErrShape}
	}
	return &Mirror{Percent: v}, nil
}

// canaryName describes the canary destination for messages: `subset
// "canary"` or `host "podinfo-canary"`.
func (p *Istio) canaryName() string {
	if p.byHost() {
		return fmt.Sprintf("host %q", p.cfg.CanaryService)
	}
	return fmt.Sprintf("subset %q", p.cfg.CanarySubset)
}

// ourMirror reports whether a mirror destination is the canary.
func (p *Istio) ourMirror(mirror *yaml.Node) bool {
	if p.byHost() {
		return mirror != nil && scalarOf(mapGet(mirror, "host")) == p.cfg.CanaryService
	}
	if mirror == nil || scalarOf(mapGet(mirror, "subset")) != p.cfg.CanarySubset {
		return false
	}
	return p.cfg.Host == "" || scalarOf(mapGet(mirror, "host")) == p.cfg.Host
}

// setMirror makes the managed route mirror m to the canary, or stop
// mirroring to it when m is nil.
func (p *Istio) setMirror(doc []byte, s *split, managed *yaml.Node, m *Mirror) ([]byte, error) {
	base := fmt.Sprintf("{%d}spec.http[%d]", s.doc.Index, s.at)
	cur, pct := mapGet(managed, "mirror"), mapGet(managed, "mirrorPercentage")
	ours := p.ourMirror(cur)
	var edits []structEdit
	switch {
	case m == nil && ours:
		edits = append(edits, structEdit{path: base + ".mirror"})
		if pct != nil {
			edits = append(edits, structEdit{path: base + ".mirrorPercentage"})
		}
	case m == nil:
	case cur != nil && !ours:
		return nil, &PathError{Object: s.object, Path: fmt.Sprintf("spec.http[%d].mirror", s.at), Msg: fmt.Sprintf(
			"the managed route already mirrors to %s %s; birdwatch mirrors to %s only where no other mirror is set",
			scalarOf(mapGet(cur, "host")), scalarOf(mapGet(cur, "subset")), p.canaryName()), Err: ErrConflict}
	case mapGet(managed, "mirrors") != nil:
		return nil, &PathError{Object: s.object, Path: fmt.Sprintf("spec.http[%d].mirrors", s.at), Msg: "the managed route has a mirrors list; Istio accepts mirror or mirrors, not both, so birdwatch will not add mirror", Err: ErrConflict}
	default:
		item, err := s.canaryItem()
		if err != nil {
			return nil, err
		}
		dest := mapGet(item, "destination")
		if dest == nil || dest.Kind != yaml.MappingNode {
			return nil, shapeError(s.object, fmt.Sprintf("%s[%d].destination", s.list, s.canary), "want a mapping", nil)
		}
		if !ours || !sameValue(cur, dest) {
			edits = append(edits, structEdit{path: base + ".mirror", value: dest})
		}
		if want := mapNode("value", percentNode(m.Percent)); pct == nil || !sameValue(pct, want) {
			edits = append(edits, structEdit{path: base + ".mirrorPercentage", value: want})
		}
	}
	out, err := applyStruct(doc, edits)
	if err != nil {
		return nil, fmt.Errorf("istio: %s: mirror: %w", s.object, err)
	}
	return out, nil
}

// istioSupports is Supports for istio: one condition per header (the
// cookie being the header "cookie") and per query parameter in a route,
// since a VirtualService match keys its conditions by name.
func istioSupports(r Routes) error {
	for _, h := range r.Headers {
		if err := conditionsOnce("istio", h); err != nil {
			return err
		}
	}
	return nil
}
