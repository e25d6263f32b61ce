package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const statusPath = ".birdwatch/status/games/aleph.yaml"

func statusChange(content string) *Change {
	return &Change{Files: map[string][]byte{statusPath: []byte(content)}, Message: decisionMessage("games/aleph")}
}

// objectExists asks the upstream whether it has the object.
func objectExists(u *upstream, hash string) bool {
	_, err := gitIn(u.bare, "cat-file", "-e", hash+"^{commit}")
	return err == nil
}

// TestPushRejectedWhenBranchMoved: a human pushes between our Fetch and our
// Push; the push must fail with ErrRejected and leave the human commit as
// the head, over every transport.
func TestPushRejectedWhenBranchMoved(t *testing.T) {
	u := newUpstream(t, seedFiles())
	for i, tc := range allTransports(t, u) {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, snap := openFetch(t, Options{URL: tc.url, Auth: tc.auth, CABundle: tc.ca, CacheDir: t.TempDir()})
			subject := fmt.Sprintf("human: hotfix %d", i)
			if err := u.humanCommit("apps/games/beth/kustomization.yaml", "# "+subject, subject); err != nil {
				t.Fatal(err)
			}
			human := u.head(t)
			commit, err := r.Commit(ctx, snap, *statusChange("phase: Progressing\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Push(ctx, commit, snap)
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Push error = %v, want ErrRejected", err)
			}
			if !strings.Contains(err.Error(), human) {
				t.Fatalf("error %q does not name the new head %s", err, human)
			}
			if u.head(t) != human || objectExists(u, commit.Commit()) {
				t.Fatalf("head %s, want the human commit %s and our commit not pushed", u.head(t), human)
			}
			if got := mustGit(t, u.bare, "log", "-1", "--format=%s", "main"); got != subject {
				t.Fatalf("head subject %q, want %q", got, subject)
			}
		})
	}
}

// TestPushRejectedByServerRace moves the branch after the server advertised
// it (a pre-receive hook updates the ref), so go-git's client-side check
// passes and only the server's atomic old-value check can catch it.
func TestPushRejectedByServerRace(t *testing.T) {
	u := newUpstream(t, seedFiles())
	ctx := context.Background()
	r, snap := openFetch(t, Options{URL: "file://" + u.bare, CacheDir: t.TempDir()})

	// The human's commit waits on a side branch; the hook moves main to it.
	mustGit(t, u.work, "pull", "-q", "--ff-only", "origin", "main")
	writeFile(t, filepath.Join(u.work, "README.md"), "# gitops, edited by a human\n")
	mustGit(t, u.work, "commit", "-q", "-am", "human: racing edit")
	mustGit(t, u.work, "push", "-q", "origin", "HEAD:refs/heads/side")
	human := mustGit(t, u.work, "rev-parse", "HEAD")
	hook := filepath.Join(u.bare, "hooks", "pre-receive")
	script := "#!/bin/sh\ncat >/dev/null\nenv -u GIT_QUARANTINE_PATH git update-ref refs/heads/main " + human + "\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	commit, err := r.Commit(ctx, snap, *statusChange("phase: Progressing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, commit, snap); !errors.Is(err, ErrRejected) {
		t.Fatalf("Push error = %v, want ErrRejected", err)
	}
	if u.head(t) != human {
		t.Fatalf("head %s, want the human commit %s", u.head(t), human)
	}
}

