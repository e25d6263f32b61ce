package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRevision(t *testing.T) {
	u := newUpstream(t, seedFiles())
	mustGit(t, u.bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	const vs = "apps/games/aleph/virtualservice.yaml"
	old := u.head(t)
	if err := u.humanCommit(vs, "# edited by a human", "human: comment"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range allTransports(t, u) {
		t.Run(tc.name, func(t *testing.T) {
			r, head := openFetch(t, Options{URL: tc.url, Auth: tc.auth, CABundle: tc.ca, CacheDir: t.TempDir()})
			tests := []struct {
				name       string
				hash       string
				assertions func(t *testing.T, s *Snapshot, err error)
			}{
				{name: "the head, from the cache", hash: head.Commit(), assertions: func(t *testing.T, s *Snapshot, err error) {
					wantFile(t, s, err, vs, u.show(t, head.Commit(), vs))
				}},
				{name: "an older commit, fetched alone", hash: old, assertions: func(t *testing.T, s *Snapshot, err error) {
					wantFile(t, s, err, vs, u.show(t, old, vs))
					if s.Commit() != old {
						t.Errorf("snapshot of %s, want %s", s.Commit(), old)
					}
				}},
				{name: "upper-case hash", hash: strings.ToUpper(old), assertions: func(t *testing.T, s *Snapshot, err error) {
					wantFile(t, s, err, vs, u.show(t, old, vs))
				}},
				{name: "unknown commit", hash: strings.Repeat("ab", 20), assertions: func(t *testing.T, _ *Snapshot, err error) {
					if !errors.Is(err, ErrRevisionNotFound) {
						t.Errorf("err %v, want ErrRevisionNotFound", err)
					}
				}},
				{name: "short hash", hash: old[:12], assertions: func(t *testing.T, _ *Snapshot, err error) {
					if !errors.Is(err, ErrInvalidRevision) {
						t.Errorf("err %v, want ErrInvalidRevision", err)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, err := r.Revision(t.Context(), tt.hash)
					tt.assertions(t, s, err)
				})
			}
		})
	}
}

// TestRevisionServerRefusesWant checks the error when the server does not
// allow a want of a commit that is no branch tip (git's default).
func TestRevisionServerRefusesWant(t *testing.T) {
	u := newUpstream(t, seedFiles())
	old := u.head(t)
	if err := u.humanCommit("README.md", "more", "human: readme"); err != nil {
		t.Fatal(err)
	}
	httpURL, _ := startHTTPGit(t, u.root, &httpGit{User: "x", Token: "y"}, false)
	r, _ := openFetch(t, Options{URL: httpURL + "gitops.git", CacheDir: t.TempDir()})
	_, err := r.Revision(t.Context(), old)
	if !errors.Is(err, ErrRevisionNotFound) || !strings.Contains(err.Error(), "does not allow") {
		t.Errorf("err %v, want ErrRevisionNotFound saying the server does not allow it", err)
	}
}

// TestRevisionHeadNeedsNoRemote proves the head is read from the cache: the
// remote is gone when Revision runs.
func TestRevisionHeadNeedsNoRemote(t *testing.T) {
	u := newUpstream(t, seedFiles())
	r, head := openFetch(t, Options{URL: "file://" + u.bare, CacheDir: t.TempDir()})
	if err := os.Rename(u.bare, filepath.Join(u.root, "moved.git")); err != nil {
		t.Fatal(err)
	}
	s, err := r.Revision(t.Context(), head.Commit())
	wantFile(t, s, err, "README.md", "# gitops\n")
}

func wantFile(t *testing.T, s *Snapshot, err error, path, want string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s = %q, want %q", path, got, want)
	}
}

// BenchmarkRevision measures what a sync gate pays to read the applied
// revision: "head" is the common case (Flux applied the branch head, which
// the cache holds), "older" fetches one older commit at depth 1 into a fresh
// cache each time (the cache set-up is outside the timer).
func BenchmarkRevision(b *testing.B) {
	u := bigUpstream(b)
	mustGit(b, u.bare, "config", "uploadpack.allowReachableSHA1InWant", "true")
	old := u.head(b)
	if err := u.humanCommit("README.md", "more", "human"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r, head := openFetch(b, Options{URL: "file://" + u.bare, CacheDir: b.TempDir()})
	b.Run("head", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Revision(ctx, head.Commit()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("older", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			fresh, _ := openFetch(b, Options{URL: "file://" + u.bare, CacheDir: b.TempDir()})
			b.StartTimer()
			if _, err := fresh.Revision(ctx, old); err != nil {
				b.Fatal(err)
			}
		}
	})
}
