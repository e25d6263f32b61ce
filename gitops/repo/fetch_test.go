package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// manyFiles is a repository of n manifests of about 2 KiB of incompressible
// text each, so that a whole tree is much bigger than one change.
func manyFiles(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		var b strings.Builder
		for j := range 32 {
			sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d", i, j))
			fmt.Fprintf(&b, "k%02d: %s\n", j, hex.EncodeToString(sum[:]))
		}
		files[fmt.Sprintf("apps/team%d/app%d.yaml", i%10, i)] = b.String()
	}
	return files
}

// sameTree fails unless snap holds every file of the upstream's main, with
// the same content (by blob hash), and nothing else.
func sameTree(tb testing.TB, u *upstream, snap *Snapshot) {
	tb.Helper()
	if snap.Commit() != u.head(tb) {
		tb.Fatalf("snapshot at %s, upstream main at %s", snap.Commit(), u.head(tb))
	}
	want := map[string]string{}
	for _, line := range strings.Split(mustGit(tb, u.bare, "ls-tree", "-r", "main"), "\n") {
		meta, path, _ := strings.Cut(line, "\t")
		if f := strings.Fields(meta); len(f) == 3 && f[1] == "blob" {
			want[path] = f[2]
		}
	}
	files, err := snap.List("")
	if err != nil || len(files) != len(want) {
		tb.Fatalf("snapshot lists %d files (%v), upstream has %d", len(files), err, len(want))
	}
	for _, p := range files {
		b, err := snap.ReadFile(p)
		if err != nil {
			tb.Fatalf("read %s: %v", p, err)
		}
		if h := plumbing.ComputeHash(plumbing.BlobObject, b).String(); h != want[p] {
			tb.Fatalf("%s: blob %s, upstream %s", p, h, want[p])
		}
	}
}

// TestFetchBringsOnlyTheChange: over every transport, a fetch after someone
// else's one-file commit, and after 100 of them, transfers what changed (a
// few hundred bytes), not the tree (about 260 KB packed), and the snapshot is whole.
func TestFetchBringsOnlyTheChange(t *testing.T) {
	for i, name := range []string{"local path", "file URL", "git daemon", "http basic token", "https private"} {
		t.Run(name, func(t *testing.T) {
			u := newUpstream(t, manyFiles(200))
			tc := allTransports(t, u)[i]
			ctx := context.Background()
			r, first := openFetch(t, Options{URL: tc.url, Auth: tc.auth, CABundle: tc.ca, CacheDir: t.TempDir()})
			cold := r.LastFetch()
			if cold.Incremental || cold.PackBytes < 200_000 {
				t.Fatalf("first fetch: %+v; want a full pack of the ~260 KB packed tree", cold)
			}
			sameTree(t, u, first)
			if err := u.humanCommit("apps/team3/app13.yaml", "replicas: 3", "human: scale app13"); err != nil {
				t.Fatal(err)
			}
			snap, err := r.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.LastFetch(); !got.Incremental || got.FellBack != nil || got.PackBytes > 2000 {
				t.Fatalf("fetch after one commit: %+v; want incremental, under 2 KB", got)
			}
			sameTree(t, u, snap)
			if name == "local path" || name == "http basic token" {
				return // 100 commits over file://, git daemon and https suffice
			}
			for i := range 100 {
				writeFile(t, filepath.Join(u.work, fmt.Sprintf("apps/team%d/app%d.yaml", i%10, i)), fmt.Sprintf("edit: %d\n", i))
				mustGit(t, u.work, "commit", "-q", "-am", fmt.Sprintf("human: edit %d", i))
			}
			mustGit(t, u.work, "push", "-q", "origin", "main")
			if snap, err = r.Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			if got := r.LastFetch(); !got.Incremental || got.PackBytes > 40_000 {
				t.Fatalf("fetch after 100 commits: %+v; want incremental, under 40 KB", got)
			}
			sameTree(t, u, snap)
			if _, err := r.Fetch(ctx); err != nil || !r.LastFetch().UpToDate {
				t.Fatalf("fetch of an unchanged branch: %+v, %v; want up to date", r.LastFetch(), err)
			}
		})
	}
}

