package chatops

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	gitsync "github.com/birdwatch-gitops/birdwatch/gitops/sync"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// Test secrets: the log scan looks for each of them.
const (
	signingSecret     = "8f742231b10e8888abcd99yyyzzz85a5"
	verificationToken = "gIkuvaNzQIHg97ATvDxqgjtO"
	operator          = "U024BE7LH"
)

// sign returns the headers Slack sends with body at time at.
func sign(secret string, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// slashBody is a slash command request body with every field Slack sends
// (form-encoded; field list from Slack's slash command documentation).
func slashBody(user, text, trigger, responseURL string) []byte {
	v := url.Values{}
	v.Set("token", verificationToken)
	v.Set("team_id", "T0001")
	v.Set("team_domain", "acme")
	v.Set("channel_id", "C2147483705")
	v.Set("channel_name", "deploys")
	v.Set("user_id", user)
	v.Set("user_name", "steve")
	v.Set("command", "/birdwatch")
	v.Set("text", text)
	v.Set("api_app_id", "A0KRD7HC3")
	v.Set("is_enterprise_install", "false")
	v.Set("response_url", responseURL)
	v.Set("trigger_id", trigger)
	return []byte(v.Encode())
}

// buttonBody is a block_actions interaction for a report button (shape of
// Slack's block_actions payload reference), form-encoded as payload=<json>.
func buttonBody(user, actionID, value, trigger, responseURL string) []byte {
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": "steve", "name": "steve", "team_id": "T0001"},
		"api_app_id": "A0KRD7HC3",
		"token":      verificationToken,
		"container":  map[string]any{"type": "message", "message_ts": "1763640000.000100", "channel_id": "C2147483705", "is_ephemeral": false},
		"trigger_id": trigger,
		"team":       map[string]any{"id": "T0001", "domain": "acme"},
		"enterprise": nil, "is_enterprise_install": false,
		"channel": map[string]any{"id": "C2147483705", "name": "deploys"},
		"message": map[string]any{"type": "message", "subtype": "bot_message", "text": "games/aleph v04: pause",
			"ts": "1763640000.000100", "bot_id": "B01AQ1SN737", "blocks": []any{}},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": responseURL,
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "birdwatch_actions",
			"text":  map[string]any{"type": "plain_text", "text": "Promote", "emoji": false},
			"value": value, "style": "primary", "type": "button", "action_ts": "1763640001.000200"}},
	}
	b, _ := json.Marshal(p)
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// recordingDispatcher records jobs and returns err.
type recordingDispatcher struct {
	mu   sync.Mutex
	jobs []Job
	err  error
}

func (d *recordingDispatcher) Dispatch(_ context.Context, j Job) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.jobs = append(d.jobs, j)
	return nil
}

func (d *recordingDispatcher) got() []Job {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Job(nil), d.jobs...)
}

// slackAPI is an httptest stand-in for Slack's response_url endpoint: it
// records the JSON messages posted to it and answers status.
type slackAPI struct {
	*httptest.Server
	mu     sync.Mutex
	posts  []map[string]any
	paths  []string
	status int
}

func startSlack(t *testing.T) *slackAPI {
	s := &slackAPI{status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &m) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.posts, s.paths = append(s.posts, m), append(s.paths, r.URL.Path)
		w.WriteHeader(s.status)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

// responseURL is a response URL of this server, shaped like Slack's.
func (s *slackAPI) responseURL(n int) string {
	return fmt.Sprintf("%s/commands/T0001/%d/1aA2bB3cC4dD5eE6fF7gG8hH", s.URL, n)
}

func (s *slackAPI) received() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.posts...)
}

// pauseSpec pauses at weight 0 before any traffic moves; the applier takes
// an hour to apply a weight, so after a promote the rollout waits for it
// for the whole test, and no look needs Prometheus.
const pauseSpec = `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: v04
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - pause: {}
    - setWeight: 50
    - setWeight: 100
  sync: {engine: none, applyDelay: 1h, timeout: 2h}
  analysis:
    interval: 1h
    judge: threshold
    metrics:
      - {name: error-rate, template: istio-error-rate, max: 1}
  access: {operators: ["github:acme/sre", "slack:U024BE7LH"]}
`

// newFleet makes a real bare Git repository with the aleph manifests and the given specs.
func newFleet(t *testing.T, specs map[string]string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs the git binary")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	delete(files, ".birdwatch/aleph.yaml") // the given specs are the fleet's only ones
	for p, s := range specs {
		files[p] = s
	}
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newEngine wires the loop on url like the binary does, without metrics.
func newEngine(t *testing.T, url string) *core.Engine {
	t.Helper()
	r, err := repo.Open(t.Context(), repo.Options{URL: url, CacheDir: filepath.Join(t.TempDir(), "cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &core.Engine{Repo: r, Judges: map[string]judge.Judge{"threshold": judge.Threshold{}},
		Sync: gitsync.Engines{"none": gitsync.None{}}}
}

// pausedFleet is a fleet whose aleph rollout is paused at weight 0, and its engine.
func pausedFleet(t *testing.T) (*fleet.Repo, *core.Engine) {
	t.Helper()
	f := newFleet(t, map[string]string{".birdwatch/aleph.yaml": pauseSpec})
	e := newEngine(t, f.URL())
	if _, err := e.Run(t.Context(), core.Request{Trigger: "schedule"}); err != nil {
		t.Fatal(err)
	}
	return f, e
}

func subjects(t *testing.T, f *fleet.Repo) []string {
	t.Helper()
	s, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonMarshal marshals without HTML escaping, so tests can look for "<@U...>".
func jsonMarshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return []byte(b.String()), err
}
