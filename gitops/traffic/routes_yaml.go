package traffic

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// YAML nodes for the routes the providers write, and the reconciliation of
// birdwatch's items in a list (Istio http routes, Gateway API rules). The
// nodes are handed to yamledit's structural edits, which encode them with
// yaml.v3 and splice them into the file; every byte outside them stays.

// strNode is a string scalar; its tag makes yaml.v3 quote values that
// would read as another type ("100", "true").
func strNode(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// intNode is an integer scalar.
func intNode(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(n, 10)}
}

// percentNode is a number scalar written without trailing zeros: 20, 0.5.
func percentNode(p float64) *yaml.Node {
	if p == float64(int64(p)) {
		return intNode(int64(p))
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: formatPercent(p)}
}

// mapNode builds a block mapping from key, value pairs; nil values are
// left out.
func mapNode(pairs ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(pairs); i += 2 {
		v, _ := pairs[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		m.Content = append(m.Content, strNode(pairs[i].(string)), v)
	}
	return m
}

// seqNode builds a block sequence.
func seqNode(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// copyNode deep-copies n to be written elsewhere in a file: aliases become
// copies of what they refer to and merge keys ("<<") are expanded, so the
// copy needs no anchor; anchors and comments are dropped; styles (flow,
// quoting) and tags are kept.
func copyNode(n *yaml.Node) *yaml.Node {
	return copyDepth(n, 0)
}

// maxCopyDepth stops copying aliases that refer to their own ancestors,
// which yaml.v3 rejects anyway, and absurdly deep documents.
const maxCopyDepth = 200

func copyDepth(n *yaml.Node, depth int) *yaml.Node {
	if n == nil || depth > maxCopyDepth {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	if n.Kind == yaml.AliasNode {
		return copyDepth(n.Alias, depth+1)
	}
	c := &yaml.Node{Kind: n.Kind, Style: n.Style, Tag: n.Tag, Value: n.Value}
	if n.Kind == yaml.MappingNode {
		c.Content = copyEntries(n, depth)
		return c
	}
	for _, e := range n.Content {
		c.Content = append(c.Content, copyDepth(e, depth+1))
	}
	return c
}

// maxExpanded bounds the nodes a list item may expand to through aliases,
// so that an alias bomb in a manifest is an error rather than a hang.
const maxExpanded = 1 << 16

// expandsWithin reports whether n, with aliases followed, has at most
// budget nodes and maxCopyDepth levels.
func expandsWithin(n *yaml.Node, budget int) bool {
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		budget--
		if budget < 0 || depth > maxCopyDepth {
			return false
		}
		if n.Kind == yaml.AliasNode {
			return n.Alias == nil || walk(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			if !walk(c, depth+1) {
				return false
			}
		}
		return true
	}
	return n == nil || walk(n, 0)
}

// listItems returns the items of the block list at path in s's document,
// aliases resolved, each checked to expand to a bounded number of nodes.
func listItems(s *split, path string) ([]*yaml.Node, error) {
	list, err := s.doc.Lookup(path)
	if err != nil || list.Kind != yaml.SequenceNode {
		return nil, shapeError(s.object, path, "want a list", err)
	}
	items := make([]*yaml.Node, len(list.Content))
	for i, it := range list.Content {
		if it.Kind == yaml.AliasNode {
			it = it.Alias
		}
		if !expandsWithin(it, maxExpanded) {
			return nil, shapeError(s.object, fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf(
				"aliases expand it to more than %d nodes or %d levels", maxExpanded, maxCopyDepth), nil)
		}
		items[i] = it
	}
	return items, nil
}

// copyEntries copies the entries of mapping n, expanding merge keys: the
// merged entries that n does not set itself take the merge key's place.
func copyEntries(n *yaml.Node, depth int) []*yaml.Node {
	explicit := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value != "<<" || k.Tag != "!!merge" {
			explicit[k.Value] = true
		}
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "<<" || k.Tag != "!!merge" {
			out = append(out, copyDepth(k, depth+1), copyDepth(v, depth+1))
			continue
		}
		for _, src := range mergeSources(v) {
			m := copyDepth(src, depth+1)
			for j := 0; j+1 < len(m.Content); j += 2 {
				if key := m.Content[j].Value; !explicit[key] {
					explicit[key] = true
					out = append(out, m.Content[j], m.Content[j+1])
				}
			}
		}
	}
	return out
}

// mergeSources lists the mappings a merge key's value refers to.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// mapGet returns the value of key in mapping m, or nil; m is copied first
// by callers that must see merged keys.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapSet sets key in mapping m to v, appending the key if absent.
func mapSet(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, strNode(key), v)
}

// mapDelete removes key from mapping m.
func mapDelete(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// scalarOf returns the value of scalar n, or "" for any other node.
func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// sameValue reports whether a and b hold the same data, whatever their
// layout, quoting or anchors.
func sameValue(a, b *yaml.Node) bool {
	var va, vb any
	if a == nil || b == nil || a.Decode(&va) != nil || b.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// canaryItem is a copy of the canary's item in the managed list (istio:
// destination and any headers; gatewayapi: the backendRef), without its
// weight.
func (s *split) canaryItem() (*yaml.Node, error) {
	at := fmt.Sprintf("%s[%d]", s.list, s.canary)
	n, err := s.doc.Lookup(at)
	if err != nil || n.Kind != yaml.MappingNode {
		return nil, shapeError(s.object, at, "want a mapping", err)
	}
	c := copyNode(n)
	mapDelete(c, "weight")
	return c, nil
}

// itemList is a block list, in one document, of mappings with a "name"
// key: the http routes of a VirtualService, the rules of an HTTPRoute.
type itemList struct {
	doc     int          // the document's index in the file
	path    string       // the list's path in the document: "spec.http"
	items   []*yaml.Node // the list's items, as parsed
	managed int          // index of the managed item
	// nameOf reads an item's name; nil means its "name" key (alb: the
	// path's backend service name).
	nameOf func(*yaml.Node) string
}

// name returns item it's name.
func (l itemList) name(it *yaml.Node) string {
	if l.nameOf != nil {
		return l.nameOf(it)
	}
	return scalarOf(mapGet(it, "name"))
}

// namedItem is an item birdwatch wants in a list.
type namedItem struct {
	name string // RoutePrefix + HeaderRoute.Name
	node *yaml.Node
}

// ours returns the indexes of the items named RoutePrefix*, in order.
func (l itemList) ours() []int {
	var idx []int
	for i, it := range l.items {
		if strings.HasPrefix(l.name(it), RoutePrefix) {
			idx = append(idx, i)
		}
	}
	return idx
}

// reconcile returns src with want, in order, as the list's only items
// named RoutePrefix*, placed immediately before the managed item. Items
// already in place with the wanted content keep their bytes; the others
// are deleted and inserted anew. Nothing else changes.
func (l itemList) reconcile(src []byte, want []namedItem) ([]byte, error) {
	ours := l.ours()
	keep := l.keepable(ours, want)
	out := src
	deletedBefore := 0
	for i := len(ours) - 1; i >= 0; i-- {
		at := ours[i]
		if keep[at] {
			continue
		}
		if at < l.managed {
			deletedBefore++
		}
		var err error
		if out, err = yamledit.Delete(out, fmt.Sprintf("{%d}%s[%d]", l.doc, l.path, at)); err != nil {
			return nil, fmt.Errorf("remove %s[%d] (%s): %w", l.path, at, l.name(l.items[at]), err)
		}
	}
	kept := make(map[string]bool, len(keep))
	for at := range keep {
		kept[l.name(l.items[at])] = true
	}
	p := l.managed - deletedBefore - len(keep)
	for _, w := range want {
		if !kept[w.name] {
			var err error
			if out, err = yamledit.InsertItem(out, fmt.Sprintf("{%d}%s", l.doc, l.path), p, w.node); err != nil {
				return nil, fmt.Errorf("add %s %s: %w", l.path, w.name, err)
			}
		}
		p++
	}
	return out, nil
}

// keepable returns the indexes of the items of ours that can stay as they
// are: wanted, with the wanted content, before the managed item, and, once
// the others are deleted, contiguous right before it in the wanted order.
func (l itemList) keepable(ours []int, want []namedItem) map[int]bool {
	pos := make(map[string]int, len(want))
	for j, w := range want {
		pos[w.name] = j
	}
	keep := make(map[int]bool)
	var order []int // wanted positions of the kept items, in list order
	first := -1
	for _, at := range ours {
		name := l.name(l.items[at])
		j, ok := pos[name]
		if !ok || at > l.managed || !sameValue(l.items[at], want[j].node) {
			continue
		}
		delete(pos, name) // a second item of the same name goes
		keep[at] = true
		order = append(order, j)
		if first < 0 {
			first = at
		}
	}
	if len(keep) == 0 {
		return keep
	}
	isOurs := make(map[int]bool, len(ours))
	for _, at := range ours {
		isOurs[at] = true
	}
	for i := first; i < l.managed; i++ {
		if !isOurs[i] {
			return map[int]bool{} // a person's item stands between: rebuild the block
		}
	}
	if !slices.IsSorted(order) {
		return map[int]bool{}
	}
	return keep
}

// structEdit is one SetValue (value set) or Delete (value nil).
type structEdit struct {
	path  string
	value *yaml.Node
}

// applyStruct makes edits one after the other.
func applyStruct(doc []byte, edits []structEdit) ([]byte, error) {
	out := doc
	for _, e := range edits {
		var err error
		if e.value == nil {
			out, err = yamledit.Delete(out, e.path)
		} else {
			out, err = yamledit.SetValue(out, e.path, e.value)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setListRoutes is SetRoutes for providers whose header routes are items of
// the list holding the managed route (istio http routes, gatewayapi rules):
// it builds each header route from a copy of the managed one with header,
// sets the mirror with mirror, then reconciles the list's birdwatch items.
func setListRoutes(kind string, doc []byte, s *split, l itemList, r Routes,
	header func(*split, *yaml.Node, HeaderRoute) (*yaml.Node, error),
	mirror func([]byte, *split, *yaml.Node, *Mirror) ([]byte, error)) ([]byte, error) {
	managed := copyNode(l.items[l.managed])
	want := make([]namedItem, 0, len(r.Headers))
	for _, h := range r.Headers {
		n, err := header(s, managed, h)
		if err != nil {
			return nil, err
		}
		want = append(want, namedItem{name: RoutePrefix + h.Name, node: n})
	}
	out, err := mirror(doc, s, managed, r.Mirror)
	if err != nil {
		return nil, err
	}
	if out, err = l.reconcile(out, want); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", kind, s.object, err)
	}
	return out, nil
}

// readListRoutes is Routes for providers whose header routes are items of
// the list holding the managed route: it parses doc, locates the list,
// reads each birdwatch item with header (given a copy of the item and of
// the managed route) and the managed route's mirror with mirror.
func readListRoutes(kind string, doc []byte, locate func(*yamledit.File) (*split, itemList, error),
	header func(s *split, item, managed *yaml.Node, at int) (HeaderRoute, error),
	mirror func(*split, *yaml.Node) (*Mirror, error)) (Routes, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Routes{}, fmt.Errorf("%s: %w", kind, err)
	}
	s, l, err := locate(f)
	if err != nil {
		return Routes{}, err
	}
	managed := copyNode(l.items[l.managed])
	var r Routes
	for _, at := range l.ours() {
		h, err := header(s, copyNode(l.items[at]), managed, at)
		if err != nil {
			return Routes{}, err
		}
		r.Headers = append(r.Headers, h)
	}
	if r.Mirror, err = mirror(s, managed); err != nil {
		return Routes{}, err
	}
	return r, nil
}
