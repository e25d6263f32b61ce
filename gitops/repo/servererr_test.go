package repo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoingServer answers some requests with an error status whose body
// repeats the credentials it was sent, as a careless (or hostile) Git server
// or proxy might; other requests reach the real git http-backend.
type echoingServer struct {
	status int
	push   bool // only receive-pack requests get the error
	next   http.Handler
}

func (s echoingServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	isPush := strings.HasSuffix(req.URL.Path, "/git-receive-pack") || req.URL.Query().Get("service") == "git-receive-pack"
	if isPush != s.push && s.push {
		s.next.ServeHTTP(w, req)
		return
	}
	user, pass, _ := req.BasicAuth()
	http.Error(w, fmt.Sprintf("SERVER-BODY: user %s, token %s refused", user, pass), s.status)
}

// TestServerBodyNeverInErrors (#18 item 10): whatever a Git server writes
// in the body of an error response stays out of birdwatch's errors, which
// carry the status and a short reason instead; the token never appears.
func TestServerBodyNeverInErrors(t *testing.T) {
	const token = "ghs_echoed-token-0123456789"
	u := newUpstream(t, seedFiles())
	h := &httpGit{User: "x-access-token", Token: token}
	startHTTPGit(t, u.root, h, false)
	tests := []struct {
		status int
		push   bool
		want   error // nil: any error
	}{
		{status: http.StatusUnauthorized, want: ErrAuth},
		{status: http.StatusForbidden, want: ErrAuth},
		{status: http.StatusNotFound},
		{status: http.StatusInternalServerError},
		{status: http.StatusUnauthorized, push: true, want: ErrAuth},
		{status: http.StatusForbidden, push: true, want: ErrAuth},
		{status: http.StatusBadGateway, push: true},
	}
	for _, tc := range tests {
		op := "fetch"
		if tc.push {
			op = "push"
		}
		t.Run(fmt.Sprintf("%s %d", op, tc.status), func(t *testing.T) {
			srv := httptest.NewServer(echoingServer{status: tc.status, push: tc.push, next: h})
			defer srv.Close()
			ctx := context.Background()
			r, err := Open(ctx, Options{URL: srv.URL + "/gitops.git", Auth: Auth{Token: token}, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = r.Close() }()
			snap, err := r.Fetch(ctx)
			if tc.push {
				if err != nil {
					t.Fatal(err)
				}
				var c *Snapshot
				if c, err = r.Commit(ctx, snap, *statusChange("echo\n")); err != nil {
					t.Fatal(err)
				}
				err = r.Push(ctx, c, snap)
			}
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("%s error = %v, want %v", op, err, tc.want)
			}
			msg := err.Error()
			t.Logf("%s error: %s", op, msg)
			if strings.Contains(msg, token) || strings.Contains(msg, "SERVER-BODY") {
				t.Fatalf("%s error carries the server's body: %s", op, msg)
			}
			if !strings.Contains(msg, fmt.Sprint(tc.status)) {
				t.Fatalf("%s error does not name the status %d: %s", op, tc.status, msg)
			}
		})
	}
}
