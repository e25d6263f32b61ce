package main

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestFiveProcessesAtOnce starts five `birdwatch run --once` processes at the
// same moment on one canary, sharing one cache dir as they would on one host:
// exactly one commit per decision lands, and every process exits 0.
func TestFiveProcessesAtOnce(t *testing.T) {
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
	var wg sync.WaitGroup
	outputs := make([]string, 5)
	errs := make([]error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "run", "--once", "--repo", f.URL(), "--cache-dir", cache, "--prometheus", "http://127.0.0.1:1")
			out, err := cmd.CombinedOutput()
			outputs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	committed := 0
	for i := range 5 {
		if errs[i] != nil {
			t.Errorf("process %d: %v\n%s", i, errs[i], outputs[i])
		}
		if strings.Contains(outputs[i], "[") { // a pushed commit is printed as [hash]
			committed++
		}
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 2 || committed != 1 {
		t.Errorf("%d processes report a commit; history %q", committed, subjects)
	}
}