// TestUpdateRedecides: the first push loses to a human; Update must fetch
// again, call decide with the human's commit and land on top of it.
func TestUpdateRedecides(t *testing.T) {
	u := newUpstream(t, seedFiles())
	r, err := Open(context.Background(), Options{URL: u.bare, CacheDir: t.TempDir(), RetryInitial: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	var seen []string
	decide := func(s *Snapshot) (*Change, error) {
		seen = append(seen, s.Commit())
		if len(seen) == 1 { // a human pushes while we decide
			if err := u.humanCommit(statusPath, "note: human was here", "human: annotate status"); err != nil {
				return nil, err
			}
		}
		old, err := s.ReadFile(statusPath)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return statusChange(string(old) + "phase: Progressing\n"), nil
	}
	res, err := r.Update(context.Background(), decide)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	human := mustGit(t, u.bare, "log", "-1", "--format=%H", "--author=Human", "main")
	if res.Attempts != 2 || len(seen) != 2 || seen[1] != human {
		t.Fatalf("attempts %d, decide saw %v; want 2 rounds, the second on the human commit %s", res.Attempts, seen, human)
	}
	if res.Pushed == nil || res.Pushed.Commit() != u.head(t) {
		t.Fatalf("pushed %v, head %s", res.Pushed, u.head(t))
	}
	if p := mustGit(t, u.bare, "rev-parse", "main^"); p != human {
		t.Fatalf("our commit's parent %s, want the human commit %s", p, human)
	}
	if got := u.show(t, "main", statusPath); got != "note: human was here\nphase: Progressing\n" {
		t.Fatalf("status = %q: the human's line must be kept", got)
	}
}

// alwaysOvertaken returns a decide in which a human always pushes first.
func alwaysOvertaken(u *upstream) func(*Snapshot) (*Change, error) {
	n := 0
	return func(*Snapshot) (*Change, error) {
		n++
		if err := u.humanCommit("human.txt", fmt.Sprint(n), fmt.Sprintf("human %d", n)); err != nil {
			return nil, err
		}
		return statusChange(fmt.Sprintf("try %d\n", n)), nil
	}
}

// assertGaveUp checks that Update stopped after MaxAttempts (3) rejected
// rounds with ErrRejected, leaving only the human commits.
func assertGaveUp(t *testing.T, u *upstream, before string, res UpdateResult, err error) {
	t.Helper()
	if !errors.Is(err, ErrRejected) || res.Attempts != 3 || res.Pushed != nil {
		t.Fatalf("res %+v err %v; want ErrRejected after 3 attempts", res, err)
	}
	if n := mustGit(t, u.bare, "rev-list", "--count", "--author=birdwatch", "main"); n != "0" {
		t.Fatalf("%s birdwatch commits landed, want 0", n)
	}
	if n := mustGit(t, u.bare, "rev-list", "--count", before+"..main"); n != "3" {
		t.Fatalf("%s new human commits, want 3", n)
	}
}

// assertNoop checks that Update succeeded in one round without a commit.
func assertNoop(t *testing.T, u *upstream, before string, res UpdateResult, err error) {
	t.Helper()
	if err != nil || res.Pushed != nil || res.Attempts != 1 || u.head(t) != before {
		t.Fatalf("res %+v err %v head moved %v", res, err, u.head(t) != before)
	}
}

func TestUpdateOutcomes(t *testing.T) {
	errDecide := errors.New("metrics unavailable")
	tests := []struct {
		name       string
		decide     func(u *upstream) func(*Snapshot) (*Change, error)
		assertions func(t *testing.T, u *upstream, before string, res UpdateResult, err error)
	}{
		{
			name: "nothing to do",
			decide: func(*upstream) func(*Snapshot) (*Change, error) {
				return func(*Snapshot) (*Change, error) { return nil, nil }
			},
			assertions: assertNoop,
		},
		{
			name: "change already in place",
			decide: func(*upstream) func(*Snapshot) (*Change, error) {
				return func(*Snapshot) (*Change, error) {
					return &Change{Files: map[string][]byte{"README.md": []byte("# gitops\n")}, Message: Message{Subject: "same"}}, nil
				}
			},
			assertions: assertNoop,
		},
		{
			name: "decide fails",
			decide: func(*upstream) func(*Snapshot) (*Change, error) {
				return func(*Snapshot) (*Change, error) { return nil, errDecide }
			},
			assertions: func(t *testing.T, u *upstream, before string, res UpdateResult, err error) {
				if !errors.Is(err, errDecide) || res.Attempts != 1 || u.head(t) != before {
					t.Fatalf("res %+v err %v", res, err)
				}
			},
		},
		{
			name:       "gives up after MaxAttempts",
			decide:     alwaysOvertaken,
			assertions: assertGaveUp,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, seedFiles())
			r, err := Open(context.Background(), Options{URL: u.bare, CacheDir: t.TempDir(), MaxAttempts: 3, RetryInitial: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			before := u.head(t)
			res, err := r.Update(context.Background(), tc.decide(u))
			tc.assertions(t, u, before, res, err)
		})
	}
}

// TestUpdateConcurrent runs five Updates at once, each with its own Repo,
// with an idempotent decision ("append line L to the status file unless it is
// there"), while a human pushes three commits. Exactly one birdwatch commit
// must land and every human commit must be kept.
func TestUpdateConcurrent(t *testing.T) {
	const line = "decision: games/aleph v04 step 3 advance"
	tests := []struct {
		name        string
		sharedCache bool
		url         func(u *upstream) string
	}{
		{name: "separate caches over git daemon", url: func(u *upstream) string { return startGitDaemon(t, u.root) + "gitops.git" }},
		{name: "one shared cache over file URL", sharedCache: true, url: func(u *upstream) string { return "file://" + u.bare }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, seedFiles())
			url, shared := tc.url(u), t.TempDir()
			decide := func(s *Snapshot) (*Change, error) {
				old, err := s.ReadFile(statusPath)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return nil, err
				}
				if strings.Contains(string(old), line+"\n") {
					return nil, nil
				}
				return statusChange(string(old) + line + "\n"), nil
			}
			pushed := runConcurrentUpdates(t, u, url, shared, tc.sharedCache, decide)
			assertOneDecision(t, u, line, pushed)
		})
	}
}

