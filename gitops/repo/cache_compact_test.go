package repo

import (
	"context"
	"strings"
	"testing"
)

// TestLongLivedRepoStaysBounded keeps one Repo open across many upstream
// commits, as serve and a warm Lambda do: the cache never holds more than
// MaxCachePacks+1 packs, and every fetch still reads the new head.
func TestLongLivedRepoStaysBounded(t *testing.T) {
	requireGit(t)
	up := newUpstream(t, map[string]string{"README.md": "fleet\n"})
	ctx := context.Background()
	r, err := Open(ctx, Options{URL: "file://" + up.bare, CacheDir: t.TempDir(), MaxCachePacks: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range 8 {
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
		if n, _ := countPacks(r.dir); n > 4 {
			t.Fatalf("after fetch %d: %d packs", i, n)
		}
	}
}
