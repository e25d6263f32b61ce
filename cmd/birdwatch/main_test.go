package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the CLI in-process and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestValidate(t *testing.T) {
	writeSpec := func(t *testing.T, content string) string {
		dir := t.TempDir()
		p := filepath.Join(dir, ".birdwatch", "games", "aleph.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	example, err := os.ReadFile("../../templates/examples/aleph/.birdwatch/aleph.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		dir        func(t *testing.T) string
		assertions func(t *testing.T, stdout, stderr string, err error)
	}{
		{"the embedded example is valid", func(t *testing.T) string { return "../../templates/examples/aleph" },
			func(t *testing.T, stdout, _ string, err error) {
				if err != nil || stdout != "ok: 1 canaries in 1 files\n" {
					t.Errorf("stdout %q err %v", stdout, err)
				}
			}},
		{"a bad spec names file, line and field and exits 1",
			func(t *testing.T) string {
				return writeSpec(t, strings.Replace(string(example), "judge: sequential", "judge: coinflip", 1))
			},
			func(t *testing.T, _, stderr string, err error) {
				var ee exitError
				if !errors.As(err, &ee) || ee.code != 1 {
					t.Errorf("err %v", err)
				}
				want := `.birdwatch/games/aleph.yaml:27: spec.analysis.judge: judge "coinflip" is not available (have `
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}},
		{"an unknown template is reported", func(t *testing.T) string {
			return writeSpec(t, strings.Replace(string(example), "template: istio-latency-p99", "template: istio-latency-p42", 1))
		}, func(t *testing.T, _, stderr string, err error) {
			if err == nil || !strings.Contains(stderr, ".birdwatch/games/aleph.yaml:40: spec.analysis.metrics[1].template: unknown metric template") {
				t.Errorf("stderr %q", stderr)
			}
		}},
		{"no .birdwatch folder is an error", func(t *testing.T) string { return t.TempDir() },
			func(t *testing.T, _, stderr string, err error) {
				var ee exitError
				if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(stderr, "no .birdwatch folder") {
					t.Errorf("err %v, stderr %q", err, stderr)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := run(t, "validate", tt.dir(t))
			tt.assertions(t, stdout, stderr, err)
		})
	}
}

func TestRunNeedsOnceOrEvery(t *testing.T) {
	_, _, err := run(t, "run", "--repo", "file:///nonexistent")
	if err == nil || !strings.Contains(err.Error(), "exactly one of --once or --every") {
		t.Errorf("err %v", err)
	}
}