// runConcurrentUpdates runs five Updates (each with its own Repo, in one
// shared cache or five) and a human pushing three commits, all at once. It
// returns how many Updates report a pushed commit.
func runConcurrentUpdates(t *testing.T, u *upstream, url, shared string, sharedCache bool, decide func(*Snapshot) (*Change, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]UpdateResult, 5)
	errs := make([]error, 5)
	for i := range results {
		cache := shared
		if !sharedCache {
			cache = t.TempDir()
		}
		wg.Go(func() {
			r, err := Open(context.Background(), Options{URL: url, CacheDir: cache, MaxAttempts: 30,
				RetryInitial: 2 * time.Millisecond, RetryMax: 40 * time.Millisecond})
			if err != nil {
				errs[i] = err
				return
			}
			defer func() { _ = r.Close() }()
			results[i], errs[i] = r.Update(context.Background(), decide)
		})
	}
	wg.Go(func() {
		for i := range 3 {
			if err := u.humanCommit("apps/games/beth/kustomization.yaml", fmt.Sprintf("# human %d", i), fmt.Sprintf("human: edit %d", i)); err != nil {
				t.Errorf("human commit %d: %v", i, err)
			}
		}
	})
	wg.Wait()
	pushed := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
		if results[i].Pushed != nil {
			pushed++
		}
	}
	return pushed
}

func assertOneDecision(t *testing.T, u *upstream, line string, pushed int) {
	t.Helper()
	ours := strings.Fields(mustGit(t, u.bare, "log", "--format=%H", "--author=birdwatch", "main"))
	if len(ours) != 1 || pushed != 1 {
		t.Fatalf("%d birdwatch commits on main, %d workers report a push; want exactly 1", len(ours), pushed)
	}
	if got := u.show(t, "main", statusPath); strings.Count(got, line) != 1 {
		t.Fatalf("status = %q, want the line once", got)
	}
	subjects := mustGit(t, u.bare, "log", "--format=%s", "--author=Human", "main")
	for i := range 3 {
		if !strings.Contains(subjects, fmt.Sprintf("human: edit %d", i)) {
			t.Fatalf("human commit %d lost; human subjects:\n%s", i, subjects)
		}
	}
	mustGit(t, u.bare, "fsck", "--strict", "--no-progress")
}
