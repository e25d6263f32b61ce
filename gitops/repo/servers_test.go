package repo

import (
	"bytes"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// startGitDaemon serves every repository under root with the real
// `git daemon` (receive-pack enabled) on a free loopback port. Each accepted
// connection is handed to `git daemon --inetd`, so there is no race for the
// port between choosing and binding it. It returns the git:// base URL.
func startGitDaemon(tb testing.TB, root string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveDaemonConn(tb, c, root) })
		}
	})
	tb.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return "git://" + ln.Addr().String() + "/"
}

func serveDaemonConn(tb testing.TB, c net.Conn, root string) {
	defer func() { _ = c.Close() }()
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		tb.Errorf("daemon conn: %v", err)
		return
	}
	defer func() { _ = f.Close() }()
	cmd := exec.Command("git", "daemon", "--inetd", "--export-all", "--enable=receive-pack",
		"--informative-errors", "--log-destination=stderr", "--base-path="+root, root)
	cmd.Env = gitEnv(root)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, &stderr
	if err := cmd.Run(); err != nil {
		tb.Logf("git daemon: %v: %s", err, stderr.String())
	}
}

// httpGit is `git http-backend` behind net/http/cgi with basic auth.
type httpGit struct {
	User, Token string
	// PrivateRead makes fetches need credentials too; otherwise only pushes
	// do (like a public repository on a forge).
	PrivateRead bool
	backend     *cgi.Handler
}

func (h *httpGit) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	isPush := strings.HasSuffix(req.URL.Path, "/git-receive-pack") ||
		req.URL.Query().Get("service") == "git-receive-pack"
	if isPush || h.PrivateRead {
		user, pass, ok := req.BasicAuth()
		if !ok || user != h.User || pass != h.Token {
			w.Header().Set("WWW-Authenticate", `Basic realm="gitops"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
	}
	h.backend.ServeHTTP(w, req)
}

// startHTTPGit serves the repositories under root over http (or https with
// a test CA, returned PEM-encoded). It returns the base URL.
func startHTTPGit(tb testing.TB, root string, h *httpGit, useTLS bool) (string, []byte) {
	tb.Helper()
	execPath := mustGit(tb, root, "--exec-path")
	h.backend = &cgi.Handler{
		Path: filepath.Join(execPath, "git-http-backend"),
		Dir:  root,
		Env: append(isolatedGitEnv(root),
			"GIT_PROJECT_ROOT="+root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER="+h.User),
		InheritEnv: []string{"PATH"},
	}
	if !useTLS {
		srv := httptest.NewServer(h)
		tb.Cleanup(srv.Close)
		return srv.URL + "/", nil
	}
	srv := httptest.NewTLSServer(h)
	tb.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.URL + "/", ca
}

// transportCase is one way to reach the upstream.
type transportCase struct {
	name string
	url  string
	auth Auth
	ca   []byte
}

// allTransports starts a git daemon and http(s) servers for u and returns
// the URLs that reach u.bare through each.
func allTransports(tb testing.TB, u *upstream) []transportCase {
	tb.Helper()
	daemon := startGitDaemon(tb, u.root)
	httpURL, _ := startHTTPGit(tb, u.root, &httpGit{User: "x-access-token", Token: "s3cret-http"}, false)
	httpsURL, ca := startHTTPGit(tb, u.root,
		&httpGit{User: "robot", Token: "s3cret-https", PrivateRead: true}, true)
	return []transportCase{
		{name: "local path", url: u.bare},
		{name: "file URL", url: "file://" + u.bare},
		{name: "git daemon", url: daemon + "gitops.git"},
		{name: "http basic token", url: httpURL + "gitops.git", auth: Auth{Token: "s3cret-http"}},
		{name: "https private", url: httpsURL + "gitops.git", auth: Auth{Username: "robot", Token: "s3cret-https"}, ca: ca},
	}
}
