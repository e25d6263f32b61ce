package spec

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// lineIndex maps field paths (spec.steps[2].setWeight) to the line where
// they are written, so validation problems can name a line.
type lineIndex struct {
	byPath map[string]int
	// byLine maps "line:key" to the path of the mapping key on that line.
	byLineKey map[string]string
	// byLineAny maps a line to the deepest path that starts on it.
	byLine map[int]string
	// byValueLine maps a line to the shallowest path whose value, a
	// mapping or a list, starts on it: the field a "got a mapping" type
	// error is about.
	byValueLine map[int]string
}

// newLineIndex walks a document node.
func newLineIndex(doc *yaml.Node) *lineIndex {
	ix := &lineIndex{byPath: map[string]int{}, byLineKey: map[string]string{}, byLine: map[int]string{}, byValueLine: map[int]string{}}
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	ix.walk(root, "")
	return ix
}

func (ix *lineIndex) record(path string, line int) {
	if _, ok := ix.byPath[path]; !ok {
		ix.byPath[path] = line
	}
	ix.byLine[line] = path
}

func (ix *lineIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ix.record(p, k.Line)
			ix.byLineKey[fmt.Sprintf("%d:%s", k.Line, k.Value)] = p
			if _, ok := ix.byValueLine[v.Line]; !ok && (v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode) {
				ix.byValueLine[v.Line] = p
			}
			ix.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			ix.record(p, item.Line)
			ix.walk(item, p)
		}
	case yaml.AliasNode:
		// Aliases point elsewhere; their own line is where they are used.
	}
}

// lineOf returns the line of path, or of its nearest recorded parent.
func (ix *lineIndex) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := ix.byPath[p]; ok {
			return l
		}
	}
	return 0
}

// parentPath drops the last element of a dotted/indexed path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