// TestFetchAfterPushIsUpToDate: birdwatch's own pushed commit is the cached
// head; the next fetch asks for nothing.
func TestFetchAfterPushIsUpToDate(t *testing.T) {
	u := newUpstream(t, seedFiles())
	ctx := context.Background()
	r, snap := openFetch(t, Options{URL: "file://" + u.bare, CacheDir: t.TempDir()})
	c, err := r.Commit(ctx, snap, Change{Files: map[string][]byte{"README.md": []byte("x\n")}, Message: Message{Subject: "birdwatch: x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, c, snap); err != nil {
		t.Fatal(err)
	}
	again, err := r.Fetch(ctx)
	if err != nil || again.Commit() != c.Commit() || !r.LastFetch().UpToDate {
		t.Fatalf("fetch after push: %s %+v %v; want %s, up to date", again.Commit(), r.LastFetch(), err, c.Commit())
	}
	if err := u.humanCommit("README.md", "human", "human"); err != nil {
		t.Fatal(err)
	}
	snap, err = r.Fetch(ctx)
	if err != nil || !r.LastFetch().Incremental || r.LastFetch().PackBytes > 1000 {
		t.Fatalf("fetch after push and a human commit: %+v %v", r.LastFetch(), err)
	}
	sameTree(t, u, snap)
}

// TestFetchBadInput: a force-pushed branch, a have and shallow boundary the
// server no longer has, a server that refuses the incremental request, a
// cache missing a delta base: every fetch ends with the right, whole tree
// (falling back to a full depth-1 fetch where it must), and the next fetch
// is incremental again.
func TestFetchBadInput(t *testing.T) {
	tests := []struct {
		name     string
		refuse   bool // the http server answers 500 to requests with a have
		prepare  func(t *testing.T, u *upstream, r *Repo)
		fellBack bool
	}{
		{name: "force-pushed branch", prepare: forcePush},
		{name: "force-pushed and pruned: the have and the shallow boundary are gone", prepare: func(t *testing.T, u *upstream, r *Repo) {
			forcePush(t, u, r)
			mustGit(t, u.bare, "reflog", "expire", "--expire=now", "--all")
			mustGit(t, u.bare, "gc", "-q", "--prune=now")
		}},
		{name: "server refuses haves", refuse: true, fellBack: true, prepare: func(t *testing.T, u *upstream, _ *Repo) {
			mustHumanCommit(t, u, "apps/team1/app1.yaml")
		}},
		{name: "delta base missing from the cache", fellBack: true, prepare: func(t *testing.T, u *upstream, r *Repo) {
			// The file's current blob came with an incremental fetch, so
			// it is loose; the next edit arrives as a delta against it.
			mustHumanCommit(t, u, "apps/team2/app2.yaml")
			if _, err := r.Fetch(context.Background()); err != nil || !r.LastFetch().Incremental {
				t.Fatalf("setup fetch: %+v %v", r.LastFetch(), err)
			}
			blob := mustGit(t, u.bare, "rev-parse", "main:apps/team2/app2.yaml")
			if err := os.Remove(filepath.Join(r.dir, "objects", blob[:2], blob[2:])); err != nil {
				t.Fatal(err)
			}
			mustHumanCommit(t, u, "apps/team2/app2.yaml")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, manyFiles(50))
			h := &httpGit{User: "x-access-token", Token: "tok"}
			url, _ := startHTTPGit(t, u.root, h, false)
			if tc.refuse {
				srv := httptest.NewServer(refuseHaves{h})
				t.Cleanup(srv.Close)
				url = srv.URL + "/"
			}
			ctx := context.Background()
			r, _ := openFetch(t, Options{URL: url + "gitops.git", CacheDir: t.TempDir()})
			tc.prepare(t, u, r)
			snap, err := r.Fetch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, u, snap)
			if got := r.LastFetch(); (got.FellBack != nil) != tc.fellBack {
				t.Fatalf("LastFetch = %+v, want a fallback: %v", got, tc.fellBack)
			}
			if tc.refuse {
				return
			}
			mustHumanCommit(t, u, "apps/team4/app4.yaml")
			if snap, err = r.Fetch(ctx); err != nil || !r.LastFetch().Incremental || r.LastFetch().FellBack != nil {
				t.Fatalf("next fetch: %+v %v; want incremental", r.LastFetch(), err)
			}
			sameTree(t, u, snap)
		})
	}
}

func mustHumanCommit(t *testing.T, u *upstream, path string) {
	t.Helper()
	if err := u.humanCommit(path, "human edit", "human: edit "+path); err != nil {
		t.Fatal(err)
	}
}

// forcePush replaces main's last commit with another one (an amended
// commit, force-pushed).
func forcePush(t *testing.T, u *upstream, _ *Repo) {
	t.Helper()
	mustHumanCommit(t, u, "apps/team5/app5.yaml")
	mustGit(t, u.bare, "config", "receive.denyNonFastForwards", "false")
	writeFile(t, filepath.Join(u.work, "apps/team5/app5.yaml"), "amended\n")
	mustGit(t, u.work, "commit", "-q", "--amend", "-am", "human: amended")
	mustGit(t, u.work, "push", "-q", "--force", "origin", "main")
}

// refuseHaves answers 500 to an upload-pack request that sends a have, as
// a server that cannot negotiate would; other requests reach the backend.
type refuseHaves struct{ next http.Handler }

func (h refuseHaves) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.HasSuffix(req.URL.Path, "/git-upload-pack") {
		body, err := io.ReadAll(req.Body)
		if err != nil || bytes.Contains(body, []byte("have ")) {
			http.Error(w, "negotiation not supported", http.StatusInternalServerError)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	h.next.ServeHTTP(w, req)
}
