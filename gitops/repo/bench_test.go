package repo

import (
	"context"
	"fmt"
	"testing"
)

// bigUpstream is a repository of about 1,000 manifests (10 apps x 100 files
// plus the seed files).
func bigUpstream(b *testing.B) *upstream {
	b.Helper()
	files := seedFiles()
	for app := range 10 {
		for f := range 100 {
			files[fmt.Sprintf("apps/team%d/app%d/manifest-%03d.yaml", app%3, app, f)] =
				fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app%d-%d\ndata:\n  index: \"%d\"\n", app, f, f)
		}
	}
	return newUpstream(b, files)
}

// BenchmarkFetch measures a Fetch on a warm cache: "unchanged" when the
// branch did not move (ref advertisement only), "new commit" when a human
// pushed one commit since (the push is outside the timer).
func BenchmarkFetch(b *testing.B) {
	u := bigUpstream(b)
	ctx := context.Background()
	r, _ := openFetch(b, Options{URL: "file://" + u.bare, CacheDir: b.TempDir()})
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new commit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			if err := u.humanCommit("apps/team0/app0/manifest-000.yaml", fmt.Sprint("# ", i), "human"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := r.Fetch(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkReadFile(b *testing.B) {
	u := bigUpstream(b)
	_, snap := openFetch(b, Options{URL: u.bare, CacheDir: b.TempDir()})
	for b.Loop() {
		if _, err := snap.ReadFile("apps/team2/app5/manifest-050.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkList(b *testing.B) {
	u := bigUpstream(b)
	_, snap := openFetch(b, Options{URL: u.bare, CacheDir: b.TempDir()})
	for b.Loop() {
		if files, err := snap.List("apps"); err != nil || len(files) < 1000 {
			b.Fatal(len(files), err)
		}
	}
}

// BenchmarkCommit writes a two-file decision commit (a manifest deep in the
// tree and the status file) on the same parent.
func BenchmarkCommit(b *testing.B) {
	u := bigUpstream(b)
	r, snap := openFetch(b, Options{URL: u.bare, CacheDir: b.TempDir()})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		_, err := r.Commit(ctx, snap, Change{
			Files: map[string][]byte{
				"apps/team1/app4/manifest-007.yaml": fmt.Appendf(nil, "weight: %d\n", i),
				statusPath:                          fmt.Appendf(nil, "step: %d\n", i),
			},
			Message: decisionMessage("games/aleph"),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPush pushes one decision commit per iteration, each on top of
// the previous one, over file:// (the Commit is outside the timer).
func BenchmarkPush(b *testing.B) {
	u := bigUpstream(b)
	r, parent := openFetch(b, Options{URL: "file://" + u.bare, CacheDir: b.TempDir()})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		commit, err := r.Commit(ctx, parent, *statusChange(fmt.Sprintf("step: %d\n", i)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := r.Push(ctx, commit, parent); err != nil {
			b.Fatal(err)
		}
		parent = commit
	}
}
