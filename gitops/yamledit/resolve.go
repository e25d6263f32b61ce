package yamledit

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxMergeVisits bounds the mappings one key lookup may visit through merge
// keys; YAML allows an anchor to be merged into itself, and nested merges
// of merges could otherwise loop forever or grow exponentially.
const maxMergeVisits = 64

const mergeTag = "!!merge"

// deref follows an alias to its anchored node. It reports whether an alias
// was followed.
func deref(n *yaml.Node) (*yaml.Node, bool) {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias, true
	}
	return n, false
}

// resolve walks p's steps from root.
func resolve(root *yaml.Node, p Path) (found, error) {
	if len(p.steps) == 0 {
		return found{}, fmt.Errorf("empty path: %w", ErrInvalidPath)
	}
	r := found{node: root}
	for i, st := range p.steps {
		cur, aliased := deref(r.node)
		r.viaAlias = r.viaAlias || aliased
		if cur == nil {
			return found{}, notFound(p, i, "empty document")
		}
		if cur.Style&yaml.FlowStyle != 0 {
			r.inFlow = true
		}
		if cur.Anchor != "" {
			r.anchored = append(r.anchored, cur)
		}
		next, merged, err := stepInto(cur, st, p, i)
		if err != nil {
			return found{}, err
		}
		r.node = next
		r.viaAlias = r.viaAlias || merged
	}
	n, aliased := deref(r.node)
	r.node = n
	r.viaAlias = r.viaAlias || aliased
	if n.Anchor != "" {
		r.anchored = append(r.anchored, n)
	}
	return r, nil
}

// stepInto applies one step to cur (not an alias). merged reports that the
// child came from a merge key.
func stepInto(cur *yaml.Node, st step, p Path, i int) (next *yaml.Node, merged bool, err error) {
	switch st.kind {
	case stepKey:
		if cur.Kind != yaml.MappingNode {
			return nil, false, notFound(p, i, "not a mapping (%s)", kindName(cur))
		}
		v, merged, err := mapGet(cur, st.key)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", describeAt(p, i), err)
		}
		if v == nil {
			return nil, false, notFound(p, i, "no key %q", st.key)
		}
		return v, merged, nil
	case stepIndex:
		if cur.Kind != yaml.SequenceNode {
			return nil, false, notFound(p, i, "not a sequence (%s)", kindName(cur))
		}
		if st.index >= len(cur.Content) {
			return nil, false, notFound(p, i, "index %d out of range (%d items)", st.index, len(cur.Content))
		}
		return cur.Content[st.index], false, nil
	default:
		if cur.Kind != yaml.SequenceNode {
			return nil, false, notFound(p, i, "not a sequence (%s)", kindName(cur))
		}
		return matchItem(cur, st, p, i)
	}
}

// matchItem returns the single item of seq that satisfies st's conditions.
func matchItem(seq *yaml.Node, st step, p Path, i int) (*yaml.Node, bool, error) {
	var hit *yaml.Node
	count := 0
	for _, item := range seq.Content {
		if matches(item, st.conds) {
			count++
			if hit == nil {
				hit = item
			}
		}
	}
	sel := Path{steps: []step{st}}
	switch count {
	case 0:
		return nil, false, notFound(p, i, "no item matches %s", sel)
	case 1:
		return hit, false, nil
	default:
		return nil, false, fmt.Errorf("%s: %d items match %s: %w", describeAt(p, i), count, sel, ErrAmbiguous)
	}
}

// matches reports whether n is a mapping where every condition's scalar
// equals its value. Aliases and merge keys are followed; a duplicate key
// makes the condition fail.
func matches(n *yaml.Node, conds []cond) bool {
	for _, c := range conds {
		cur, _ := deref(n)
		for _, k := range c.keys {
			if cur == nil || cur.Kind != yaml.MappingNode {
				return false
			}
			v, _, err := mapGet(cur, k)
			if err != nil {
				return false
			}
			cur, _ = deref(v)
		}
		if cur == nil || cur.Kind != yaml.ScalarNode || cur.Value != c.value {
			return false
		}
	}
	return true
}

// mapGet returns the value of key in mapping m: an explicit key first, then
// the merge keys in order. It returns nil when the key is absent and an
// error wrapping ErrAmbiguous when m states the key twice.
func mapGet(m *yaml.Node, key string) (*yaml.Node, bool, error) {
	budget := maxMergeVisits
	return mapGetBudget(m, key, &budget)
}

func mapGetBudget(m *yaml.Node, key string, budget *int) (*yaml.Node, bool, error) {
	*budget--
	var v *yaml.Node
	hasMerge := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, _ := deref(m.Content[i])
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Tag == mergeTag {
			hasMerge = true
			continue
		}
		if k.Value == key {
			if v != nil {
				return nil, false, fmt.Errorf("key %q appears twice: %w", key, ErrAmbiguous)
			}
			v = m.Content[i+1]
		}
	}
	if v != nil || !hasMerge || *budget <= 0 {
		return v, false, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k, _ := deref(m.Content[i]); k.Kind != yaml.ScalarNode || k.Tag != mergeTag {
			continue
		}
		src, _ := deref(m.Content[i+1])
		sources := []*yaml.Node{src}
		if src.Kind == yaml.SequenceNode {
			sources = src.Content
		}
		for _, s := range sources {
			s, _ = deref(s)
			if s.Kind != yaml.MappingNode {
				continue
			}
			if mv, _, err := mapGetBudget(s, key, budget); err != nil || mv != nil {
				return mv, true, err
			}
		}
	}
	return nil, false, nil
}

func notFound(p Path, i int, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", describeAt(p, i), fmt.Sprintf(format, args...), ErrPathNotFound)
}

// describeAt names the node reached after i steps, for messages.
func describeAt(p Path, i int) string {
	if i == 0 {
		return "document root"
	}
	return p.prefix(i)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "scalar " + n.Tag
	case yaml.AliasNode:
		return "alias"
	default:
		return "empty"
	}
}
