package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleCheckout copies the embedded aleph example into a new checkout.
func exampleCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "../../templates/examples/aleph"
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// editSpec rewrites the checkout's spec with one replacement.
func editSpec(t *testing.T, dir, old, new string) {
	t.Helper()
	p := filepath.Join(dir, ".birdwatch", "aleph.yaml")
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("spec lacks %q (%v)", old, err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestValidateChecksWhatTheLoopChecks: validate reads the checkout like Git
// holds it and refuses what the loop refuses (links, files over 1 MiB,
// .git paths, duplicates) and what would freeze a rollout (a missing
// manifest, a promote value that does not render or a path that does not
// resolve), naming the file and field; it never reads through a link.
func TestValidateChecksWhatTheLoopChecks(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"a spec that links to /etc/passwd", func(t *testing.T, dir string) {
			noErr(t, os.Symlink("/etc/passwd", filepath.Join(dir, ".birdwatch", "x.yaml")))
		}, []string{".birdwatch/x.yaml: is a symbolic link"}},
		{"a spec that links to /dev/zero", func(t *testing.T, dir string) {
			noErr(t, os.Symlink("/dev/zero", filepath.Join(dir, ".birdwatch", "zero.yaml")))
		}, []string{".birdwatch/zero.yaml: is a symbolic link"}},
		{"a folder that links out of the checkout", func(t *testing.T, dir string) {
			noErr(t, os.Symlink("/etc", filepath.Join(dir, ".birdwatch", "team")))
		}, []string{".birdwatch/team: is a symbolic link"}},
		{"a 2 MiB spec", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ".birdwatch", "aleph.yaml"))
			big := string(b) + "# " + strings.Repeat("x", 2<<20) + "\n"
			noErr(t, os.WriteFile(filepath.Join(dir, ".birdwatch", "big.yaml"), []byte(big), 0o644))
		}, []string{".birdwatch/big.yaml: is 209", "bytes, over the 1048576-byte (1 MiB) limit"}},
		{"a duplicate canary in another file", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, ".birdwatch", "aleph.yaml"))
			noErr(t, os.WriteFile(filepath.Join(dir, ".birdwatch", "copy.yaml"), b, 0o644))
		}, []string{"metadata: canary games/aleph is defined 2 times (.birdwatch/aleph.yaml:", ", .birdwatch/copy.yaml:"}},
		{".GIT/config as the manifest", func(t *testing.T, dir string) {
			editSpec(t, dir, "file: apps/games/aleph/virtualservice.yaml", "file: .GIT/config")
		}, []string{`spec.traffic.file: must not point into .git, got ".GIT/config"`}},
		{"apps/.git/config as the manifest", func(t *testing.T, dir string) {
			editSpec(t, dir, "file: apps/games/aleph/virtualservice.yaml", "file: apps/.git/config")
		}, []string{`spec.traffic.file: must not point into .git, got "apps/.git/config"`}},
		{"a missing manifest", func(t *testing.T, dir string) {
			noErr(t, os.Remove(filepath.Join(dir, "apps", "games", "aleph", "virtualservice.yaml")))
		}, []string{"spec.traffic.file: apps/games/aleph/virtualservice.yaml does not exist"}},
		{"a manifest that is a link", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "apps", "games", "aleph", "virtualservice.yaml")
			noErr(t, os.Remove(p))
			noErr(t, os.Symlink("/etc/passwd", p))
		}, []string{"spec.traffic.file: apps/games/aleph/virtualservice.yaml is a symbolic link"}},
		{"a manifest the provider cannot read", func(t *testing.T, dir string) {
			noErr(t, os.WriteFile(filepath.Join(dir, "apps", "games", "aleph", "virtualservice.yaml"), []byte("kind: ConfigMap\n"), 0o644))
		}, []string{"spec.traffic.file: apps/games/aleph/virtualservice.yaml: "}},
		{"a promote value that does not render", func(t *testing.T, dir string) {
			editSpec(t, dir, `value: "{{ .Canary }}"`, `value: '{{ template "x" }}'`)
		}, []string{`spec.promote[0].value: does not render: `, `template "x" not defined`}},
		{"a promote path that does not resolve", func(t *testing.T, dir string) {
			editSpec(t, dir, "path: spec.subsets[name=production].labels.version", "path: spec.subsets[name=prod].labels.version")
		}, []string{"spec.promote[0].path: apps/games/aleph/destinationrule.yaml: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := exampleCheckout(t)
			if stdout, _, err := run(t, "validate", dir); err != nil {
				t.Fatalf("the example before the change: %v %s", err, stdout)
			}
			tt.setup(t, dir)
			_, stderr, err := run(t, "validate", dir)
			var ee exitError
			if !errors.As(err, &ee) || ee.code != 1 {
				t.Errorf("validate passed or failed otherwise: %v\n%s", err, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(tt.name, "duplicate") && strings.Count(stderr, "is defined 2 times") != 2 {
				t.Errorf("a duplicate is not reported in both files:\n%s", stderr)
			}
			if strings.Contains(stderr, "root:") {
				t.Errorf("validate printed a file it reached through a link:\n%s", stderr)
			}
		})
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
