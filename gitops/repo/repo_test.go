package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openFetch opens a Repo for url in cacheDir and fetches its head.
func openFetch(tb testing.TB, opts Options) (*Repo, *Snapshot) {
	tb.Helper()
	r, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	snap, err := r.Fetch(context.Background())
	if err != nil {
		tb.Fatalf("Fetch: %v", err)
	}
	return r, snap
}

func TestSnapshotReadFile(t *testing.T) {
	u := newUpstream(t, seedFiles())
	_, snap := openFetch(t, Options{URL: u.bare, CacheDir: t.TempDir()})

	if got, want := snap.Commit(), u.head(t); got != want {
		t.Fatalf("Commit() = %s, want %s (git rev-parse)", got, want)
	}
	ct, _ := strconv.ParseInt(mustGit(t, u.bare, "log", "-1", "--format=%ct", "main"), 10, 64)
	if got := snap.Time(); !got.Equal(time.Unix(ct, 0)) {
		t.Fatalf("Time() = %v, want committer time %v", got, time.Unix(ct, 0))
	}

	tests := []struct {
		name       string
		path       string
		assertions func(t *testing.T, got []byte, err error)
	}{
		{name: "file at head", path: "apps/games/aleph/virtualservice.yaml", assertions: wantContent(seedFiles()["apps/games/aleph/virtualservice.yaml"])},
		{name: "dot folder", path: ".birdwatch/canaries/aleph.yaml", assertions: wantContent(seedFiles()[".birdwatch/canaries/aleph.yaml"])},
		{name: "top level", path: "README.md", assertions: wantContent("# gitops\n")},
		{name: "name sorting before a directory", path: "a.b", assertions: wantContent(seedFiles()["a.b"])},
		{name: "absent file", path: "apps/games/aleph/rollout.yaml", assertions: wantErr(ErrNotFound)},
		{name: "absent directory", path: "nope/x.yaml", assertions: wantErr(ErrNotFound)},
		{name: "directory is not a file", path: "apps/games", assertions: wantErr(ErrNotFound)},
		{name: "file used as directory", path: "README.md/x", assertions: wantErr(ErrNotFound)},
		{name: "absolute", path: "/etc/passwd", assertions: wantErr(ErrInvalidPath)},
		{name: "dot dot", path: "../gitops.git/config", assertions: wantErr(ErrInvalidPath)},
		{name: "inner dot dot", path: "apps/../README.md", assertions: wantErr(ErrInvalidPath)},
		{name: "git dir", path: ".git/config", assertions: wantErr(ErrInvalidPath)},
		{name: "nested git dir", path: "apps/.GIT/config", assertions: wantErr(ErrInvalidPath)},
		{name: "empty", path: "", assertions: wantErr(ErrInvalidPath)},
		{name: "double slash", path: "apps//games", assertions: wantErr(ErrInvalidPath)},
		{name: "dot segment", path: "./README.md", assertions: wantErr(ErrInvalidPath)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := snap.ReadFile(tc.path)
			tc.assertions(t, got, err)
		})
	}
}

func wantContent(want string) func(*testing.T, []byte, error) {
	return func(t *testing.T, got []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if string(got) != want {
			t.Fatalf("content = %q, want %q", got, want)
		}
	}
}

func wantErr(target error) func(*testing.T, []byte, error) {
	return func(t *testing.T, _ []byte, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("error = %v, want %v", err, target)
		}
	}
}

