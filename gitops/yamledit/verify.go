package yamledit

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// verify parses out and checks that it has the same documents and nodes as
// before, except that each node in expect now holds its new value (and, if
// it was an untagged plain string, is still a string). Comments are not
// compared: they are outside every splice by construction.
func verify(before []*Document, out []byte, expect map[*yaml.Node]string) error {
	return verifyDocuments(before, out, func(a, b *yaml.Node) error { return sameNode(a, b, expect) })
}

// verifyDocuments parses out and checks it has as many documents as before,
// each root the same as before's by same.
func verifyDocuments(before []*Document, out []byte, same func(a, b *yaml.Node) error) error {
	after, err := Documents(out)
	if err != nil {
		return err
	}
	if len(after) != len(before) {
		return fmt.Errorf("%d documents became %d", len(before), len(after))
	}
	for i := range before {
		if err := same(before[i].Root, after[i].Root); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
	return nil
}

func sameNode(a, b *yaml.Node, expect map[*yaml.Node]string) error {
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("document content appeared or vanished")
		}
		return nil
	}
	if want, ok := expect[a]; ok {
		switch {
		case b.Kind != yaml.ScalarNode || b.Value != want:
			return fmt.Errorf("line %d: edited value reads back as %s %q, want %q", b.Line, kindName(b), b.Value, want)
		case a.Tag == strTag && b.Tag != strTag:
			return fmt.Errorf("line %d: string became %s", b.Line, b.Tag)
		}
		return nil
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Style != b.Style || len(a.Content) != len(b.Content) {
		return fmt.Errorf("line %d: node changed from %s %q to %s %q", a.Line, kindName(a), a.Value, kindName(b), b.Value)
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], expect); err != nil {
			return err
		}
	}
	return nil
}
