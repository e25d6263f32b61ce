package yamledit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const multiDoc = `apiVersion: v1
kind: Service
metadata: {name: aleph}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: aleph
spec:
  host: "ale\u0070h"
  subsets:
    - name: production
      labels: &prod {version: v03}
    - name: canary
      labels:
        <<: *prod
        track: canary
`

func TestGet(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		path string
		want string
		err  error
	}{
		{name: "first document", doc: multiDoc, path: "metadata.name", want: "aleph"},
		{name: "first document where the path resolves", doc: multiDoc, path: "spec.subsets[name=production].labels.version", want: "v03"},
		{name: "document selector by kind", doc: multiDoc, path: "{kind=DestinationRule}metadata.name", want: "aleph"},
		{name: "document selector by index", doc: multiDoc, path: "{1}kind", want: "DestinationRule"},
		{name: "double-quoted value is unescaped", doc: multiDoc, path: "spec.host", want: "aleph"},
		{name: "merge key", doc: multiDoc, path: "spec.subsets[name=canary].labels.version", want: "v03"},
		{name: "explicit key beside merge key", doc: multiDoc, path: "spec.subsets[1].labels.track", want: "canary"},
		{name: "alias", doc: "a: &x 5\nb: *x\n", path: "b", want: "5"},
		{name: "selector through alias", doc: "d: &d {subset: canary}\nr:\n- destination: *d\n  weight: 7\n", path: "r[destination.subset=canary].weight", want: "7"},
		{name: "self-merging anchor terminates", doc: "a: &a\n  <<: *a\n  x: 1\n", path: "a.y", err: ErrPathNotFound},
		{name: "missing key", doc: multiDoc, path: "spec.nope", err: ErrPathNotFound},
		{name: "index out of range", doc: multiDoc, path: "spec.subsets[2].name", err: ErrPathNotFound},
		{name: "no matching item", doc: multiDoc, path: "spec.subsets[name=blue].name", err: ErrPathNotFound},
		{name: "key into scalar", doc: multiDoc, path: "kind.x", err: ErrPathNotFound},
		{name: "index into mapping", doc: multiDoc, path: "metadata[0]", err: ErrPathNotFound},
		{name: "document index out of range", doc: multiDoc, path: "{7}kind", err: ErrPathNotFound},
		{name: "empty document", doc: "---\n---\n", path: "a", err: ErrPathNotFound},
		{name: "empty file", doc: "", path: "a", err: ErrPathNotFound},
		{name: "ambiguous selector", doc: "l:\n- name: a\n- name: a\n", path: "l[name=a]", err: ErrAmbiguous},
		{name: "duplicate key", doc: "a: 1\na: 2\n", path: "a", err: ErrAmbiguous},
		{name: "not a scalar", doc: multiDoc, path: "spec.subsets", err: ErrNotScalar},
		{name: "invalid path", doc: multiDoc, path: "spec..x", err: ErrInvalidPath},
		{name: "syntax error", doc: "a: [1\n", path: "a", err: ErrSyntax},
		{name: "syntax error in a later document", doc: "a: 1\n---\nb: {\n", path: "a", err: ErrSyntax},
		{name: "UTF-16", doc: "\xff\xfea\x00:\x00", path: "a", err: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Get([]byte(tt.doc), tt.path)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Get(%q) error = %v, want %v", tt.path, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Get(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		edits      []Edit
		assertions func(t *testing.T, got []byte, err error)
	}{
		{
			name:       "block scalar",
			doc:        "a: |\n  text\n",
			edits:      []Edit{{Path: "a", Value: "x"}},
			assertions: wantErr(ErrUnsupported, "block scalar"),
		},
		{
			name:       "multi-line plain scalar",
			doc:        "a: one\n  two\nb: 1\n",
			edits:      []Edit{{Path: "a", Value: "x"}},
			assertions: wantErr(ErrUnsupported, "several lines"),
		},
		{
			name:       "through an alias",
			doc:        "a: &x {b: 1}\nc: *x\n",
			edits:      []Edit{{Path: "c.b", Value: "2"}},
			assertions: wantErr(ErrUnsupported, "alias"),
		},
		{
			name:       "through a merge key",
			doc:        "a: &x {b: 1}\nc:\n  <<: *x\n",
			edits:      []Edit{{Path: "c.b", Value: "2"}},
			assertions: wantErr(ErrUnsupported, "merge key"),
		},
		{
			name:       "anchored value an alias refers to",
			doc:        "a: &w 100\nb: *w\n",
			edits:      []Edit{{Path: "a", Value: "90"}},
			assertions: wantErr(ErrUnsupported, "&w"),
		},
		{
			name:       "inside an anchored mapping an alias refers to",
			doc:        "a: &x {b: 1}\nc: *x\n",
			edits:      []Edit{{Path: "a.b", Value: "2"}},
			assertions: wantErr(ErrUnsupported, "&x"),
		},
		{
			name:       "flow mapping key without a value",
			doc:        "a: {b}\n",
			edits:      []Edit{{Path: "a.b", Value: "2"}},
			assertions: wantErr(ErrUnsupported, "empty value"),
		},
		{
			name:       "not a scalar",
			doc:        "a: {b: 1}\n",
			edits:      []Edit{{Path: "a", Value: "x"}},
			assertions: wantErr(ErrNotScalar, `edit "a"`),
		},
		{
			name:       "missing path names the edit and the node",
			doc:        "spec:\n  http: []\n",
			edits:      []Edit{{Path: "spec.http[0].route", Value: "x"}},
			assertions: wantErr(ErrPathNotFound, "spec.http: index 0 out of range (0 items)"),
		},
		{
			name:       "same node twice with different values",
			doc:        "a: 1\n",
			edits:      []Edit{{Path: "a", Value: "2"}, {Path: "{0}a", Value: "3"}},
			assertions: wantErr(ErrConflict, "edited twice"),
		},
		{
			name:       "invalid UTF-8 value",
			doc:        "a: 1\n",
			edits:      []Edit{{Path: "a", Value: "\xff"}},
			assertions: wantErr(ErrInvalidValue, "UTF-8"),
		},
		{
			name:       "syntax error",
			doc:        "a: 1\n b: 2\n",
			edits:      []Edit{{Path: "a", Value: "2"}},
			assertions: wantErr(ErrSyntax, "document 0"),
		},
		{
			name:  "same node twice with the same value is one edit",
			doc:   "a: 1 # one\n",
			edits: []Edit{{Path: "a", Value: "2"}, {Path: "a", Value: "2"}},
			assertions: func(t *testing.T, got []byte, err error) {
				if err != nil || string(got) != "a: 2 # one\n" {
					t.Fatalf("got %q, %v", got, err)
				}
			},
		},
		{
			name: "no edits returns a copy",
			doc:  "a: 1\n",
			assertions: func(t *testing.T, got []byte, err error) {
				if err != nil || string(got) != "a: 1\n" {
					t.Fatalf("got %q, %v", got, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.doc)
			got, err := Apply(in, tt.edits...)
			if string(in) != tt.doc {
				t.Fatalf("Apply modified its input")
			}
			tt.assertions(t, got, err)
		})
	}
}

func wantErr(target error, substr string) func(t *testing.T, got []byte, err error) {
	return func(t *testing.T, got []byte, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("error = %v, want %v", err, target)
		}
		if !strings.Contains(err.Error(), substr) {
			t.Errorf("error %q does not mention %q", err, substr)
		}
		if got != nil {
			t.Errorf("output %q returned with an error", got)
		}
	}
}

