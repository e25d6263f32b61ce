package repo

import (
	"context"
	"strings"
	"testing"
)

// TestLongLivedRepoStaysBounded keeps one Repo open across many upstream
// commits, as serve and a warm Lambda do: each fetch adds only the loose
// objects of the change, the cache is rebuilt once it holds more than
// MaxLooseObjects, and every fetch still reads the new head.
func TestLongLivedRepoStaysBounded(t *testing.T) {
	requireGit(t)
	up := newUpstream(t, map[string]string{"README.md": "fleet\n"})
	ctx := context.Background()
	r, err := Open(ctx, Options{URL: "file://" + up.bare, CacheDir: t.TempDir(), MaxCachePacks: 3, MaxLooseObjects: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	incremental := 0
	for i := range 12 {
		if err := up.humanCommit("notes/n.txt", strings.Repeat("x", i+1), "note"); err != nil {
			t.Fatal(err)
		}
		snap, err := r.Fetch(ctx)
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		b, err := snap.ReadFile("notes/n.txt")
		if err != nil || !strings.HasSuffix(string(b), strings.Repeat("x", i+1)+"\n") {
			t.Fatalf("fetch %d read %q %v", i, b, err)
		}
		if r.LastFetch().Incremental {
			incremental++
		}
		st, err := statCache(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		// A fetch adds 4 objects (commit, two trees, a blob) to at most 10.
		if st.packs > 1 || st.loose > 14 {
			t.Fatalf("after fetch %d: %d packs, %d loose objects", i, st.packs, st.loose)
		}
	}
	if incremental < 8 {
		t.Fatalf("%d of 12 fetches were incremental; a rebuild every 3 leaves 8", incremental)
	}
}
