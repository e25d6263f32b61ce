package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// lockedBuffer collects the server's log lines from several goroutines.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveGitHubAPI answers, like api.github.com, the calls a push and a
// status command make; it fails the test on a request without the token.
func serveGitHubAPI(t *testing.T, token string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/acme/fleet/commits", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `[]`) })
	mux.HandleFunc("GET /repos/acme/fleet/issues/7/comments", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `[]`) })
	mux.HandleFunc("POST /repos/acme/fleet/issues/7/comments", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":1,"body":"ok","html_url":"https://github.com/acme/fleet/pull/7#issuecomment-1","user":{"login":"birdwatch-bot","type":"Bot"}}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			t.Errorf("%s %s without the token", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// serveFleet is a fleet repository holding the embedded aleph example.
// Without the git binary it skips under -short and fails otherwise.
func serveFleet(t *testing.T) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if testing.Short() {
			t.Skip("needs git")
		}
		t.Fatal("needs git")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestServe runs `birdwatch serve` in-process on a real fleet repository
// and loopback: health, signed and forged deliveries, a command, /metrics,
// then a graceful shutdown (what SIGTERM does through main's context). The
// whole log is then searched for every secret.
func TestServe(t *testing.T) {
	f := serveFleet(t)
	dir := t.TempDir()
	secrets := map[string]string{"webhook": "whsec-serve-test-8f1d2c", "github": "ghp_serveTestToken0123456789", "gitlab": "glwt-serve-4e7a", "git": "ghs_gitToken55aa", "slack": "slack-signing-7c2e9a"}
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	api := serveGitHubAPI(t, secrets["github"])
	logs := &lockedBuffer{}
	ctx, stop := context.WithCancel(t.Context())
	addr := make(chan string, 1)
	cmd := newServeCommandWith(func(a string) { addr <- a })
	cmd.SetArgs([]string{"--repo", f.URL(), "--cache-dir", filepath.Join(dir, "cache"), "--addr", "127.0.0.1:0", "--every", "1h",
		"--prometheus", "http://127.0.0.1:1", "--log-format", "json", "--git-token-file", filepath.Join(dir, "git"),
		"--github-repo", "acme/fleet", "--github-api-url", api.URL, "--github-webhook-secret-file", filepath.Join(dir, "webhook"),
		"--github-token-file", filepath.Join(dir, "github"), "--gitlab-token-file", filepath.Join(dir, "gitlab"), "--gitlab-project", "acme/fleet",
		"--slack-signing-secret-file", filepath.Join(dir, "slack")})
	cmd.SetErr(logs)
	cmd.SetOut(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs)
	}

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path string, header map[string]string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz %d %q", code, body)
	}
	push := []byte(`{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7a2d6e1b0a1",` +
		`"repository":{"name":"fleet","full_name":"acme/fleet"},"pusher":{"name":"alice"},"sender":{"login":"alice","type":"User"},` +
		`"commits":[{"id":"59b20b8d5c6ff8d09518454d4dd8b7a2d6e1b0a1","message":"aleph: ship v04","modified":[".birdwatch/aleph.yaml"]}]}`)
	gh := func(event, id, secret string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": id,
			"X-Hub-Signature-256": webhook.SignGitHub([]byte(secret), push)}
	}
	if code := post("/webhooks/github", gh("push", "a1", "wrong-secret"), push); code != 401 {
		t.Errorf("forged push: %d", code)
	}
	if code := post("/webhooks/gitlab", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "nope"}, push); code != 401 {
		t.Errorf("forged GitLab push: %d", code)
	}
	if code := post("/webhooks/github", gh("push", "a2", secrets["webhook"]), push); code != 202 {
		t.Errorf("signed push: %d", code)
	}
	// Slack chat-ops is mounted at /slack: a forged slash command is refused,
	// a signed one is acknowledged at once (the work goes to the queue).
	slash := []byte("command=%2Fbirdwatch&text=status&user_id=U024BE7LH&trigger_id=13345224609.738474920.8088930838d88f008e0&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0001%2F1%2Fabc")
	slackSig := func(secret string) map[string]string {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("v0:" + ts + ":" + string(slash)))
		return map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
			"X-Slack-Signature": "v0=" + hex.EncodeToString(mac.Sum(nil))}
	}
	if code := post("/slack", slackSig("forged"), slash); code != 401 {
		t.Errorf("forged slash command: %d", code)
	}
	if code := post("/slack", slackSig(secrets["slack"]), slash); code != 200 {
		t.Errorf("signed slash command: %d", code)
	}
	// The push is handled in the background, beside the scheduler's first
	// run: wait (boundedly) until both runs are counted.
	var metrics string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, metrics = get("/metrics"); strings.Contains(metrics, `birdwatch_run_duration_seconds_count{trigger="webhook"} 1`) &&
			strings.Contains(metrics, `birdwatch_run_duration_seconds_count{trigger="schedule"} 1`) {
			break
		}
	}
	for _, want := range []string{`birdwatch_webhook_requests_total{code="401",handler="github"} 1`, `birdwatch_webhook_requests_total{code="401",handler="gitlab"} 1`,
		`birdwatch_webhook_requests_total{code="202",handler="github"} 1`, `birdwatch_run_duration_seconds_count{trigger="schedule"} 1`,
		`birdwatch_run_duration_seconds_count{trigger="webhook"} 1`,
		`birdwatch_decisions_total{action="advance",canary="games/aleph"} 1`, `go_goroutines`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	stop() // what SIGTERM does
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"msg":"listening"`, `"msg":"webhook rejected"`, `"msg":"decision"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for name, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("the %s secret is in the logs", name)
		}
	}
	subjects, err := f.Subjects(t.Context())
	if err != nil || len(subjects) < 2 || !strings.Contains(subjects[0], "birdwatch: games/aleph") {
		t.Errorf("history %q %v", subjects, err)
	}
}

func TestServeConfigErrors(t *testing.T) {
	f := serveFleet(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--repo", f.URL(), "--cache-dir", filepath.Join(dir, "cache"), "--addr", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{name: "missing secret file", args: []string{"--github-webhook-secret-file", filepath.Join(dir, "nope")}, err: "read secret file"},
		{name: "no GitHub repository", args: []string{"--github-webhook-secret-file", secret}, err: "give --github-repo"},
		{name: "GitLab without project", args: []string{"--gitlab-token-file", secret}, err: "GitLab project"},
		{name: "bad address", args: []string{"--addr", "256.0.0.1:http"}, err: "listen on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newServeCommand()
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			cmd.SetArgs(append(append([]string{}, base...), tt.args...))
			cmd.SetErr(io.Discard)
			err := cmd.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got %v, want %q", err, tt.err)
			}
		})
	}
}
