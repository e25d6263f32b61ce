package main

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestSIGKILLAnywhereConverges kills `birdwatch run --once` with SIGKILL at
// twelve points of its life (from start-up to after the push), all on one
// cache dir, then lets one run finish: the fleet holds exactly the one
// decision, never a half-written one, and the cache that killed processes
// left behind still works (or is rebuilt).
func TestSIGKILLAnywhereConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	bin := filepath.Join(t.TempDir(), "birdwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	example, err := fs.Sub(templates.Examples, "examples/aleph")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Create(t.Context(), t.TempDir(), example, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	args := []string{"run", "--once", "--repo", f.URL(), "--cache-dir", cache, "--prometheus", "http://127.0.0.1:1"}
	for i := range 12 {
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * 12 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the run after the kills: %v\n%s", err, out)
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 2 || !strings.HasPrefix(subjects[0], "birdwatch: games/aleph v04 advance, weight 0 -> 1") {
		t.Errorf("history after the kills %q", subjects)
	}
	if out, err := exec.Command("git", "--git-dir", f.Bare, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Errorf("the fleet repository is damaged: %v\n%s", err, out)
	}
}
