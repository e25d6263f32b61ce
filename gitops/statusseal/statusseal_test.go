package statusseal

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

const (
	canary     = "games/aleph"
	statusPath = ".birdwatch/status/games/aleph.yaml"
)

var secret = []byte("birdwatch-status-key-5b1e")

// gitRepo is a real repository worked with the git binary.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("needs git")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=dev", "-c", "user.email=dev@example.com"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// human commits files as a person would: no seal.
func (r *gitRepo) human(message string, files map[string]string) {
	for p, c := range files {
		r.write(p, c)
	}
	r.git("add", "-A")
	r.git("commit", "-qm", message)
}

// birdwatch commits a status as birdwatch does: sealed over the blob and the parent.
func (r *gitRepo) birdwatch(message, status string) {
	r.write(statusPath, status)
	blob := plumbing.NewHash(r.git("hash-object", statusPath))
	parent := plumbing.ZeroHash
	if out, err := exec.Command("git", "-C", r.dir, "rev-parse", "-q", "--verify", "HEAD").Output(); err == nil {
		parent = plumbing.NewHash(strings.TrimSpace(string(out)))
	}
	r.git("add", "-A")
	r.git("commit", "-qm", message+"\n\nBirdwatch-Decision: advance\n"+Trailer+": "+Seal(secret, canary, statusPath, blob, parent))
}

func (r *gitRepo) verify() error {
	r.t.Helper()
	repo, err := git.PlainOpen(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	return Check(context.Background(), Objects{repo.Storer}, head.Hash(), secret, canary, statusPath)
}

func (r *gitRepo) head() string { return r.git("rev-parse", "HEAD") }

// TestCheck: a status is trusted only when the last commit that changed it
// is birdwatch's, sealed for that very change. A forged status, a status
// reverted to an older sealed one and a copied seal are each caught, naming
// the commit; birdwatch's next sealed commit (the freeze, then the
// operator's resume) is trusted again.
func TestCheck(t *testing.T) {
	r := newGitRepo(t)
	r.human("fleet: initial", map[string]string{"apps/vs.yaml": "weight: 0\n"})
	if err := r.verify(); err != nil {
		t.Fatalf("no status yet: %v", err)
	}
	step1 := "generation: v04\nphase: Progressing\nstep: 1\nweight: 10\n"
	r.birdwatch("games/aleph v04: start", step1)
	r.human("apps: unrelated change", map[string]string{"apps/other.yaml": "x: 1\n"})
	if err := r.verify(); err != nil {
		t.Fatalf("a sealed status under a human's unrelated commit: %v", err)
	}
	sealedMsg := r.git("log", "-1", "--format=%B", "HEAD~1")

	// A forged status: promote with no analysis.
	r.human("aleph: ship it", map[string]string{statusPath: "generation: v04\nphase: Progressing\nstep: 7\nweight: 50\n"})
	forged := r.head()
	err := r.verify()
	var tampered *Tampered
	if !errors.As(err, &tampered) || tampered.Commit != forged || !errors.Is(err, ErrTampered) ||
		!strings.Contains(err.Error(), "changed by commit "+forged[:12]) || !strings.Contains(err.Error(), "no Birdwatch-Status-Seal trailer") {
		t.Fatalf("forged status: %v", err)
	}
	if string(tampered.Sealed) != step1 {
		t.Fatalf("the last sealed status: %q, want %q", tampered.Sealed, step1)
	}
	// A second human commit on top does not launder the forgery.
	r.human("aleph: tweak", map[string]string{statusPath: "generation: v04\nphase: Progressing\nstep: 7\nweight: 60\n"})
	if err := r.verify(); !errors.As(err, &tampered) || string(tampered.Sealed) != step1 {
		t.Fatalf("forged twice: %v (sealed %q)", err, tampered.Sealed)
	}

	// birdwatch freezes (sealed), then the operator's /birdwatch resume (sealed).
	r.birdwatch("games/aleph v04: freeze", "generation: v04\nphase: Frozen\nstep: 1\nweight: 10\nmessage: changed by "+forged[:12]+"\n")
	if err := r.verify(); err != nil {
		t.Fatalf("after birdwatch's freeze: %v", err)
	}
	r.birdwatch("games/aleph v04: resume by github:alice", "generation: v04\nphase: Progressing\nstep: 2\nweight: 10\n")
	if err := r.verify(); err != nil {
		t.Fatalf("after the resume: %v", err)
	}

	// A reverted status: the older sealed bytes come back in a human's commit.
	r.human("revert status", map[string]string{statusPath: step1})
	if err := r.verify(); !errors.As(err, &tampered) || tampered.Commit != r.head() {
		t.Fatalf("reverted status: %v", err)
	}
	r.birdwatch("games/aleph v04: freeze", "generation: v04\nphase: Frozen\nstep: 2\nweight: 10\n")

	// A seal copied from birdwatch's earlier commit.
	r.write(statusPath, "generation: v04\nphase: Succeeded\nstep: 7\nweight: 0\n")
	r.git("add", "-A")
	r.git("commit", "-qm", sealedMsg)
	if err := r.verify(); !errors.As(err, &tampered) || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("copied seal: %v", err)
	}

	// A seal made with another key.
	other := newGitRepo(t)
	other.human("fleet: initial", map[string]string{"apps/vs.yaml": "weight: 0\n"})
	other.birdwatch("start", step1)
	repo, _ := git.PlainOpen(other.dir)
	head, _ := repo.Head()
	if err := Check(context.Background(), Objects{repo.Storer}, head.Hash(), []byte("another key"), canary, statusPath); !errors.Is(err, ErrTampered) {
		t.Errorf("another key: %v", err)
	}
}

// TestCheckMerges: pull-request mode's sealed commit merged by a human
// (a merge commit) is birdwatch's; a human's branch merged the same way
// is not, and the error names the branch's commit.
func TestCheckMerges(t *testing.T) {
	r := newGitRepo(t)
	r.human("fleet: initial", map[string]string{"apps/vs.yaml": "weight: 0\n"})
	r.birdwatch("start", "generation: v04\nphase: Progressing\nstep: 1\nweight: 10\n")
	r.git("checkout", "-qb", "birdwatch/games-aleph/2")
	r.birdwatch("advance", "generation: v04\nphase: Progressing\nstep: 2\nweight: 20\n")
	r.git("checkout", "-q", "main")
	r.human("apps: unrelated", map[string]string{"apps/other.yaml": "x: 1\n"})
	r.git("merge", "-q", "--no-ff", "-m", "Merge pull request #7", "birdwatch/games-aleph/2")
	if err := r.verify(); err != nil {
		t.Fatalf("birdwatch's pull request merged: %v", err)
	}

	r.git("checkout", "-qb", "mallory")
	r.human("ship it", map[string]string{statusPath: "generation: v04\nphase: Progressing\nstep: 7\nweight: 50\n"})
	forged := r.head()
	r.git("checkout", "-q", "main")
	r.human("apps: unrelated 2", map[string]string{"apps/other.yaml": "x: 2\n"})
	r.git("merge", "-q", "--no-ff", "-m", "Merge pull request #8", "mallory")
	var tampered *Tampered
	if err := r.verify(); !errors.As(err, &tampered) || !strings.Contains(tampered.Why, "merged from commit "+forged[:12]) ||
		!strings.Contains(string(tampered.Sealed), "step: 2") {
		t.Fatalf("a human's branch merged: %v", err)
	}
}
