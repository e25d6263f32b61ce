package webhook

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	gsync "github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// Secrets of the tests; TestSecretsNeverLogged looks for each in the logs.
const (
	testSecret  = "whsec-birdwatch-test-5b1e0c9d"
	testToken   = "ghp_webhookTestToken0123456789abcd"
	gitlabToken = "glwt-test-token-8c2d41f7"
)

// testSpec is aleph with a manual pause: 10%, pause, 50%, analyze 1h.
const testSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata:
  name: aleph
  namespace: games
spec:
  stable: v03
  canary: v04
  traffic:
    provider: istio
    file: apps/games/aleph/virtualservice.yaml
    stableSubset: production
    canarySubset: canary
  steps:
    - setWeight: 10
    - pause: {}
    - setWeight: 50
    - analyze: 1h
  analysis:
    interval: 1m
    judge: threshold
    metrics:
      - name: error-rate
        template: istio-error-rate
        max: 1
  promote:
    - file: apps/games/aleph/destinationrule.yaml
      path: spec.subsets[name=production].labels.version
      value: "{{ .Canary }}"
  access: {operators: ["github:acme/sre"]}
`

const specPath = ".birdwatch/aleph.yaml"

// payload fills the delivery templates in testdata/.
type payload struct {
	Repo, Ref, Before, After, Message, Login, UserType, Action, State string
	HeadRef, HeadSHA, BaseRef, BaseSHA, MergeSHA, ExternalID, Body    string
	Number                                                            int
	CommentID, UserID                                                 int64
	Deleted, Merged, IsPull                                           bool
}

const zeroSHA = "0000000000000000000000000000000000000000"

func defaults() payload {
	return payload{Repo: "acme/fleet", Ref: "refs/heads/main", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		After: "59b20b8d5c6ff8d09518454d4dd8b7a2d6e1b0a1", Message: "aleph: ship v04", Login: "alice", UserType: "User",
		Action: "opened", State: "open", HeadRef: "aleph-v05", BaseRef: "main", Number: 7, CommentID: 2468013579, UserID: 42, IsPull: true}
}

// render fills testdata/<name>.json.tmpl and checks the result is JSON.
func render(t testing.TB, name string, p payload) []byte {
	t.Helper()
	tmpl, err := template.New(filepath.Base(name) + ".json.tmpl").Funcs(template.FuncMap{"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	}}).ParseFiles(filepath.Join("testdata", name+".json.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, p); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) {
		t.Fatalf("%s is not JSON:\n%s", name, b.String())
	}
	return b.Bytes()
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one test's world: a fleet repository, the engine, a fake GitHub
// API and the handler under test.
type env struct {
	t      testing.TB
	fleet  *fleet.Repo
	gh     *fakeGitHub
	engine *core.Engine
	h      *Handler
	logs   *syncBuffer
	n      int // delivery counter
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	e := &env{t: t, logs: &syncBuffer{}}
	e.fleet = newFleet(t, testSpec)
	// The PR check reads a pull request's head commit by hash, as GitHub serves it.
	if out, err := exec.Command("git", "-C", e.fleet.Bare, "config", "uploadpack.allowReachableSHA1InWant", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v\n%s", err, out)
	}
	e.gh = newFakeGitHub(t, e.fleet.Bare, testToken)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := repo.Open(t.Context(), repo.Options{URL: e.fleet.URL(), Branch: "main", CacheDir: filepath.Join(t.TempDir(), "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	prom, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: "http://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	judges := map[string]judge.Judge{"threshold": judge.Threshold{}, "sequential": judge.Sequential{}}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e.engine = &core.Engine{Repo: r, Metrics: prom, Judges: judges, Sync: gsync.Engines{"none": gsync.None{}},
		Now: func() time.Time { return now }, Log: log}
	api := NewGitHubAPI(e.gh.client())
	cfg := Config{Engine: e.engine, Checks: core.Checks(judges), Log: log, Now: func() time.Time { return now },
		Authorizer: &auth.Authorizer{GitHub: auth.NewGitHub(e.gh.client()), Repository: "acme/fleet"},
		GitHub: GitHubConfig{Secret: []byte(testSecret), Repository: "acme/fleet", Comments: api, Pulls: api, Statuses: api,
			Login: "birdwatch-bot"},
		GitLab: GitLabConfig{Token: []byte(gitlabToken), Project: "acme/fleet"}}
	for _, m := range mutate {
		m(&cfg)
	}
	if e.h, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// newFleet makes a fleet repository with the aleph example and spec.
func newFleet(t testing.TB, spec string) *fleet.Repo {
	t.Helper()
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	files[specPath] = spec
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// github delivers a signed GitHub event to the handler.
func (e *env) github(event string, body []byte, mutate ...func(*http.Request)) *httptest.ResponseRecorder {
	e.n++
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "GitHub-Hookshot/7f3a2c1")
	r.Header.Set("X-GitHub-Event", event)
	r.Header.Set("X-GitHub-Delivery", deliveryID(e.t.Name(), e.n))
	r.Header.Set("X-GitHub-Hook-ID", "498765432")
	r.Header.Set("X-Hub-Signature-256", SignGitHub([]byte(testSecret), body))
	for _, m := range mutate {
		m(r)
	}
	w := httptest.NewRecorder()
	e.h.GitHub().ServeHTTP(w, r)
	return w
}

// gitlab delivers a GitLab event with the token.
func (e *env) gitlab(event string, body []byte, mutate ...func(*http.Request)) *httptest.ResponseRecorder {
	e.n++
	r := httptest.NewRequest(http.MethodPost, "/webhooks/gitlab", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "GitLab/18.6.0")
	r.Header.Set("X-Gitlab-Event", event)
	r.Header.Set("X-Gitlab-Event-UUID", deliveryID(e.t.Name(), e.n))
	r.Header.Set("X-Gitlab-Instance", "https://gitlab.example.com")
	r.Header.Set("X-Gitlab-Token", gitlabToken)
	for _, m := range mutate {
		m(r)
	}
	w := httptest.NewRecorder()
	e.h.GitLab().ServeHTTP(w, r)
	return w
}

// deliveryID makes a GUID-shaped delivery ID, unique per test and delivery.
func deliveryID(name string, n int) string {
	h := uint32(2166136261)
	for _, c := range []byte(name) {
		h = (h ^ uint32(c)) * 16777619
	}
	return strings.ToLower(strings.Join([]string{hex8(h), "1f2e", "11ef", "8a9b", hex8(uint32(n)) + "0000"}, "-"))
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i], v = digits[v&15], v>>4
	}
	return string(b)
}

// decode reads a JSON response body.
func decode(t testing.TB, w *httptest.ResponseRecorder) Response {
	t.Helper()
	var r Response
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("response %d %q: %v", w.Code, w.Body.String(), err)
	}
	return r
}

func (e *env) subjects() []string {
	e.t.Helper()
	s, err := e.fleet.Subjects(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// dev runs git as the developer in the fleet's working clone.
func (e *env) dev(args ...string) string {
	e.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = e.fleet.Work
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=developer", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=developer", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// openPull pushes a branch that sets file (default the aleph spec) to
// content and registers it as pull request n.
func (e *env) openPull(n int, branch, file, content string) (head, base string) {
	e.t.Helper()
	e.dev("pull", "--quiet", "--rebase", "origin", "main")
	base = e.dev("rev-parse", "HEAD")
	e.dev("checkout", "--quiet", "-b", branch)
	if file == "" {
		file = specPath
	}
	if err := os.WriteFile(filepath.Join(e.fleet.Work, file), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.dev("add", "-A")
	e.dev("commit", "--quiet", "-m", "change "+file+" on "+branch)
	e.dev("push", "--quiet", "origin", branch)
	e.dev("checkout", "--quiet", "main")
	e.gh.mu.Lock()
	e.gh.pulls[n] = &fakePull{Number: n, HeadRef: branch, BaseSHA: base}
	e.gh.mu.Unlock()
	return e.dev("rev-parse", branch), base
}

// mergePull merges pull request n into main with a merge commit, as GitHub's merge button does.
func (e *env) mergePull(n int) string {
	e.t.Helper()
	e.gh.mu.Lock()
	p := e.gh.pulls[n]
	e.gh.mu.Unlock()
	e.dev("pull", "--quiet", "--rebase", "origin", "main")
	e.dev("merge", "--quiet", "--no-ff", "-m", "Merge pull request #7 from acme/"+p.HeadRef, p.HeadRef)
	e.dev("push", "--quiet", "origin", "main")
	sha := e.dev("rev-parse", "HEAD")
	e.gh.mu.Lock()
	p.Merged = sha
	e.gh.mu.Unlock()
	return sha
}
