package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/statusseal"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestRunSealsStatusesWithTheKey: `run --once` with BIRDWATCH_STATUS_KEY_FILE
// seals the status it commits; without a key it says so on stderr and
// writes no seal.
func TestRunSealsStatusesWithTheKey(t *testing.T) {
	example, err := fs.Sub(templates.Examples, "examples/aleph")
	if err != nil {
		t.Fatal(err)
	}
	for _, withKey := range []bool{true, false} {
		f, err := fleet.Create(t.Context(), t.TempDir(), example, "fleet: initial")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		args := []string{"run", "--once", "--repo", f.URL(), "--cache-dir", filepath.Join(dir, "cache"), "--prometheus", "http://127.0.0.1:1"}
		if withKey {
			key := filepath.Join(dir, "status-key")
			if err := os.WriteFile(key, []byte("a-status-key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--status-key-file", key)
		}
		_, stderr, err := run(t, args...)
		if err != nil {
			t.Fatalf("run (key %v): %v\n%s", withKey, err, stderr)
		}
		msg, err := f.Message(t.Context(), "main")
		if err != nil {
			t.Fatal(err)
		}
		sealed := strings.Contains(msg, statusseal.Trailer+": games/aleph ")
		warned := strings.Contains(stderr, "BIRDWATCH_STATUS_KEY is not set")
		if sealed != withKey || warned == withKey || strings.Contains(stderr, "a-status-key") {
			t.Errorf("key %v: sealed %v, warned %v\n%s\n%s", withKey, sealed, warned, msg, stderr)
		}
	}
}
