package repo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest/githubtest"
)

// TestGitHubAPIMode reads and commits through a GitHub API (githubtest: the
// REST and GraphQL shapes, in front of a real bare repository) without
// cloning: a read fetches only the trees on its path and its blob; a commit
// is createCommitOnBranch; a branch moved by someone else is refused by the
// head check and the decision is made again on the new head, keeping the
// other commit; an unchanged file commits nothing.
func TestGitHubAPIMode(t *testing.T) {
	u := newUpstream(t, seedFiles())
	srv := githubtest.New(t, u.bare, "acme", "gitops", nil)
	g, err := OpenGitHub(GitHubOptions{Owner: "acme", Name: "gitops", Token: "ghs_test", APIURL: srv.URL,
		RetryInitial: 1, RetryMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snap, err := g.Fetch(ctx)
	if err != nil || snap.Commit() != u.head(t) {
		t.Fatalf("Fetch = %v, %v; want %s", snap.Commit(), err, u.head(t))
	}
	const spec = ".birdwatch/canaries/aleph.yaml"
	got, err := snap.ReadFile(spec)
	if err != nil || string(got) != u.show(t, "main", spec) {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	trees, blobs := 0, 0
	for _, c := range srv.Calls() {
		trees += strings.Count(c, "/git/trees/")
		blobs += strings.Count(c, "/git/blobs/")
	}
	if trees != 3 || blobs != 1 {
		t.Fatalf("reading one file made %d tree and %d blob calls, want 3 and 1: %q", trees, blobs, srv.Calls())
	}
	if fi, err := snap.Stat(spec); err != nil || fi.Size != int64(len(got)) || fi.Symlink {
		t.Fatalf("Stat = %+v, %v", fi, err)
	}
	files, err := snap.List(".birdwatch")
	if err != nil || len(files) != 1 || files[0] != spec {
		t.Fatalf("List = %q, %v", files, err)
	}
	if _, err := snap.ReadFile("nope.yaml"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadFile of a missing file: %v", err)
	}

	// A human pushes while the first decision is being made: GitHub refuses
	// the stale commit, the second round sees the human's commit.
	rounds := 0
	res, err := g.Update(ctx, func(s *Snapshot) (*Change, error) {
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
	})
	if err != nil || res.Attempts != 2 || res.Pushed == nil || res.Pushed.Commit() != u.head(t) {
		t.Fatalf("Update = %+v, %v; head %s; want 2 attempts and the pushed head", res, err, u.head(t))
	}
	if log := mustGit(t, u.bare, "log", "--format=%s", "main"); !strings.Contains(log, "human: readme") ||
		!strings.HasPrefix(log, "birdwatch: games/aleph weight 10\n") {
		t.Fatalf("history:\n%s", log)
	}
	if s := u.show(t, "main", ".birdwatch/status/games/aleph.yaml"); !strings.Contains(s, "human line") {
		t.Fatalf("the decision did not see the human's commit: %q", s)
	}
	if b, err := res.Pushed.ReadFile("apps/games/aleph/virtualservice.yaml"); err != nil || string(b) != "weight: 10\n" {
		t.Fatalf("pushed snapshot reads %q, %v", b, err)
	}
	if mode := mustGit(t, u.bare, "ls-tree", "main", "scripts/deploy.sh"); !strings.HasPrefix(mode, "100755") {
		t.Fatalf("executable lost its mode: %s", mode)
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

	// Revision reads an older commit; a hash GitHub does not have is
	// ErrRevisionNotFound.
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

// TestGitHubAPIModeBranchMissing: a branch GitHub does not have is
// ErrBranchNotFound.
func TestGitHubAPIModeBranchMissing(t *testing.T) {
	u := newUpstream(t, seedFiles())
	srv := githubtest.New(t, u.bare, "acme", "gitops", nil)
	g, err := OpenGitHub(GitHubOptions{Owner: "acme", Name: "gitops", Branch: "release", APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Fetch(context.Background()); !errors.Is(err, ErrBranchNotFound) {
		t.Fatalf("Fetch of a missing branch: %v", err)
	}
}
