package repo

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestHTTPAuth runs fetch and push against git http-backend behind basic
// auth: wrong or missing credentials must fail with ErrAuth, without the
// secret in the message and without changing the branch.
func TestHTTPAuth(t *testing.T) {
	const token = "ghs_right-token-0123456789"
	u := newUpstream(t, seedFiles())
	private, _ := startHTTPGit(t, u.root, &httpGit{User: "x-access-token", Token: token, PrivateRead: true}, false)
	public, _ := startHTTPGit(t, u.root, &httpGit{User: "x-access-token", Token: token}, false)
	tests := []struct {
		name      string
		url       string
		auth      Auth
		fetchErr  error // nil: fetch must succeed
		pushErr   error // nil: push must succeed
		secretOut string
	}{
		{name: "token with default user", url: private + "gitops.git", auth: Auth{Token: token}},
		{name: "token in URL", url: strings.Replace(private, "http://", "http://x-access-token:"+token+"@", 1) + "gitops.git"},
		{name: "user from URL, token from Auth", url: strings.Replace(private, "http://", "http://bob@", 1) + "gitops.git", auth: Auth{Token: token}, fetchErr: ErrAuth, secretOut: token},
		{name: "wrong token", url: private + "gitops.git", auth: Auth{Token: "ghs_wrong-token"}, fetchErr: ErrAuth, secretOut: "ghs_wrong-token"},
		{name: "wrong user", url: private + "gitops.git", auth: Auth{Username: "bob", Token: token}, fetchErr: ErrAuth, secretOut: token},
		{name: "no token", url: private + "gitops.git", fetchErr: ErrAuth},
		{name: "public read, wrong token for push", url: public + "gitops.git", auth: Auth{Token: "ghs_wrong-token"}, pushErr: ErrAuth, secretOut: "ghs_wrong-token"},
		{name: "public read, anonymous push", url: public + "gitops.git", pushErr: ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			before := u.head(t)
			r, err := Open(ctx, Options{URL: tc.url, Auth: tc.auth, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			snap, err := r.Fetch(ctx)
			if checkAuthErr(t, "fetch", err, tc.fetchErr, tc.secretOut) {
				return
			}
			commit, err := r.Commit(ctx, snap, *statusChange("auth case: " + tc.name + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Push(ctx, commit, snap)
			if checkAuthErr(t, "push", err, tc.pushErr, tc.secretOut) {
				if u.head(t) != before || objectExists(u, commit.Commit()) {
					t.Fatal("a refused push changed the upstream")
				}
				return
			}
			if u.head(t) != commit.Commit() {
				t.Fatalf("head %s, want pushed %s", u.head(t), commit.Commit())
			}
		})
	}
}

// checkAuthErr fails unless err matches want; it reports whether an error
// was expected (and so the case is over).
func checkAuthErr(t *testing.T, op string, err, want error, secret string) bool {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return false
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s error = %v, want %v", op, err, want)
	}
	t.Logf("%s error: %v", op, err)
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Fatalf("%s error leaks the secret: %v", op, err)
	}
	return true
}

func TestOpenAndFetchErrors(t *testing.T) {
	u := newUpstream(t, seedFiles())
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{name: "missing branch", opts: Options{URL: u.bare, Branch: "release"}, want: ErrBranchNotFound},
		{name: "missing repository", opts: Options{URL: u.root + "/nope.git"}},
		{name: "empty remote", opts: Options{URL: emptyBare(t)}, want: ErrBranchNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.CacheDir = t.TempDir()
			r, err := Open(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			snap, err := r.Fetch(context.Background())
			t.Logf("Fetch error: %v", err)
			if err == nil || snap != nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Fetch = %v, %v; want error %v", snap, err, tc.want)
			}
		})
	}
	if _, err := Open(context.Background(), Options{CacheDir: t.TempDir()}); err == nil {
		t.Fatal("Open with no URL succeeded")
	}
	r, err := Open(context.Background(), Options{URL: u.bare, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch after Close succeeded")
	}
}

func emptyBare(t *testing.T) string {
	dir := t.TempDir() + "/empty.git"
	mustGit(t, t.TempDir(), "init", "-q", "--bare", dir)
	return dir
}
