package core

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
)

// TestGitAuthFailureCommitsNothing serves the fleet with the real `git
// http-backend` behind basic auth, as a Git host does. A revoked token makes
// the run fail with an auth error and commits nothing (and the token is not
// in the error); with a valid token the same decision lands once.
func TestGitAuthFailureCommitsNothing(t *testing.T) {
	f := newFleet(t, slowApply)
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("needs git")
	}
	root := filepath.Dir(f.Bare)
	backend := &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"), Dir: root,
		Env:        []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=birdwatch", "HOME=" + root},
		InheritEnv: []string{"PATH"}}
	const good, revoked = "ghs_validToken0123", "ghs_revokedToken9876"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != good {
			w.Header().Set("WWW-Authenticate", `Basic realm="fleet"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := srv.URL + "/" + filepath.Base(f.Bare)
	c := newClock(dataEnd.Add(-time.Hour))
	engine := func(token string) *Engine {
		r, err := repo.Open(t.Context(), repo.Options{URL: url, CacheDir: t.TempDir(), Auth: repo.Auth{Token: token}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return newEngine(t, r, "http://127.0.0.1:1", c)
	}
	_, err = engine(revoked).Run(t.Context(), Request{Trigger: "test"})
	if err == nil || !strings.Contains(err.Error(), "auth") || strings.Contains(err.Error(), revoked) {
		t.Fatalf("run with a revoked token: %v", err)
	}
	if n := len(subjects(t, f)); n != 1 {
		t.Fatalf("%d commits after the refused run", n)
	}
	e := engine(good)
	runOnce(t, e)
	runOnce(t, e)
	if got := subjects(t, f); len(got) != 2 || !strings.Contains(got[0], "advance, weight 0 -> 10") {
		t.Errorf("history %q", got)
	}
}
