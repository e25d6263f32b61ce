package yamledit

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestStructuralErrors(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		op         structOp
		assertions func(t *testing.T, got []byte, err error)
	}{
		{
			name:       "flow sequence parent",
			doc:        "spec:\n  http: [{name: a}]\n",
			op:         structOp{op: "insert", path: "spec.http", index: 0, value: "x"},
			assertions: wantErr(ErrUnsupportedStyle, `insert item 0 into "spec.http"`),
		},
		{
			name:       "flow mapping parent",
			doc:        "metadata: {a: 1}\n",
			op:         structOp{op: "set", path: "metadata.b", value: "2"},
			assertions: wantErr(ErrUnsupportedStyle, "flow style"),
		},
		{
			name:       "delete from a flow sequence",
			doc:        "l: [a, b]\n",
			op:         structOp{op: "delete", path: "l[0]"},
			assertions: wantErr(ErrUnsupportedStyle, `delete "l[0]"`),
		},
		{
			name:       "unsupported style is also unsupported",
			doc:        "l: [a, b]\n",
			op:         structOp{op: "delete", path: "l[0]"},
			assertions: wantErr(ErrUnsupported, "flow style"),
		},
		{
			name:       "anchored sequence",
			doc:        "a: &r\n  - x\nb: *r\n",
			op:         structOp{op: "insert", path: "a", index: 1, value: "y"},
			assertions: wantErr(ErrUnsupportedStyle, "&r"),
		},
		{
			name:       "anchored sequence without alias",
			doc:        "a: &r\n  - x\n",
			op:         structOp{op: "insert", path: "a", index: 1, value: "y"},
			assertions: wantErr(ErrUnsupportedStyle, "anchor &r"),
		},
		{
			name:       "through an alias",
			doc:        "a: &r\n  l:\n  - x\nb: *r\n",
			op:         structOp{op: "insert", path: "b.l", index: 0, value: "y"},
			assertions: wantErr(ErrUnsupportedStyle, "alias"),
		},
		{
			name:       "through a merge key",
			doc:        "base: &b\n  l:\n  - x\nc:\n  <<: *b\n",
			op:         structOp{op: "delete", path: "c.l"},
			assertions: wantErr(ErrUnsupportedStyle, "merge key"),
		},
		{
			name:       "deleting an anchor",
			doc:        "a: &w 1\nb: *w\nc: 2\n",
			op:         structOp{op: "delete", path: "a"},
			assertions: wantErr(ErrUnsupportedStyle, "anchor"),
		},
		{
			name:       "replacing an alias",
			doc:        "a: &w 1\nb: *w\n",
			op:         structOp{op: "set", path: "b", value: 2},
			assertions: wantErr(ErrUnsupportedStyle, "alias"),
		},
		{
			name:       "sequence on its parent's line",
			doc:        "l:\n- - a\n  - b\n",
			op:         structOp{op: "insert", path: "l[0]", index: 0, value: "x"},
			assertions: wantErr(ErrUnsupportedStyle, "does not begin its own line"),
		},
		{
			name:       "index out of range names the path",
			doc:        "spec:\n  http:\n  - name: a\n",
			op:         structOp{op: "insert", path: "spec.http", index: 2, value: "x"},
			assertions: wantErr(ErrPathNotFound, "spec.http: index 2 out of range (1 items)"),
		},
		{
			name:       "negative index",
			doc:        "l:\n- a\n",
			op:         structOp{op: "insert", path: "l", index: -1, value: "x"},
			assertions: wantErr(ErrPathNotFound, "out of range"),
		},
		{
			name:       "insert into a mapping",
			doc:        "spec:\n  http:\n    a: 1\n",
			op:         structOp{op: "insert", path: "spec.http", index: 0, value: "x"},
			assertions: wantErr(ErrPathNotFound, "spec.http: not a sequence (mapping)"),
		},
		{
			name:       "delete a missing item",
			doc:        "spec:\n  http:\n  - name: a\n",
			op:         structOp{op: "delete", path: "spec.http[name=b]"},
			assertions: wantErr(ErrPathNotFound, `delete "spec.http[name=b]"`),
		},
		{
			name:       "set below a missing mapping",
			doc:        "spec: {}\n",
			op:         structOp{op: "set", path: "spec.http.a", value: 1},
			assertions: wantErr(ErrPathNotFound, "no key \"http\""),
		},
		{
			name:       "set into a scalar",
			doc:        "spec: 5\n",
			op:         structOp{op: "set", path: "spec.a", value: 1},
			assertions: wantErr(ErrPathNotFound, "not a mapping"),
		},
		{
			name:       "set with a path ending in an index",
			doc:        "l:\n- a\n",
			op:         structOp{op: "set", path: "l[0]", value: "b"},
			assertions: wantErr(ErrInvalidPath, "must end in a mapping key"),
		},
		{
			name:       "ambiguous selector",
			doc:        "l:\n- name: a\n- name: a\n",
			op:         structOp{op: "delete", path: "l[name=a]"},
			assertions: wantErr(ErrAmbiguous, "2 items match"),
		},
		{
			name:       "value that cannot be encoded",
			doc:        "l:\n- a\n",
			op:         structOp{op: "insert", path: "l", index: 0, value: func() {}},
			assertions: wantErr(ErrInvalidValue, "func()"),
		},
		{
			name:       "value node with an alias",
			doc:        "l:\n- a\n",
			op:         structOp{op: "insert", path: "l", index: 0, value: yamlText("a: &x 1\nb: *x\n")},
			assertions: wantErr(ErrInvalidValue, "anchor or alias"),
		},
		{
			name:       "value node that is not valid UTF-8",
			doc:        "l:\n- a\n",
			op:         structOp{op: "insert", path: "l", index: 0, value: &yaml.Node{Kind: yaml.ScalarNode, Value: "\xff"}},
			assertions: wantErr(ErrInvalidValue, "UTF-8"),
		},
		{
			name:       "syntax error",
			doc:        "l:\n- a\nm: [\n",
			op:         structOp{op: "insert", path: "l", index: 0, value: "x"},
			assertions: wantErr(ErrSyntax, "document 0"),
		},
		{
			name:       "invalid path",
			doc:        "l:\n- a\n",
			op:         structOp{op: "delete", path: "l..x"},
			assertions: wantErr(ErrInvalidPath, "l..x"),
		},
		{
			name:       "document selector matches nothing",
			doc:        "kind: A\nl:\n- a\n---\nkind: B\n",
			op:         structOp{op: "insert", path: "{kind=C}l", index: 0, value: "x"},
			assertions: wantErr(ErrPathNotFound, "no document selected"),
		},
		{
			name:       "appending after a block scalar that ends the file",
			doc:        "l:\n- |\n  a",
			op:         structOp{op: "insert", path: "l", index: 1, value: "b"},
			assertions: wantErr(ErrUnsupportedStyle, "without a line break"),
		},
		{
			name:       "empty collection at the document root",
			doc:        "[]\n",
			op:         structOp{op: "insert", path: "{0}x", index: 0, value: "x"},
			assertions: wantErr(ErrPathNotFound, "not a mapping"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.doc)
			got, err := tt.op.apply(t, in)
			if string(in) != tt.doc {
				t.Fatalf("%s modified its input", tt.op.op)
			}
			tt.assertions(t, got, err)
		})
	}
}

func TestStructuralShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		op   structOp
		want string
	}{
		{
			name: "dash alone on its line",
			doc:  "l:\n-\n  name: a\n-\n  name: b\n",
			op:   structOp{op: "insert", path: "l", index: 1, value: yamlText("x: 1")},
			want: "l:\n-\n  name: a\n- x: 1\n-\n  name: b\n",
		},
		{
			name: "entry whose sequence sits at the key's column",
			doc:  "http:\n- a\n- b\nb: 1\n",
			op:   structOp{op: "delete", path: "http"},
			want: "b: 1\n",
		},
		{
			name: "last item of a root sequence",
			doc:  "# list\n- a # only\n",
			op:   structOp{op: "delete", path: "[0]"},
			want: "# list\n[]\n",
		},
		{
			name: "last key of a document",
			doc:  "# head\na: 1 # c\n",
			op:   structOp{op: "delete", path: "a"},
			want: "# head\n{}\n",
		},
		{
			name: "byte order mark",
			doc:  "\xEF\xBB\xBFa:\n  - x\n",
			op:   structOp{op: "insert", path: "a", index: 0, value: "y"},
			want: "\xEF\xBB\xBFa:\n  - \"y\"\n  - x\n",
		},
		{
			name: "document end marker after the last item",
			doc:  "---\na:\n  - x\n...\n---\nb: 2\n",
			op:   structOp{op: "insert", path: "a", index: 1, value: "z"},
			want: "---\na:\n  - x\n  - z\n...\n---\nb: 2\n",
		},
		{
			name: "key added at the end of the last document",
			doc:  "a:\n  - x\n---\nb: 2\n",
			op:   structOp{op: "set", path: "{1}c", value: []int{1, 2}},
			want: "a:\n  - x\n---\nb: 2\nc:\n  - 1\n  - 2\n",
		},
		{
			name: "comment at the dash column belongs to the next item",
			doc:  "a:\n  - x # one\n  # two\n  - y\n",
			op:   structOp{op: "delete", path: "a[0]"},
			want: "a:\n  # two\n  - y\n",
		},
		{
			name: "attached and foot comments go, others stay",
			doc:  "a:\n  - x\n  # about y\n  - y\n    # foot of y\n\n  # after\n  - z\n",
			op:   structOp{op: "delete", path: "a[1]"},
			want: "a:\n  - x\n\n  # after\n  - z\n",
		},
		{
			name: "block scalar with a blank line inside",
			doc:  "a:\n  b: |\n    text\n\n    more\n  c: 1\n",
			op:   structOp{op: "delete", path: "a.b"},
			want: "a:\n  c: 1\n",
		},
		{
			name: "block scalar keeping its trailing blank lines",
			doc:  "a:\n- |+\n  text\n\n- b\n",
			op:   structOp{op: "delete", path: "a[0]"},
			want: "a:\n- b\n",
		},
		{
			name: "multi-line string replaced by a literal block",
			doc:  "a:\n  b: |\n    text\n  c: 1\n",
			op:   structOp{op: "set", path: "a.b", value: "multi\nline\n"},
			want: "a:\n  b: |\n    multi\n    line\n  c: 1\n",
		},
		{
			name: "string ending in blank lines is double-quoted",
			doc:  "a: 1",
			op:   structOp{op: "set", path: "b", value: "x\n\n"},
			want: "a: 1\nb: \"x\\n\\n\"",
		},
		{
			name: "strings that read as other types are quoted",
			doc:  "a: 1\n",
			op:   structOp{op: "set", path: "b", value: map[string]any{"x": []string{"1.0", "true", "", "on"}}},
			want: "a: 1\nb:\n  x:\n    - \"1.0\"\n    - \"true\"\n    - \"\"\n    - \"on\"\n",
		},
		{
			name: "nil value",
			doc:  "a: x # keep\n",
			op:   structOp{op: "set", path: "a", value: nil},
			want: "a: null # keep\n",
		},
		{
			name: "first key on the dash line",
			doc:  "items:\n- name: a\n  # note\n  value: 1\n",
			op:   structOp{op: "delete", path: "items[0].name"},
			want: "items:\n- value: 1\n",
		},
		{
			name: "block value replaced by a scalar keeps the key's comment",
			doc:  "a: # the list\n  - x\n  - y\nb: 1\n",
			op:   structOp{op: "set", path: "a", value: 5},
			want: "a: 5 # the list\nb: 1\n",
		},
		{
			name: "blank lines between items",
			doc:  "l:\n  - a\n\n  - b\n\n  - c\n",
			op:   structOp{op: "delete", path: "l[1]"},
			want: "l:\n  - a\n\n  - c\n",
		},
		{
			name: "first item followed by a blank line",
			doc:  "l:\n  - a\n\n  - b\n",
			op:   structOp{op: "delete", path: "l[0]"},
			want: "l:\n  - b\n",
		},
		{
			name: "null value filled with a sequence",
			doc:  "spec:\n  http: # routes\n  hosts: [a]\n",
			op:   structOp{op: "insert", path: "spec.http", index: 0, value: yamlText("name: a")},
			want: "spec:\n  http: # routes\n    - name: a\n  hosts: [a]\n",
		},
		{
			name: "multi-line string at the end of a file without a final break",
			doc:  "a: 1",
			op:   structOp{op: "set", path: "b", value: "x\ny\n"},
			want: "a: 1\nb: \"x\\ny\\n\"",
		},
		{
			name: "deleting after a block scalar keeps its line break",
			doc:  "l:\n- |\n  a\n- b",
			op:   structOp{op: "delete", path: "l[1]"},
			want: "l:\n- |\n  a\n",
		},
		{
			name: "lone CR line breaks",
			doc:  "l:\r- a\r- b\r",
			op:   structOp{op: "insert", path: "l", index: 1, value: "x"},
			want: "l:\r- a\r- x\r- b\r",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op.apply(t, []byte(tt.doc))
			if err != nil || string(got) != tt.want {
				t.Fatalf("%s %q = %q, %v\nwant %q", tt.op.op, tt.op.path, got, err, tt.want)
			}
		})
	}
}