func TestSnapshotList(t *testing.T) {
	u := newUpstream(t, seedFiles())
	_, snap := openFetch(t, Options{URL: u.bare, CacheDir: t.TempDir()})
	all := make([]string, 0, len(seedFiles()))
	for p := range seedFiles() {
		all = append(all, p)
	}
	sort.Strings(all)
	under := func(prefix string) []string {
		var out []string
		for _, p := range all {
			if strings.HasPrefix(p, prefix) {
				out = append(out, p)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		dir     string
		want    []string
		wantErr error
	}{
		{name: "root", dir: "", want: all},
		{name: "dot root", dir: ".", want: all},
		{name: "subtree", dir: "apps", want: under("apps/")},
		{name: "trailing slash", dir: "apps/games/", want: under("apps/games/")},
		{name: "leaf dir", dir: "apps/games/aleph", want: under("apps/games/aleph/")},
		{name: "dot dir", dir: ".birdwatch", want: under(".birdwatch/")},
		{name: "absent dir", dir: "clusters/prod", want: nil},
		{name: "a file", dir: "README.md", want: nil},
		{name: "dot dot", dir: "apps/..", wantErr: ErrInvalidPath},
		{name: "git dir", dir: ".git", wantErr: ErrInvalidPath},
		{name: "absolute", dir: "/apps", wantErr: ErrInvalidPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := snap.List(tc.dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && !slices.Equal(got, tc.want) {
				t.Fatalf("List(%q) = %q, want %q", tc.dir, got, tc.want)
			}
		})
	}
}

// TestCacheReuse checks that a second Open+Fetch on the same CacheDir sees a
// new upstream commit by fetching into the existing store: the packs of the
// first fetch survive and only a new pack is added.
func TestCacheReuse(t *testing.T) {
	u := newUpstream(t, seedFiles())
	cache := t.TempDir()
	opts := Options{URL: "file://" + u.bare, CacheDir: cache}

	r1, first := openFetch(t, opts)
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	packsBefore := packFiles(t, cache)
	if len(packsBefore) == 0 {
		t.Fatal("no pack in the cache after the first fetch")
	}
	dirInfo := statCacheDir(t, cache)

	if err := u.humanCommit("apps/games/beth/kustomization.yaml", "# tuned", "human: tune beth"); err != nil {
		t.Fatal(err)
	}
	_, second := openFetch(t, opts)
	if second.Commit() != u.head(t) || second.Commit() == first.Commit() {
		t.Fatalf("second fetch saw %s, want new head %s (first was %s)", second.Commit(), u.head(t), first.Commit())
	}
	got, err := second.ReadFile("apps/games/beth/kustomization.yaml")
	if err != nil || !strings.HasSuffix(string(got), "# tuned\n") {
		t.Fatalf("new content = %q, %v", got, err)
	}
	if !os.SameFile(dirInfo, statCacheDir(t, cache)) {
		t.Fatal("the object store was recreated, want it reused")
	}
	packsAfter := packFiles(t, cache)
	for _, p := range packsBefore {
		if !slices.Contains(packsAfter, p) {
			t.Fatalf("pack %s of the first fetch is gone: re-cloned?", p)
		}
	}
	// The second fetch brought only the change: no new pack, the commit,
	// the four trees along the path and the blob as loose objects.
	st, err := statCache(filepath.Dir(filepath.Dir(filepath.Dir(packsAfter[0]))))
	if err != nil || len(packsAfter) != len(packsBefore) || st.loose != 6 {
		t.Fatalf("packs: %d before, %d after; %d loose objects (%v); want no new pack and 6 loose objects",
			len(packsBefore), len(packsAfter), st.loose, err)
	}
	// The old snapshot stays readable.
	if _, err := first.ReadFile("README.md"); err != nil {
		t.Fatalf("old snapshot: %v", err)
	}
}

func packFiles(tb testing.TB, cache string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(cache, "repo-*", "objects", "pack", "*.pack"))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func statCacheDir(tb testing.TB, cache string) os.FileInfo {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(cache, "repo-*", "objects"))
	if err != nil || len(m) != 1 {
		tb.Fatalf("cache stores: %v, %v", m, err)
	}
	fi, err := os.Stat(m[0])
	if err != nil {
		tb.Fatal(err)
	}
	return fi
}

// TestCacheCompaction: Open rebuilds a cache that holds more than
// MaxLooseObjects loose objects, but only when no other Repo has it open.
func TestCacheCompaction(t *testing.T) {
	tests := []struct {
		name        string
		otherOpen   bool
		wantRebuilt bool
	}{
		{name: "unused cache is rebuilt", wantRebuilt: true},
		{name: "cache in use is kept", otherOpen: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			u := newUpstream(t, seedFiles())
			cache := t.TempDir()
			opts := Options{URL: "file://" + u.bare, CacheDir: cache, MaxLooseObjects: 5}
			// r1 tolerates many loose objects, so its own fetches do not
			// compact (see TestLongLivedRepoStaysBounded); r2's Open then
			// finds 9: 3 fetches of a commit, a root tree and a blob.
			loose := opts
			loose.MaxLooseObjects = 100
			r1, _ := openFetch(t, loose)
			for i := range 3 {
				if err := u.humanCommit("README.md", fmt.Sprint(i), "human"); err != nil {
					t.Fatal(err)
				}
				if _, err := r1.Fetch(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if st, _ := statCache(r1.dir); st.packs != 1 || st.loose != 9 {
				t.Fatalf("after 4 fetches: %d packs, %d loose objects; want 1 and 9", st.packs, st.loose)
			}
			var other *Snapshot
			if tc.otherOpen {
				_, other = openFetch(t, opts)
			}
			if err := r1.Close(); err != nil {
				t.Fatal(err)
			}
			r2, err := Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r2.Close() }()
			// A rebuilt store is empty until the next fetch; a kept one still has
			// its pack. (Comparing the folder's inode is not enough: a new
			// folder may get the old inode number back.)
			if rebuilt := len(packFiles(t, cache)) == 0; rebuilt != tc.wantRebuilt {
				t.Fatalf("rebuilt = %v, want %v (%d packs)", rebuilt, tc.wantRebuilt, len(packFiles(t, cache)))
			}
			snap, err := r2.Fetch(ctx)
			if err != nil || snap.Commit() != u.head(t) {
				t.Fatalf("Fetch after Open = %v, %v; want head %s", snap, err, u.head(t))
			}
			if other != nil {
				if _, err := other.ReadFile("README.md"); err != nil {
					t.Fatalf("the other Repo's snapshot broke: %v", err)
				}
			}
		})
	}
}
