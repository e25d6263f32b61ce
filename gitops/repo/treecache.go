package repo

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxCachedTreeEntries bounds the decoded trees one object store keeps, in
// tree entries (about 100 bytes each): 1<<18 is about 25 MiB.
const maxCachedTreeEntries = 1 << 18

// cachedTree is a decoded tree: its entries in Git order.
type cachedTree struct {
	entries []object.TreeEntry
}

// find returns the index of the entry called name (file or directory).
func (t *cachedTree) find(name string) (int, bool) {
	for _, dir := range []bool{false, true} {
		i, ok := slices.BinarySearchFunc(t.entries, name, func(e object.TreeEntry, n string) int {
			return compareEntryNames(e.Name, e.Mode == filemode.Dir, n, dir)
		})
		if ok && (t.entries[i].Mode == filemode.Dir) == dir {
			return i, true
		}
	}
	return 0, false
}

// treeCache keeps decoded trees by hash, so that a chain of commits (each
// one's trees are the next one's parents) and reads along the same paths
// decode each tree once instead of once per commit or read: without it a
// tick committing n decisions into a directory of n files decodes n trees
// of n entries. Trees are immutable, so any eviction order is correct; it
// evicts the oldest. The caller holds objects.mu.
type treeCache struct {
	trees   map[plumbing.Hash]*cachedTree
	order   []plumbing.Hash
	entries int
}

// tree returns the tree h, decoded once per store.
func (o *objects) tree(h plumbing.Hash) (*cachedTree, error) {
	if t, ok := o.trees.trees[h]; ok {
		return t, nil
	}
	t, err := object.GetTree(o.st, h)
	if err != nil {
		return nil, err
	}
	entries := t.Entries
	if !slices.IsSortedFunc(entries, compareEntries) {
		// Not in Git order (a tree Git would refuse): order it, so that
		// lookups and the trees written from it are as Git wants them.
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, compareEntries)
	}
	ct := &cachedTree{entries: entries}
	o.trees.put(h, ct)
	return ct, nil
}

func (c *treeCache) put(h plumbing.Hash, t *cachedTree) {
	if c.trees == nil {
		c.trees = map[plumbing.Hash]*cachedTree{}
	}
	if _, ok := c.trees[h]; ok {
		return
	}
	c.trees[h] = t
	c.order = append(c.order, h)
	c.entries += len(t.entries)
	for c.entries > maxCachedTreeEntries && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.entries -= len(c.trees[old].entries)
		delete(c.trees, old)
	}
}

// compareEntryNames orders tree entries as Git requires: by name bytes,
// with a directory compared as if its name ended in '/' (so "a.b" < "a/" <
// "a0"). Hand-written: go-git keeps its own ordering unexported.
func compareEntryNames(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	return cmp.Compare(nameEnd(a, aDir, n), nameEnd(b, bDir, n))
}

// nameEnd is the byte of name after its first n bytes, Git's implicit '/'
// for a directory, or 0 (smaller than any name byte) at the end.
func nameEnd(name string, dir bool, n int) int {
	switch {
	case len(name) > n:
		return int(name[n])
	case dir:
		return '/'
	default:
		return 0
	}
}

func compareEntries(a, b object.TreeEntry) int {
	return compareEntryNames(a.Name, a.Mode == filemode.Dir, b.Name, b.Mode == filemode.Dir)
}

// applyEntries returns base with the entries of set replacing those of the
// same name and the others inserted, in Git order; base is not modified.
// It is linear in the tree's size, as writing the tree is anyway.
func applyEntries(base []object.TreeEntry, idx func(string) (int, bool), set []object.TreeEntry) ([]object.TreeEntry, error) {
	out := slices.Clone(base)
	var added []object.TreeEntry
	for _, e := range set {
		if i, ok := idx(e.Name); ok {
			if (out[i].Mode == filemode.Dir) != (e.Mode == filemode.Dir) {
				return nil, fmt.Errorf("%w: %s changes between file and directory", ErrInvalidPath, e.Name)
			}
			out[i] = e
			continue
		}
		added = append(added, e)
	}
	if len(added) == 0 {
		return out, nil
	}
	slices.SortFunc(added, compareEntries)
	merged := make([]object.TreeEntry, 0, len(out)+len(added))
	i, j := 0, 0
	for i < len(out) || j < len(added) {
		if j == len(added) || (i < len(out) && compareEntries(out[i], added[j]) < 0) {
			merged = append(merged, out[i])
			i++
			continue
		}
		merged = append(merged, added[j])
		j++
	}
	return merged, nil
}
