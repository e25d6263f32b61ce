package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func decisionMessage(canary string) Message {
	return Message{
		Subject: "birdwatch: " + canary + " v04 weight 1 -> 10 (step 3/7)",
		Body:    "error-rate   Pass  canary 0.11% vs baseline 0.10%\nlatency-p99  Pass  canary 212ms vs baseline 205ms\nscore 100 (pass >= 75)",
		Trailers: []Trailer{
			{Key: "Birdwatch-Canary", Value: canary},
			{Key: "Birdwatch-Decision", Value: "advance"},
			{Key: "Birdwatch-Trigger", Value: "schedule"},
		},
	}
}

// TestCommitPushTransports commits and pushes over every transport, then
// checks the result with the git CLI on the upstream.
func TestCommitPushTransports(t *testing.T) {
	u := newUpstream(t, seedFiles())
	for i, tc := range allTransports(t, u) {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, parent := openFetch(t, Options{URL: tc.url, Auth: tc.auth, CABundle: tc.ca, CacheDir: t.TempDir()})
			if parent.Commit() != u.head(t) {
				t.Fatalf("fetched %s, upstream head is %s", parent.Commit(), u.head(t))
			}
			vs := fmt.Sprintf("kind: VirtualService\n# %s\nweight: %d\n", tc.name, 10+i)
			status := fmt.Sprintf("phase: Progressing\nweight: %d\n", 10+i)
			change := Change{
				Files: map[string][]byte{
					"apps/games/aleph/virtualservice.yaml": []byte(vs),
					".birdwatch/status/games/aleph.yaml":   []byte(status),
				},
				Message: decisionMessage("games/aleph"),
			}
			commit, err := r.Commit(ctx, parent, change)
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if err := r.Push(ctx, commit, parent); err != nil {
				t.Fatalf("Push: %v", err)
			}
			assertPushed(t, u, parent, commit, change)
		})
	}
}

// assertPushed checks with the git CLI that commit is the upstream head,
// child of parent, authored by birdwatch, with the exact message, changing
// exactly the files of change, every other file byte-identical.
func assertPushed(t *testing.T, u *upstream, parent, commit *Snapshot, change Change) {
	t.Helper()
	if head := u.head(t); head != commit.Commit() {
		t.Fatalf("upstream head %s, want our commit %s", head, commit.Commit())
	}
	if p := mustGit(t, u.bare, "rev-parse", commit.Commit()+"^"); p != parent.Commit() {
		t.Fatalf("parent %s, want %s", p, parent.Commit())
	}
	who := mustGit(t, u.bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>", commit.Commit())
	if want := "birdwatch <birdwatch@users.noreply.github.com>|birdwatch <birdwatch@users.noreply.github.com>"; who != want {
		t.Fatalf("author|committer = %q, want %q", who, want)
	}
	raw, err := gitRaw(u.bare, "cat-file", "commit", commit.Commit())
	if err != nil {
		t.Fatal(err)
	}
	_, msg, _ := strings.Cut(raw, "\n\n")
	if msg != change.Message.String() {
		t.Fatalf("message:\n%q\nwant\n%q", msg, change.Message.String())
	}
	trailers := mustGit(t, u.bare, "-c", "trailer.separators=:", "log", "-1", "--format=%(trailers:only,unfold)", commit.Commit())
	var want []string
	for _, tr := range change.Message.Trailers {
		want = append(want, tr.Key+": "+tr.Value)
	}
	if trailers != strings.Join(want, "\n") {
		t.Fatalf("git sees trailers %q, want %q", trailers, want)
	}
	changed := strings.Fields(mustGit(t, u.bare, "diff-tree", "--no-commit-id", "--name-only", "-r", parent.Commit(), commit.Commit()))
	var paths []string
	for p, content := range change.Files {
		paths = append(paths, p)
		if got := u.show(t, commit.Commit(), p); got != string(content) {
			t.Fatalf("%s = %q, want %q", p, got, content)
		}
	}
	sort.Strings(paths)
	if !slices.Equal(changed, paths) {
		t.Fatalf("changed files %q, want %q", changed, paths)
	}
	all, err := parent.List("")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if _, ok := change.Files[p]; !ok && u.show(t, commit.Commit(), p) != u.show(t, parent.Commit(), p) {
			t.Fatalf("untouched file %s differs", p)
		}
	}
	mustGit(t, u.bare, "fsck", "--strict", "--no-progress")
}

