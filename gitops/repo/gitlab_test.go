package repo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo/gitlabtest"
)

// openGitLabTest serves u's bare repository as acme/gitops through
// gitlabtest and opens it in API mode.
func openGitLabTest(t *testing.T, u *upstream, token string) (*GitLabRepo, *gitlabtest.Server) {
	t.Helper()
	srv := gitlabtest.New(t, u.bare, "acme/gitops", "glpat-test")
	g, err := OpenGitLab(GitLabOptions{Project: "acme/gitops", Token: token, APIURL: srv.URL, RetryInitial: 1, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	return g, srv
}

func countCalls(calls []string, part string) int {
	n := 0
	for _, c := range calls {
		n += strings.Count(c, part)
	}
	return n
}

// TestGitLabAPIMode reads and commits through GitLab's REST API (gitlabtest
// in front of a real bare repository) without cloning: the tree rebuilt
// from GitLab's paginated listings has Git's hash; a read lists only the
// trees on its path and fetches its blob; a commit is POST
// repository/commits with last_commit_id on replaced files.
func TestGitLabAPIMode(t *testing.T) {
	u := newUpstream(t, seedFiles())
	g, srv := openGitLabTest(t, u, "glpat-test")
	srv.MaxPerPage = 2 // the root's 7 entries come in 4 pages
	ctx := context.Background()
	snap, err := g.Fetch(ctx)
	if err != nil || snap.Commit() != u.head(t) {
		t.Fatalf("Fetch = %v, %v; want %s", snap.Commit(), err, u.head(t))
	}
	if want := mustGit(t, u.bare, "rev-parse", "main^{tree}"); snap.tree.String() != want {
		t.Fatalf("tree rebuilt from the listing hashes to %s, Git's is %s", snap.tree, want)
	}
	const spec = ".birdwatch/canaries/aleph.yaml"
	got, err := snap.ReadFile(spec)
	if err != nil || string(got) != u.show(t, "main", spec) {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	calls := srv.Calls()
	if trees, blobs := countCalls(calls, "/repository/tree?"), countCalls(calls, "/raw"); trees != 4+2 || blobs != 1 {
		t.Fatalf("fetch and one read made %d tree and %d blob calls, want 6 (4 root pages, .birdwatch, canaries) and 1: %q", trees, blobs, calls)
	}
	files, err := snap.List(".birdwatch")
	if err != nil || len(files) != 1 || files[0] != spec {
		t.Fatalf("List = %q, %v", files, err)
	}
	if fi, err := snap.Stat(spec); err != nil || fi.Size != int64(len(got)) || fi.Symlink {
		t.Fatalf("Stat = %+v, %v", fi, err)
	}
	if _, err := snap.ReadFile("nope.yaml"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadFile of a missing file: %v", err)
	}

	// A human pushes while the first decision is being made: the head check
	// refuses the stale round, the second sees the human's commit.
	rounds := 0
	decide := func(s *Snapshot) (*Change, error) {
		rounds++
		if rounds == 1 {
			if err := u.humanCommit("README.md", "human line", "human: readme"); err != nil {
				return nil, err
			}
		}
		readme, err := s.ReadFile("README.md")
		if err != nil {
			return nil, err
		}
		return &Change{Files: map[string][]byte{
			"apps/games/aleph/virtualservice.yaml": []byte("weight: 10\n"),
			".birdwatch/status/games/aleph.yaml":   append([]byte("seen: "), readme...),
		}, Message: Message{Subject: "birdwatch: games/aleph weight 10", Body: "Decided by the API-mode test."}}, nil
	}
	res, err := g.Update(ctx, decide)
	if err != nil || res.Attempts != 2 || res.Pushed == nil || res.Pushed.Commit() != u.head(t) {
		t.Fatalf("Update = %+v, %v; head %s; want 2 attempts and the pushed head", res, err, u.head(t))
	}
	if log := mustGit(t, u.bare, "log", "--format=%an: %s", "main"); !strings.Contains(log, "Human Operator: human: readme") ||
		!strings.HasPrefix(log, "birdwatch bot: birdwatch: games/aleph weight 10\n") {
		t.Fatalf("history:\n%s", log)
	}
	if s := u.show(t, "main", ".birdwatch/status/games/aleph.yaml"); !strings.Contains(s, "human line") {
		t.Fatalf("the decision did not see the human's commit: %q", s)
	}
	if msg := mustGit(t, u.bare, "log", "-1", "--format=%B", "main"); !strings.Contains(msg, "Decided by the API-mode test.") {
		t.Fatalf("message lost its body: %q", msg)
	}
	if b, err := res.Pushed.ReadFile("apps/games/aleph/virtualservice.yaml"); err != nil || string(b) != "weight: 10\n" {
		t.Fatalf("pushed snapshot reads %q, %v", b, err)
	}
	calls = srv.Calls()
	if n := countCalls(calls, "POST /api/v4/projects/acme%2Fgitops/repository/commits"); n != 1 {
		t.Fatalf("%d create-commit calls, want 1 (the stale round is stopped by the head check): %q", n, calls)
	}
	if n := countCalls(calls, "HEAD /api/v4/projects/acme%2Fgitops/repository/files/apps%2Fgames%2Faleph%2Fvirtualservice%2Eyaml"); n < 1 {
		t.Fatalf("the replaced file's last commit was not read: %q", calls)
	}

	// The same content again: nothing to commit.
	head := u.head(t)
	res, err = g.Update(ctx, func(*Snapshot) (*Change, error) {
		return &Change{Files: map[string][]byte{"apps/games/aleph/virtualservice.yaml": []byte("weight: 10\n")},
			Message: Message{Subject: "birdwatch: no-op"}}, nil
	})
	if err != nil || res.Pushed != nil || u.head(t) != head {
		t.Fatalf("unchanged Update = %+v, %v", res, err)
	}

	old, err := g.Revision(ctx, snap.Commit())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := old.ReadFile("apps/games/aleph/virtualservice.yaml"); err != nil || string(b) != u.show(t, snap.Commit(), "apps/games/aleph/virtualservice.yaml") {
		t.Fatalf("old revision reads %q, %v", b, err)
	}
	if _, err := g.Revision(ctx, strings.Repeat("ab", 20)); !errors.Is(err, ErrRevisionNotFound) {
		t.Fatalf("Revision of an unknown hash: %v", err)
	}
}

// TestGitLabAPIModeWindow: commits that land between the head check and the
// create-commit call. One that changes a file birdwatch writes makes GitLab
// refuse the commit (last_commit_id), and the decision is made again on it;
// one that changes only other files is not detected: birdwatch's commit
// goes on top of it, and both stay (what GitLabRepo documents).
func TestGitLabAPIModeWindow(t *testing.T) {
	const weights = "apps/games/aleph/virtualservice.yaml"
	for _, tc := range []struct {
		name, path string
		attempts   int
	}{
		{"same file", weights, 2},
		{"other file", "README.md", 1},
		{"new file created by both", ".birdwatch/status/games/aleph.yaml", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, seedFiles())
			g, srv := openGitLabTest(t, u, "glpat-test")
			var read string
			srv.BeforeCommit = func() {
				if srv.BeforeCommit = nil; read == "" {
					t.Error("no read before the commit")
				}
				if err := u.humanCommit(tc.path, "human in the window", "human: "+tc.path); err != nil {
					t.Error(err)
				}
			}
			res, err := g.Update(context.Background(), func(s *Snapshot) (*Change, error) {
				read = s.Commit()
				w, err := s.ReadFile(weights)
				if err != nil {
					return nil, err
				}
				return &Change{Files: map[string][]byte{
					weights:                              append(w, "# weight 10\n"...),
					".birdwatch/status/games/aleph.yaml": []byte("step: 1\n"),
				}, Message: Message{Subject: "birdwatch: games/aleph weight 10"}}, nil
			})
			if err != nil || res.Attempts != tc.attempts || res.Pushed == nil || res.Pushed.Commit() != u.head(t) {
				t.Fatalf("Update = %+v, %v; want %d attempts and the pushed head %s", res, err, tc.attempts, u.head(t))
			}
			log := mustGit(t, u.bare, "log", "--format=%s", "main")
			if !strings.HasPrefix(log, "birdwatch: games/aleph weight 10\nhuman: "+tc.path+"\n") {
				t.Fatalf("history:\n%s", log)
			}
			if tc.path == weights {
				if w := u.show(t, "main", weights); !strings.Contains(w, "human in the window") || !strings.HasSuffix(w, "# weight 10\n") {
					t.Fatalf("the decision was not made again on the human's change: %q", w)
				}
			}
			if tc.attempts == 1 && res.Pushed.parent.String() == read {
				t.Fatalf("the commit's parent is the read head, the human's commit is missing")
			}
		})
	}
}

// TestGitLabAPIModeBadInput: a branch GitLab does not have, a wrong token,
// a project GitLab does not have.
func TestGitLabAPIModeBadInput(t *testing.T) {
	u := newUpstream(t, seedFiles())
	srv := gitlabtest.New(t, u.bare, "acme/gitops", "glpat-test")
	for _, tc := range []struct {
		name    string
		opts    GitLabOptions
		want    error
		wantMsg string
	}{
		{"branch missing", GitLabOptions{Project: "acme/gitops", Branch: "release", Token: "glpat-test"}, ErrBranchNotFound, ""},
		{"wrong token", GitLabOptions{Project: "acme/gitops", Token: "glpat-wrong"}, ErrAuth, "401"},
		{"no token", GitLabOptions{Project: "acme/gitops"}, ErrAuth, "401"},
		{"project missing", GitLabOptions{Project: "acme/nope", Token: "glpat-test"}, ErrBranchNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.APIURL = srv.URL
			g, err := OpenGitLab(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = g.Fetch(context.Background())
			if !errors.Is(err, tc.want) || !strings.Contains(errText(err), tc.wantMsg) || strings.Contains(errText(err), "glpat") {
				t.Fatalf("Fetch: %v; want %v", err, tc.want)
			}
		})
	}
	if _, err := OpenGitLab(GitLabOptions{}); err == nil {
		t.Fatal("OpenGitLab without a project: no error")
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
