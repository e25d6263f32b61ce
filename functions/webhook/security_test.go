package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestRejectedDeliveriesDoNothing sends a push that would start a rollout,
// spoiled in each way a forged or broken delivery can be; each must be
// answered 401 or 413 with a JSON error, leave the repository and the pull
// request untouched, and never reach the engine.
func TestRejectedDeliveriesDoNothing(t *testing.T) {
	e := newEnv(t)
	push := render(t, "github/push", defaults())
	other := render(t, "github/push", func() payload { p := defaults(); p.Message = "other"; return p }())
	big := append(bytes.Repeat([]byte(" "), DefaultMaxBodyBytes), push...)
	tests := []struct {
		name   string
		body   []byte
		mutate func(*http.Request)
		status int
		err    string
	}{
		{name: "no signature", body: push, status: 401, err: "no X-Hub-Signature-256",
			mutate: func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }},
		{name: "wrong secret", body: push, status: 401, err: "does not match",
			mutate: func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte("not-the-secret"), push)) }},
		{name: "signature of another delivery", body: push, status: 401, err: "does not match",
			mutate: func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte(testSecret), other)) }},
		{name: "sha1 signature only", body: push, status: 401, err: "malformed",
			mutate: func(r *http.Request) {
				r.Header.Set("X-Hub-Signature-256", "sha1="+strings.Repeat("ab", 20))
			}},
		{name: "truncated signature", body: push, status: 401, err: "malformed",
			mutate: func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte(testSecret), push)[:40]) }},
		{name: "body changed after signing", body: append(bytes.Clone(push), ' '), status: 401, err: "does not match",
			mutate: func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte(testSecret), push)) }},
		{name: "oversized body", body: big, status: 413, err: "too large"},
		{name: "oversized body without length", body: big, status: 413, err: "too large",
			mutate: func(r *http.Request) { r.ContentLength = -1 }},
		{name: "GET", body: nil, status: 405, err: "not allowed",
			mutate: func(r *http.Request) { r.Method = http.MethodGet }},
	}
	before := e.subjects()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.github("push", tt.body, func(r *http.Request) {
				if tt.mutate != nil {
					tt.mutate(r)
				}
			})
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.err) {
				t.Errorf("got %d %s, want %d with %q", w.Code, w.Body.String(), tt.status, tt.err)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
		})
	}
	if got := e.subjects(); !slices.Equal(got, before) {
		t.Errorf("the repository changed: %q", got)
	}
	if n := len(e.gh.botComments(7)); n != 0 {
		t.Errorf("%d comments made", n)
	}
}

// TestReplayedDeliveryIsRefused sends one signed delivery twice: the second
// copy is refused and does nothing, while a failed delivery may be redelivered.
func TestReplayedDeliveryIsRefused(t *testing.T) {
	e := newEnv(t)
	body := render(t, "github/push", defaults())
	same := func(r *http.Request) { r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958") }
	if w := e.github("push", body, same); w.Code != 200 {
		t.Fatalf("first delivery: %d %s", w.Code, w.Body)
	}
	after := e.subjects()
	if len(after) != 2 {
		t.Fatalf("the push did not run the loop: %q", after)
	}
	w := e.github("push", body, same)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "already handled") {
		t.Errorf("replay: %d %s", w.Code, w.Body)
	}
	if got := e.subjects(); !slices.Equal(got, after) {
		t.Errorf("the replay changed the repository: %q", got)
	}

	// A delivery that failed is forgotten, so GitHub's redelivery is taken.
	broken := []byte(`{"ref": 42}`)
	retry := func(r *http.Request) { r.Header.Set("X-GitHub-Delivery", "0b989ba4-242f-11e5-81e1-c7b6966d2516") }
	if w := e.github("push", broken, retry); w.Code != 400 {
		t.Fatalf("malformed payload: %d %s", w.Code, w.Body)
	}
	if w := e.github("push", body, retry); w.Code != 200 {
		t.Errorf("redelivery after a failure: %d %s", w.Code, w.Body)
	}
}

func TestGitLabTokenIsChecked(t *testing.T) {
	e := newEnv(t)
	push := render(t, "gitlab/push", defaults())
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{name: "missing", token: "", status: 401},
		{name: "wrong", token: "glwt-test-token-8c2d41f8", status: 401},
		{name: "prefix of the token", token: gitlabToken[:10], status: 401},
		{name: "token and more", token: gitlabToken + "x", status: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.gitlab("Push Hook", push, func(r *http.Request) { r.Header.Set("X-Gitlab-Token", tt.token) })
			if w.Code != tt.status {
				t.Errorf("got %d %s", w.Code, w.Body)
			}
		})
	}
	if s := e.subjects(); len(s) != 1 {
		t.Errorf("the repository changed: %q", s)
	}
}

// TestSecretsNeverLogged runs accepted and rejected deliveries of every kind
// and scans everything logged for the webhook secret, the API token and the
// GitLab token.
func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t)
	p := defaults()
	e.github("push", render(t, "github/push", p))
	e.github("push", render(t, "github/push", p), func(r *http.Request) {
		r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte("wrong"), []byte("x")))
	})
	p.Action, p.Body = "created", "/birdwatch pause"
	e.github("issue_comment", render(t, "github/issue_comment", p))
	p.Login, p.CommentID, p.Body = "mallory", p.CommentID+1, "/birdwatch abort"
	e.github("issue_comment", render(t, "github/issue_comment", p))
	e.github("star", render(t, "github/star", p))
	e.gitlab("Push Hook", render(t, "gitlab/push", p))
	e.gitlab("Push Hook", render(t, "gitlab/push", p), func(r *http.Request) { r.Header.Set("X-Gitlab-Token", "nope") })
	e.gitlab("Note Hook", render(t, "gitlab/note", p))
	logs := e.logs.String()
	if !strings.Contains(logs, "webhook rejected") || !strings.Contains(logs, "webhook handled") || !strings.Contains(logs, `"msg":"decision"`) {
		t.Fatalf("the logs miss lines:\n%s", logs)
	}
	for _, secret := range []string{testSecret, testToken, gitlabToken, "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
	for _, c := range e.gh.botComments(7) {
		for _, secret := range []string{testSecret, testToken, gitlabToken} {
			if strings.Contains(c.Body, secret) {
				t.Errorf("a comment contains %q", secret)
			}
		}
	}
}

func TestNewRefusesUnverifiableConfigs(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		cfg  Config
		err  string
	}{
		{name: "no engine", cfg: Config{GitHub: GitHubConfig{Secret: []byte("s"), Repository: "a/b"}}, err: "no engine"},
		{name: "no secret", cfg: Config{Engine: e.engine}, err: "cannot be verified"},
		{name: "no repository", cfg: Config{Engine: e.engine, GitHub: GitHubConfig{Secret: []byte("s")}}, err: "repository"},
		{name: "no project", cfg: Config{Engine: e.engine, GitLab: GitLabConfig{Token: []byte("t")}}, err: "project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got %v, want %q", err, tt.err)
			}
		})
	}
	// A handler with only GitLab configured answers GitHub deliveries 404.
	h, err := New(Config{Engine: e.engine, GitLab: GitLabConfig{Token: []byte("t"), Project: "a/b"}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	if w.Code != 400 {
		t.Errorf("no source headers: %d", w.Code)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	r.Header.Set("X-GitHub-Event", "push")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 404 {
		t.Errorf("GitHub not configured: %d", w.Code)
	}
}
