package traffic

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// change is one token substitution expected in a golden output, in file
// order: the old scalar source text and the new one.
type change struct{ old, new string }

type goldenCase struct {
	name    string
	cfg     Config // Provider, StableSubset and CanarySubset are filled in
	before  Weights
	set     Weights
	changes []change
	// stringWeights marks files whose weights are quoted strings; they stay
	// quoted, as the file's author wrote them.
	stringWeights bool
}

// goldenCases are the testdata/istio/<name>/input.yaml -> want.yaml cases.
func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "aleph", before: Weights{100, 0}, set: Weights{90, 10}, changes: []change{{"100", "90"}, {"0", "10"}}},
		{name: "comments", before: Weights{100, 0}, set: Weights{99, 1}, changes: []change{{"100", "99"}, {"0", "1"}}},
		{name: "crlf", before: Weights{99, 1}, set: Weights{90, 10}, changes: []change{{"99", "90"}, {"1", "10"}}},
		{name: "deployment-first", cfg: Config{Route: "primary"}, before: Weights{90, 10}, set: Weights{50, 50}, changes: []change{{"90", "50"}, {"10", "50"}}},
		{name: "anchors", cfg: Config{Host: "aleph.games.svc.cluster.local"}, before: Weights{50, 50}, set: Weights{0, 100}, changes: []change{{"50", "0"}, {"50", "100"}}},
		{name: "quoted-weights", before: Weights{75, 25}, set: Weights{100, 0}, changes: []change{{`"75"`, `"100"`}, {`'25'`, `'0'`}}, stringWeights: true},
		{name: "named-route", cfg: Config{Route: "primary"}, before: Weights{100, 0}, set: Weights{95, 5}, changes: []change{{"100", "95"}, {"0", "5"}}},
		{name: "flow-style", before: Weights{100, 0}, set: Weights{80, 20}, changes: []change{{"100", "80"}, {"0", "20"}}},
		{name: "two-virtualservices", before: Weights{80, 20}, set: Weights{60, 40}, changes: []change{{"80", "60"}, {"20", "40"}}},
		{name: "third-destination", before: Weights{70, 30}, set: Weights{40, 60}, changes: []change{{"30", "60"}, {"70", "40"}}},
	}
}

func (c goldenCase) provider(t testing.TB) Provider {
	t.Helper()
	cfg := c.cfg
	cfg.Provider, cfg.StableSubset, cfg.CanarySubset = "istio", "production", "canary"
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func TestIstioGolden(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "istio", tt.name)
			input := readFile(t, filepath.Join(dir, "input.yaml"))
			want := readFile(t, filepath.Join(dir, "want.yaml"))
			p := tt.provider(t)

			before, err := p.Weights(input)
			if err != nil || before != tt.before {
				t.Fatalf("Weights(input) = %v, %v; want %v", before, err, tt.before)
			}
			got, err := p.SetWeights(input, tt.set)
			if err != nil {
				t.Fatalf("SetWeights(%v): %v", tt.set, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from want.yaml\n--- got\n%s\n--- want\n%s", got, want)
			}
			assertOnlyTokensChanged(t, input, got, tt.changes)
			if after, err := p.Weights(got); err != nil || after != tt.set {
				t.Errorf("Weights(output) = %v, %v; want %v", after, err, tt.set)
			}
			back, err := p.SetWeights(got, tt.before)
			if err != nil || !bytes.Equal(back, input) {
				t.Errorf("setting the weights back to %v does not restore the input: %v\n%s", tt.before, err, back)
			}
		})
	}
}

func readFile(t testing.TB, path string) []byte {
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
