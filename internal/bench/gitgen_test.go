package bench

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	tests := []struct {
		name       string
		spec       Spec
		assertions func(t *testing.T, dir string, err error)
	}{
		{
			name: "history and files",
			spec: Spec{Commits: 40, Files: 120, Seed: 7, Extra: map[string][]byte{".birdwatch/x.yaml": []byte("kind: Canary\n")}},
			assertions: func(t *testing.T, dir string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got := gitOut(t, dir, "rev-list", "--count", "main"); got != "40" {
					t.Errorf("commits = %s, want 40", got)
				}
				files := strings.Split(gitOut(t, dir, "ls-tree", "-r", "--name-only", "main"), "\n")
				if len(files) != 121 {
					t.Errorf("files = %d, want 121", len(files))
				}
				if got := gitOut(t, dir, "show", "main:.birdwatch/x.yaml"); got != "kind: Canary" {
					t.Errorf("extra file = %q", got)
				}
				if got := gitOut(t, dir, "show", "main:"+ManifestPath(119)); !strings.Contains(got, "name: app-119") {
					t.Errorf("manifest 119 = %q", got)
				}
			},
		},
		{
			name: "padding sets the size",
			spec: Spec{Commits: 3, Files: 50, Padding: 20000, Seed: 1},
			assertions: func(t *testing.T, dir string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				size, _ := strconv.Atoi(gitOut(t, dir, "cat-file", "-s", "main:"+ManifestPath(3)))
				if size < 20000 || size > 21500 {
					t.Errorf("manifest size = %d, want about 20,000 + the document", size)
				}
				// Incompressible: the pack is at least three quarters of the raw size.
				pack := gitOut(t, dir, "count-objects", "-v")
				if !strings.Contains(pack, "size-pack: ") {
					t.Fatalf("count-objects: %s", pack)
				}
				kb, _ := strconv.Atoi(strings.Fields(pack[strings.Index(pack, "size-pack: "):])[1])
				if kb < 50*20*3/4 {
					t.Errorf("pack = %d KiB, want at least %d", kb, 50*20*3/4)
				}
			},
		},
		{
			name: "same seed, same repository",
			spec: Spec{Commits: 10, Files: 30, Seed: 9},
			assertions: func(t *testing.T, dir string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				again := filepath.Join(t.TempDir(), "again.git")
				if err := Generate(context.Background(), again, Spec{Commits: 10, Files: 30, Seed: 9}); err != nil {
					t.Fatal(err)
				}
				if a, b := gitOut(t, dir, "rev-parse", "main"), gitOut(t, again, "rev-parse", "main"); a != b {
					t.Errorf("heads differ: %s vs %s", a, b)
				}
			},
		},
		{
			name: "refuses an existing directory",
			spec: Spec{Commits: 1, Files: 1},
			assertions: func(t *testing.T, dir string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if err := Generate(context.Background(), dir, Spec{Commits: 1, Files: 1}); !errors.Is(err, fs.ErrExist) {
					t.Errorf("second Generate: %v, want ErrExist", err)
				}
			},
		},
		{
			name: "refuses an empty spec",
			spec: Spec{},
			assertions: func(t *testing.T, dir string, err error) {
				if err == nil {
					t.Error("want an error")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo.git")
			tt.assertions(t, dir, Generate(context.Background(), dir, tt.spec))
		})
	}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("git", append([]string{"--git-dir", dir}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %v: %v: %s", args, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}
