package core

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// TestLoopRefusesWhatValidateRefuses commits, to a real repository, what
// `birdwatch validate` refuses in a checkout: a spec that is a symbolic
// link (Git stores its target's name), a spec over 1 MiB (the cap applies
// to the Git object before it is read) and a second definition of the
// canary. The loop refuses each, naming the file, and decides every other
// canary (a duplicate: neither copy acts).
func TestLoopRefusesWhatValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		add  func(t *testing.T, work string)
		want string
		// commits is how many commits the repository then holds: the
		// initial one, the human's, and aleph's start unless it is the
		// duplicated canary.
		commits int
	}{
		{"a symbolic link", func(t *testing.T, work string) {
			if err := os.Symlink("/etc/passwd", filepath.Join(work, ".birdwatch", "x.yaml")); err != nil {
				t.Fatal(err)
			}
		}, ".birdwatch/x.yaml: is a symbolic link", 3},
		{"a 2 MiB spec", func(t *testing.T, work string) {
			big := testSpec + "# " + strings.Repeat("x", 2<<20) + "\n"
			if err := os.WriteFile(filepath.Join(work, ".birdwatch", "big.yaml"), []byte(big), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "over the 1048576-byte (1 MiB) limit", 3},
		{"a duplicate", func(t *testing.T, work string) {
			if err := os.WriteFile(filepath.Join(work, ".birdwatch", "copy.yaml"), []byte(testSpec), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "canary games/aleph is defined 2 times", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, testSpec)
			tt.add(t, f.Work)
			for _, args := range [][]string{{"add", "-A"}, {"commit", "-qm", "add " + tt.name}, {"push", "-q", "origin", "HEAD:main"}} {
				if out, err := exec.Command("git", append([]string{"-C", f.Work}, args...)...).CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", newClock(dataEnd))
			out, err := e.Run(t.Context(), Request{})
			if err != nil {
				t.Fatal(err)
			}
			var reported bool
			for _, o := range out {
				if errors.Is(o.Err, spec.ErrInvalid) && strings.Contains(o.Err.Error(), tt.want) {
					reported = true
				}
			}
			if !reported {
				t.Errorf("outcomes %+v, want an error %q", out, tt.want)
			}
			if s := subjects(t, f); len(s) != tt.commits {
				t.Errorf("commits: %v", s)
			}
		})
	}
}
