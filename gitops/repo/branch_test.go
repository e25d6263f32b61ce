package repo

import (
	"errors"
	"fmt"
	"testing"
)

func TestPushBranch(t *testing.T) {
	u := newUpstream(t, seedFiles())
	// Like GitHub on an unprotected branch; the other tests' upstream refuses
	// non-fast-forward pushes everywhere.
	mustGit(t, u.bare, "config", "receive.denyNonFastForwards", "false")
	for i, tc := range allTransports(t, u) {
		t.Run(tc.name, func(t *testing.T) {
			own := fmt.Sprintf("birdwatch/games-aleph-%d/3", i)
			other := fmt.Sprintf("feature/transport-%d", i)
			r, main := openFetch(t, Options{URL: tc.url, Auth: tc.auth, CABundle: tc.ca, CacheDir: t.TempDir(), Clock: fixedClock})
			mainHead := u.head(t)
			commit := func(content string, parent *Snapshot) *Snapshot {
				t.Helper()
				c, err := r.Commit(t.Context(), parent, *statusChange(content))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			first := commit("weight: 10\n", main)
			second := commit("weight: 50\n", main)
			onTop := commit("weight: 60\n", first)
			tests := []struct {
				name       string
				commit     *Snapshot
				branch     string
				assertions func(t *testing.T, err error)
			}{
				{name: "own branch created", commit: first, branch: own, assertions: wantBranch(u, own, first)},
				{name: "own branch overwritten by a sibling", commit: second, branch: own, assertions: wantBranch(u, own, second)},
				{name: "other branch created", commit: first, branch: other, assertions: wantBranch(u, other, first)},
				{name: "other branch again at the same commit", commit: first, branch: other, assertions: wantBranch(u, other, first)},
				{name: "other branch never forced", commit: second, branch: other, assertions: func(t *testing.T, err error) {
					if !errors.Is(err, ErrRejected) {
						t.Errorf("err %v, want ErrRejected", err)
					}
					wantBranch(u, other, first)(t, nil)
				}},
				{name: "other branch moved forward", commit: onTop, branch: other, assertions: wantBranch(u, other, onTop)},
				{name: "invalid name", commit: first, branch: "bad..name", assertions: func(t *testing.T, err error) {
					if !errors.Is(err, ErrInvalidBranch) {
						t.Errorf("err %v, want ErrInvalidBranch", err)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.assertions(t, r.PushBranch(t.Context(), tt.commit, tt.branch))
				})
			}
			if got := u.head(t); got != mainHead {
				t.Errorf("main moved from %s to %s", mainHead, got)
			}
		})
	}
}

// wantBranch asserts that the push succeeded and the remote branch is at want
// with the content Commit wrote.
func wantBranch(u *upstream, branch string, want *Snapshot) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if got := mustGit(t, u.bare, "rev-parse", "refs/heads/"+branch); got != want.Commit() {
			t.Errorf("%s at %s, want %s", branch, got, want.Commit())
		}
		data, err := want.ReadFile(".birdwatch/status/games/aleph.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := u.show(t, branch, ".birdwatch/status/games/aleph.yaml"); got != string(data) {
			t.Errorf("status on %s = %q, want %q", branch, got, data)
		}
	}
}