func TestSetValueRendering(t *testing.T) {
	tests := []struct {
		name, doc, value, want string
		path                   string // "" means "v"
	}{
		{name: "string stays plain", doc: "v: v03\n", value: "v04", want: "v: v04\n"},
		{name: "string that looks like a float is quoted", doc: "v: v03\n", value: "0.4", want: "v: \"0.4\"\n"},
		{name: "string that looks like a bool is quoted", doc: "v: v03\n", value: "true", want: "v: \"true\"\n"},
		{name: "YAML 1.1 bool is quoted", doc: "v: v03\n", value: "on", want: "v: \"on\"\n"},
		{name: "YAML 1.1 sexagesimal is quoted", doc: "v: v03\n", value: "1:20", want: "v: \"1:20\"\n"},
		{name: "timestamp is quoted", doc: "v: v03\n", value: "2024-01-02", want: "v: \"2024-01-02\"\n"},
		{name: "null word is quoted", doc: "v: v03\n", value: "null", want: "v: \"null\"\n"},
		{name: "empty string is quoted", doc: "v: v03\n", value: "", want: "v: \"\"\n"},
		{name: "mapping-like string is quoted", doc: "v: v03\n", value: "a: b", want: "v: \"a: b\"\n"},
		{name: "comment-like string is quoted", doc: "v: v03\n", value: "a #b", want: "v: \"a #b\"\n"},
		{name: "leading indicator is quoted", doc: "v: v03\n", value: "*x", want: "v: \"*x\"\n"},
		{name: "leading space is quoted", doc: "v: v03\n", value: " x", want: "v: \" x\"\n"},
		{name: "newline is escaped", doc: "v: v03\n", value: "a\nb", want: "v: \"a\\nb\"\n"},
		{name: "document marker is quoted", path: "[0]", doc: "- v03\n", value: "---", want: "- \"---\"\n"},
		{name: "int stays plain", doc: "v: 100\n", value: "90", want: "v: 90\n"},
		{name: "int may become a word", doc: "v: 100\n", value: "abc", want: "v: abc\n"},
		{name: "single quotes doubled", doc: "v: 'a'\n", value: "it's", want: "v: 'it''s'\n"},
		{name: "single-quoted with newline turns double", doc: "v: 'a'\n", value: "x\ny", want: "v: \"x\\ny\"\n"},
		{name: "double-quoted escapes", doc: "v: \"a\"\n", value: "q\"\\\u2028", want: "v: \"q\\\"\\\\\\u2028\"\n"},
		{name: "flow indicator in flow sequence", path: "v[0]", doc: "v: [a, b]\n", value: "c]", want: "v: [\"c]\", b]\n"},
		{name: "comma allowed in block", doc: "v: a\n", value: "c,d", want: "v: c,d\n"},
		{name: "tag kept", doc: "v: !!str 5\n", value: "true", want: "v: !!str true\n"},
		{name: "anchor kept", doc: "v: &a x\n", value: "z", want: "v: &a z\n"},
		{name: "anchor and tag on the previous line", doc: "v: &a !!str\n  x\n", value: "z", want: "v: &a !!str\n  z\n"},
		{name: "empty value in flow mapping", path: "v.a", doc: "v: {a: }\n", value: "1", want: "v: {a: 1}\n"},
		{name: "multi-line double-quoted replaced whole", doc: "v: \"a\n  b\"\nw: 1\n", value: "c", want: "v: \"c\"\nw: 1\n"},
		{name: "lone CR line endings", doc: "a: 1\rv: x\r", value: "z", want: "a: 1\rv: z\r"},
		{name: "NEL counts as a line break", doc: "a: \"\u0085\"\nv: x\n", value: "z", want: "a: \"\u0085\"\nv: z\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "v"
			}
			got, err := Set([]byte(tt.doc), path, tt.value)
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Fatalf("Set(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}
