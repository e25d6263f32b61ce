package pullrequest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest/githubtest"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// setup is a real bare repository with a fake GitHub in front of it.
func setup(t *testing.T, autoMerge, requireChecks bool) (*fleet.Repo, *githubtest.Server, *GitHub) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	f, err := fleet.Create(t.Context(), t.TempDir(), fstest.MapFS{"weight.yaml": {Data: []byte("weight: 0\n")}}, "initial")
	if err != nil {
		t.Fatal(err)
	}
	srv := githubtest.New(t, f.Bare, "acme", "fleet", nil)
	srv.RequireChecks = requireChecks
	gh, err := NewGitHub(GitHubConfig{Owner: "acme", Repo: "fleet", Token: "ghs_s3cret", BaseURL: srv.URL, AutoMerge: autoMerge})
	if err != nil {
		t.Fatal(err)
	}
	return f, srv, gh
}

// pushBranch commits weight.yaml = content on a branch from main, with the git CLI.
func pushBranch(t *testing.T, f *fleet.Repo, branch, content string) {
	t.Helper()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = f.Work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=birdwatch", "GIT_AUTHOR_EMAIL=b@example.com",
			"GIT_COMMITTER_NAME=birdwatch", "GIT_COMMITTER_EMAIL=b@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run("fetch", "-q", "origin")
	run("checkout", "-q", "-B", "work", "origin/main")
	if err := os.WriteFile(filepath.Join(f.Work, "weight.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	run("commit", "-q", "-am", "birdwatch: "+content)
	run("push", "-q", "-f", "origin", "HEAD:refs/heads/"+branch)
	run("checkout", "-q", "main")
}

func proposal(branch string, step, weight int) Proposal {
	return Proposal{Branch: branch, Base: "main", Title: "birdwatch: games/aleph v04 advance", Body: "analysis table",
		Labels: []string{"birdwatch"},
		Marker: Marker{Canary: "games/aleph", Parent: strings.Repeat("a", 40), Generation: "v04", Action: "advance", Step: step, Weight: weight}}
}

func TestProposeAndFind(t *testing.T) {
	f, srv, gh := setup(t, false, false)
	ctx := context.Background()
	prefix := BranchPrefix("games", "aleph")
	if pr, err := gh.Find(ctx, prefix); err != nil || pr != nil {
		t.Fatalf("Find on an empty repository = %v, %v", pr, err)
	}
	b1 := Branch("games", "aleph", 1)
	pushBranch(t, f, b1, "weight: 10\n")
	pr, err := gh.Propose(ctx, proposal(b1, 1, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		run        func() (*PR, error)
		assertions func(t *testing.T, pr *PR, err error)
	}{
		{name: "opened with marker and label", run: func() (*PR, error) { return gh.Find(ctx, prefix) },
			assertions: func(t *testing.T, got *PR, err error) {
				if err != nil || got == nil || !got.Open || got.Number != pr.Number || !got.HasLabel("birdwatch") {
					t.Fatalf("Find = %+v, %v", got, err)
				}
				if !got.Marker.SameDecision(proposal(b1, 1, 10).Marker) || got.Marker.Parent != strings.Repeat("a", 40) {
					t.Errorf("marker %+v", got.Marker)
				}
			}},
		{name: "updated in place", run: func() (*PR, error) {
			p := proposal(b1, 1, 10)
			p.Title = "birdwatch: games/aleph v04 rollback"
			return gh.Propose(ctx, p, pr)
		}, assertions: func(t *testing.T, got *PR, err error) {
			if err != nil || got.Number != pr.Number || srv.Count() != 1 || !strings.HasSuffix(got.Title, "rollback") {
				t.Errorf("update = %+v, %v; %d pull requests", got, err, srv.Count())
			}
		}},
		{name: "another branch cannot update it", run: func() (*PR, error) { return gh.Propose(ctx, proposal(Branch("games", "aleph", 2), 2, 50), pr) },
			assertions: func(t *testing.T, _ *PR, err error) {
				if !errors.Is(err, ErrBranchTaken) {
					t.Errorf("err %v, want ErrBranchTaken", err)
				}
			}},
		{name: "closed: found as declined", run: func() (*PR, error) {
			if err := srv.Close(pr.Number); err != nil {
				return nil, err
			}
			return gh.Find(ctx, prefix)
		}, assertions: func(t *testing.T, got *PR, err error) {
			if err != nil || got == nil || !got.Declined() || got.Merged() {
				t.Errorf("Find after close = %+v, %v", got, err)
			}
		}},
		{name: "other canaries' branches are ignored", run: func() (*PR, error) { return gh.Find(ctx, BranchPrefix("games", "beth")) },
			assertions: func(t *testing.T, got *PR, err error) {
				if err != nil || got != nil {
					t.Errorf("Find(beth) = %+v, %v", got, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.run()
			tt.assertions(t, got, err)
		})
	}
}

func TestAutoMerge(t *testing.T) {
	tests := []struct {
		name          string
		requireChecks bool
		conflict      bool
		assertions    func(t *testing.T, f *fleet.Repo, pr *PR)
	}{
		{name: "mergeable now: merged through REST", assertions: func(t *testing.T, f *fleet.Repo, pr *PR) {
			if pr.AutoMerge != "merged" || pr.Open {
				t.Errorf("auto-merge %q, open %v", pr.AutoMerge, pr.Open)
			}
			if got, _ := f.Show(t.Context(), "main", "weight.yaml"); got != "weight: 10\n" {
				t.Errorf("main has %q", got)
			}
			if subj, _ := f.Subjects(t.Context()); !strings.HasPrefix(subj[0], "Merge pull request #1 from acme/birdwatch/games-aleph/1") {
				t.Errorf("main's head is %q", subj[0])
			}
		}},
		{name: "checks required: auto-merge enabled", requireChecks: true, assertions: func(t *testing.T, f *fleet.Repo, pr *PR) {
			if pr.AutoMerge != "enabled" || !pr.Open {
				t.Errorf("auto-merge %q, open %v", pr.AutoMerge, pr.Open)
			}
			if got, _ := f.Show(t.Context(), "main", "weight.yaml"); got != "weight: 0\n" {
				t.Errorf("main changed before the checks: %q", got)
			}
		}},
		{name: "conflict on the weight line: left open", conflict: true, assertions: func(t *testing.T, f *fleet.Repo, pr *PR) {
			if pr.AutoMerge != "not merged: Pull Request is not mergeable" || !pr.Open {
				t.Errorf("auto-merge %q, open %v", pr.AutoMerge, pr.Open)
			}
			if got, _ := f.Show(t.Context(), "main", "weight.yaml"); got != "weight: 5 # human\n" {
				t.Errorf("main lost the human change: %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, gh := setup(t, true, tt.requireChecks)
			b := Branch("games", "aleph", 1)
			pushBranch(t, f, b, "weight: 10\n")
			if tt.conflict {
				if err := f.Commit(t.Context(), "human: weight 5", map[string]fleet.Edit{"weight.yaml": fleet.Put("weight: 5 # human\n")}); err != nil {
					t.Fatal(err)
				}
			}
			pr, err := gh.Propose(context.Background(), proposal(b, 1, 10), nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.assertions(t, f, pr)
		})
	}
}

func TestNoteOnce(t *testing.T) {
	f, srv, gh := setup(t, false, false)
	b := Branch("games", "aleph", 1)
	pushBranch(t, f, b, "weight: 10\n")
	ctx := context.Background()
	pr, err := gh.Propose(ctx, proposal(b, 1, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(pr.Number); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // every run finds the pull request again
		found, err := gh.Find(ctx, BranchPrefix("games", "aleph"))
		if err != nil {
			t.Fatal(err)
		}
		if err := gh.Note(ctx, found, "birdwatch-declined", "holding"); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if c := srv.Comments(pr.Number); len(c) != 1 || c[0] != "holding" {
		t.Errorf("comments %q, want one", c)
	}
	if err := gh.Close(ctx, pr, "superseded"); err != nil {
		t.Fatal(err)
	}
}

func TestMarker(t *testing.T) {
	m := Marker{Canary: "games/aleph", Parent: strings.Repeat("b", 40), Generation: "v04", Action: "rollback", Step: 3, Weight: 0}
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{name: "round trip inside a body", body: "table\n\n" + m.String() + "\n", ok: true},
		{name: "none", body: "a human PR"},
		{name: "malformed step", body: "<!-- birdwatch:decision canary=games/aleph step=x weight=0 -->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseMarker(tt.body)
			if ok != tt.ok || (ok && got != m) {
				t.Errorf("ParseMarker = %+v, %v", got, ok)
			}
		})
	}
	if _, err := NewGitHub(GitHubConfig{Owner: "acme"}); !errors.Is(err, ErrConfig) {
		t.Errorf("no repo: %v", err)
	}
	if _, err := NewGitHub(GitHubConfig{Owner: "acme", Repo: "fleet", MergeMethod: "octopus"}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad method: %v", err)
	}
}
