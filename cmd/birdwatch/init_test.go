package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestInitThenValidate: init on an existing repository's manifests writes a
// spec validate accepts (manifests read by the provider), and .sourceignore.
func TestInitThenValidate(t *testing.T) {
	tests := []struct {
		example, file, want string
	}{
		{"examples/aleph", "apps/games/aleph/virtualservice.yaml", "provider: istio"},
		{"examples/strategies", "apps/games/aleph/httproute.yaml", "stableService: aleph-primary"},
		{"examples/strategies", "apps/games/aleph/ingress.yaml", "route: aleph-canary"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			apps, err := fs.Sub(templates.Examples, tc.example+"/apps")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(filepath.Join(dir, "apps"), apps); err != nil {
				t.Fatal(err)
			}
			args := []string{"init", "--dir", dir, "--name", "aleph", "--namespace", "games", "--file", tc.file, "--stable", "v03"}
			out, _, err := run(t, args...)
			if err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			spec, err := os.ReadFile(filepath.Join(dir, ".birdwatch/games-aleph.yaml"))
			if err != nil || !strings.Contains(string(spec), tc.want) {
				t.Errorf("spec %v\n%s", err, spec)
			}
			if ig, err := os.ReadFile(filepath.Join(dir, ".sourceignore")); err != nil || !strings.Contains(string(ig), "\n/.birdwatch/\n") {
				t.Errorf(".sourceignore %v %q", err, ig)
			}
			if out, stderr, err := run(t, "validate", dir); err != nil || out != "ok: 1 canaries in 1 files\n" {
				t.Errorf("validate: %v\n%s%s", err, out, stderr)
			}
			if _, _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "exists; not overwritten") {
				t.Errorf("second init: %v", err)
			}
		})
	}
	if _, _, err := run(t, "init", "--dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "missing --name, --file, --stable") {
		t.Errorf("init without flags off a terminal: %v", err)
	}
}
