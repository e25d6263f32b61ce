package yamledit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// change is one token substitution expected in a golden output, in file
// order: the old scalar source text and the new one.
type change struct{ old, new string }

func TestApplyGolden(t *testing.T) {
	tests := []struct {
		name    string
		edits   []Edit
		changes []change
	}{
		{
			name: "comments",
			edits: []Edit{
				{Path: "spec.http[name=primary].route[destination.subset=production].weight", Value: "90"},
				{Path: "spec.http[name=primary].route[destination.subset=canary].weight", Value: "10"},
			},
			changes: []change{{"100", "90"}, {"0", "10"}},
		},
		{
			name: "indentation",
			edits: []Edit{
				{Path: "metadata.labels.version", Value: "v04"},
				{Path: "spec.replicas", Value: "5"},
				{Path: "spec.template.spec.containers[name=server].image", Value: "registry.example.com/games/aleph:v04"},
				{Path: "spec.template.spec.containers[0].args[1]", Value: "9090"},
				{Path: "spec.template.spec.containers[0].env[name=WEIGHT].value", Value: "90"},
			},
			changes: []change{
				{"v03", "v04"}, {"3", "5"},
				{"registry.example.com/games/aleph:v03", "registry.example.com/games/aleph:v04"},
				{`"8080"`, `"9090"`}, {`"100"`, `"90"`},
			},
		},
		{
			name: "crlf",
			edits: []Edit{
				{Path: "spec.http[0].route[1].weight", Value: "10"},
				{Path: "metadata.name", Value: "aleph-2"},
				{Path: "spec.http[0].route[0].weight", Value: "90"},
			},
			changes: []change{{"aleph", "aleph-2"}, {"100", "90"}, {"0", "10"}},
		},
		{
			name: "multidoc",
			edits: []Edit{
				{Path: "{kind=DestinationRule}spec.subsets[name=production].labels.version", Value: "v04"},
				{Path: "data.version", Value: "v04"},
				{Path: "{0}spec.ports[0].port", Value: "8080"},
			},
			changes: []change{{"80", "8080"}, {"v03", "v04"}, {"v03", "v04"}},
		},
		{
			name: "anchors",
			edits: []Edit{
				{Path: "routes[1].weight", Value: "10"},
				{Path: "other.version", Value: "v04"},
			},
			changes: []change{{"0", "10"}, {"v03", "v04"}},
		},
		{
			name: "quoting",
			edits: []Edit{
				{Path: "version", Value: "0.4"},
				{Path: "tag", Value: "true"},
				{Path: "enabled", Value: "no"},
				{Path: "single", Value: "it's"},
				{Path: "double", Value: "tab\there"},
				{Path: "number", Value: "11"},
				{Path: "tagged", Value: "6"},
				{Path: "float", Value: "0.25"},
				{Path: "flow.a", Value: "1,2"},
				{Path: "flow.b", Value: "y2"},
				{Path: "flow.c", Value: "z2"},
			},
			changes: []change{
				{"v03", `"0.4"`}, {"latest", `"true"`}, {`"yes"`, `"no"`}, {`'it is'`, `'it''s'`},
				{`"plain"`, `"tab\there"`}, {"10", "11"}, {"5", "6"}, {"0.5", "0.25"},
				{"x", `"1,2"`}, {`'y'`, `'y2'`}, {`"z"`, `"z2"`},
			},
		},
		{
			name: "unicode-bom",
			edits: []Edit{
				{Path: "metadata.name", Value: "hällo"},
				{Path: "city.weight", Value: "20"},
				{Path: "city.name", Value: "Genève"},
				{Path: "list[1]", Value: "δ"},
			},
			changes: []change{{`"héllo wörld"`, `"hällo"`}, {"Zürich", "Genève"}, {"10", "20"}, {"β", "δ"}},
		},
		{
			name: "empty-values",
			edits: []Edit{
				{Path: "spec.canary", Value: "v04"},
				{Path: "spec.stable", Value: "v03"},
				{Path: "spec.list[0]", Value: "a"},
			},
			changes: []change{{"", " v04"}, {"", " v03"}, {"", " a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", tt.name)
			input := readFile(t, filepath.Join(dir, "input.yaml"))
			want := readFile(t, filepath.Join(dir, "want.yaml"))
			got, err := Apply(input, tt.edits...)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from want.yaml\n--- got\n%s\n--- want\n%s", got, want)
			}
			assertOnlyTokensChanged(t, input, got, tt.changes)
			for _, e := range tt.edits {
				if v, err := Get(got, e.Path); err != nil || v != e.Value {
					t.Errorf("Get(%q) after Apply = %q, %v; want %q", e.Path, v, err, e.Value)
				}
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// assertOnlyTokensChanged checks that out is in with exactly the given token
// substitutions, in file order, and no other byte changed. Each substitution
// is aligned at the last offset (within the common prefix) where in holds
// the old token and out the new one.
func assertOnlyTokensChanged(t *testing.T, in, out []byte, changes []change) {
	t.Helper()
	i, j := 0, 0
	for k, c := range changes {
		common := 0
		for i+common < len(in) && j+common < len(out) && in[i+common] == out[j+common] {
			common++
		}
		at := -1
		for s := common; s >= 0; s-- {
			if bytes.HasPrefix(in[i+s:], []byte(c.old)) && bytes.HasPrefix(out[j+s:], []byte(c.new)) {
				at = s
				break
			}
		}
		if at < 0 {
			t.Fatalf("change %d (%q -> %q) not found at byte %d of input", k, c.old, c.new, i+common)
		}
		i += at + len(c.old)
		j += at + len(c.new)
	}
	if !bytes.Equal(in[i:], out[j:]) {
		t.Fatalf("bytes after the last expected change differ (input byte %d)", i)
	}
}