// TestCommitTreeMatchesGit applies a change that exercises tree ordering,
// new directories, executable files and deep paths, and checks that the
// tree we write is the very tree `git write-tree` makes from the same files.
func TestCommitTreeMatchesGit(t *testing.T) {
	u := newUpstream(t, seedFiles())
	r, parent := openFetch(t, Options{URL: u.bare, CacheDir: t.TempDir(), Clock: fixedClock})
	files := map[string][]byte{
		"a.b":                       []byte("changed a.b\n"),
		"a/c":                       []byte("changed a/c\n"),
		"a/new/deep/file.yaml":      []byte("new: true\n"),
		"a-/x":                      []byte("dash dir sorts between a. and a/\n"),
		"scripts/deploy.sh":         []byte("#!/bin/sh\necho deploy v2\n"),
		"zz.txt":                    []byte(""),
		"apps/games/gimel/app.yaml": []byte("kind: Deployment\n"),
	}
	commit, err := r.Commit(context.Background(), parent, Change{Files: files, Message: Message{Subject: "shape"}})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := r.Push(context.Background(), commit, parent); err != nil {
		t.Fatalf("Push: %v", err)
	}
	mustGit(t, u.work, "pull", "-q", "--ff-only", "origin", "main")
	mustGit(t, u.work, "reset", "-q", "--hard", parent.Commit())
	for p, c := range files {
		writeFile(t, filepath.Join(u.work, p), string(c))
	}
	if err := os.Chmod(filepath.Join(u.work, "scripts/deploy.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustGit(t, u.work, "add", "-A")
	wantTree := mustGit(t, u.work, "write-tree")
	gotTree := mustGit(t, u.bare, "rev-parse", commit.Commit()+"^{tree}")
	if gotTree != wantTree {
		t.Fatalf("tree %s, git write-tree gives %s", gotTree, wantTree)
	}
	if mode := strings.Fields(mustGit(t, u.bare, "ls-tree", commit.Commit(), "scripts/deploy.sh"))[0]; mode != "100755" {
		t.Fatalf("deploy.sh mode %s, want 100755 kept", mode)
	}
	if got := mustGit(t, u.bare, "log", "-1", "--format=%ct", commit.Commit()); got != fmt.Sprint(fixedClock().Unix()) {
		t.Fatalf("committer time %s, want %d", got, fixedClock().Unix())
	}
	if !commit.Time().Equal(fixedClock()) {
		t.Fatalf("Time() = %v, want %v", commit.Time(), fixedClock())
	}
	mustGit(t, u.bare, "fsck", "--strict", "--no-progress")
}

func fixedClock() time.Time { return time.Date(2031, 5, 4, 3, 2, 1, 0, time.FixedZone("CEST", 2*3600)) }

func TestCommitErrors(t *testing.T) {
	u := newUpstream(t, seedFiles())
	r, parent := openFetch(t, Options{URL: u.bare, CacheDir: t.TempDir()})
	msg := Message{Subject: "x"}
	vs := "apps/games/aleph/virtualservice.yaml"
	tests := []struct {
		name   string
		parent *Snapshot
		change Change
		want   error
	}{
		{name: "same content", change: Change{Files: map[string][]byte{vs: []byte(seedFiles()[vs]), "README.md": []byte("# gitops\n")}, Message: msg}, want: ErrNoChange},
		{name: "no files", change: Change{Message: msg}, want: ErrNoChange},
		{name: "absolute path", change: Change{Files: map[string][]byte{"/etc/x": nil}, Message: msg}, want: ErrInvalidPath},
		{name: "dot dot", change: Change{Files: map[string][]byte{"apps/../../x": nil}, Message: msg}, want: ErrInvalidPath},
		{name: "inside .git", change: Change{Files: map[string][]byte{".git/hooks/post-update": nil}, Message: msg}, want: ErrInvalidPath},
		{name: "directory as file", change: Change{Files: map[string][]byte{"apps/games": []byte("x")}, Message: msg}, want: ErrInvalidPath},
		{name: "file as directory", change: Change{Files: map[string][]byte{vs + "/x": []byte("x")}, Message: msg}, want: ErrInvalidPath},
		{name: "file and directory in one change", change: Change{Files: map[string][]byte{"n/x": nil, "n/x/y": nil}, Message: msg}, want: ErrInvalidPath},
		{name: "empty subject", change: Change{Files: map[string][]byte{"n": nil}, Message: Message{Body: "b"}}, want: ErrInvalidMessage},
		{name: "two-line subject", change: Change{Files: map[string][]byte{"n": nil}, Message: Message{Subject: "a\nb"}}, want: ErrInvalidMessage},
		{name: "bad trailer key", change: Change{Files: map[string][]byte{"n": nil}, Message: Message{Subject: "a", Trailers: []Trailer{{Key: "Bad Key", Value: "v"}}}}, want: ErrInvalidMessage},
		{name: "multi-line trailer", change: Change{Files: map[string][]byte{"n": nil}, Message: Message{Subject: "a", Trailers: []Trailer{{Key: "K", Value: "a\nb"}}}}, want: ErrInvalidMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Commit(context.Background(), parent, tc.change)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("Commit = %v, %v; want nil, %v", got, err, tc.want)
			}
		})
	}
	if u.head(t) != parent.Commit() {
		t.Fatal("a failed Commit moved the branch")
	}
}
