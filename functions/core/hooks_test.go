package core

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/hook"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

const hookKey = "hook-signing-key"

type hookSecrets map[string]string

func (s hookSecrets) Secret(_ context.Context, name string) (string, error) {
	if v, ok := s[name]; ok {
		return v, nil
	}
	return "", errors.New("no such secret")
}

// hookReceiver is a webhook endpoint on loopback, as a user would run it:
// it checks the signature, records each payload, and answers per path.
type hookReceiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	calls    map[string][]hook.Payload // by path
	badSig   int
	approved atomic.Bool // the gate's answer: 403 until approved
	hang     chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{calls: map[string][]hook.Payload{}, hang: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p hook.Payload
		if !hook.Verify([]byte(hookKey), body, r.Header.Get(hook.SignatureHeader)) || json.Unmarshal(body, &p) != nil {
			h.mu.Lock()
			h.badSig++
			h.mu.Unlock()
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		h.calls[r.URL.Path] = append(h.calls[r.URL.Path], p)
		h.mu.Unlock()
		switch r.URL.Path {
		case "/gate":
			if !h.approved.Load() {
				http.Error(w, "waiting for the release manager", http.StatusForbidden)
			}
		case "/hang":
			select {
			case <-h.hang:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(h.hang); h.srv.Close() })
	return h
}

func (h *hookReceiver) got(path string) []hook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hook.Payload(nil), h.calls[path]...)
}

// hookSpec is testSpec for canary v05 (a good version) with webhooks.
func hookSpec(hooks string) string {
	s := strings.Replace(testSpec, "canary: v04", "canary: v05", 1)
	return strings.Replace(s, "    metrics:\n", "    webhooks:\n"+hooks+"    metrics:\n", 1)
}

// TestHooksThroughTheLoop runs rollouts with webhooks end to end: real Git,
// a real Prometheus, a real HTTP receiver on loopback checking signatures.
func TestHooksThroughTheLoop(t *testing.T) {
	prom := startPrometheus(t)
	recv := newHookReceiver(t)
	client := &hook.Client{Secrets: hookSecrets{hook.DefaultSecretName: hookKey}}

	t.Run("a confirm gate holds, then the rollout runs its load test and promotes", func(t *testing.T) {
		f := newFleet(t, hookSpec("      - {name: gate, type: confirm-rollout, url: \""+recv.srv.URL+"/gate\"}\n"+
			"      - {name: load-test, type: rollout, url: \""+recv.srv.URL+"/load\", metadata: {cmd: \"hey -z 1m http://aleph-canary.games/\"}}\n"+
			"      - {name: announce, type: post-rollout, url: \""+recv.srv.URL+"/post\"}\n"))
		c := newClock(dataEnd.Add(-time.Hour))
		e := newEngine(t, openRepo(t, f.URL()), prom, c)
		e.Hooks = client
		o := runOnce(t, e)
		st := statusAt(t, f, "main")
		if st.Hooks == nil || st.Hooks.Holding != "gate" || st.Hooks.Since == nil || st.Weight != 0 || o.Commit == "" {
			t.Fatalf("after the gate refused: commit %q, status hooks %+v, weight %d", o.Commit, st.Hooks, st.Weight)
		}
		if !strings.Contains(o.Message, "hooks: gate failed: answered 403 Forbidden") {
			t.Errorf("the hold's commit message does not say why:\n%s", o.Message)
		}
		c.advance(30 * time.Second)
		if o := runOnce(t, e); o.Commit != "" || len(recv.got("/gate")) != 1 {
			t.Fatalf("within the interval: commit %q, gate called %d times", o.Commit, len(recv.got("/gate")))
		}
		recv.approved.Store(true)
		for range 40 {
			c.advance(time.Minute)
			if o := runOnce(t, e); o.Decision.Status.Phase.Terminal() {
				break
			}
		}
		st = statusAt(t, f, "main")
		if st.Phase != spec.PhaseSucceeded || st.Hooks.Holding != "" || !st.Hooks.RolloutConfirmed {
			t.Fatalf("phase %s, hooks %+v: %s", st.Phase, st.Hooks, st.Message)
		}
		loads := recv.got("/load")
		if len(loads) < 2 || loads[0].Metadata["cmd"] != "hey -z 1m http://aleph-canary.games/" || loads[0].Version != "v05" || loads[0].Hook != "load-test" {
			t.Fatalf("load test calls: %+v", loads)
		}
		post := recv.got("/post")
		if len(post) != 1 || post[0].Phase != string(spec.PhaseSucceeded) || post[0].Type != spec.HookPostRollout {
			t.Errorf("post-rollout calls: %+v", post)
		}
		if promoted := commitOf(t, f, `v05 promoted`); !strings.Contains(show(t, f, promoted, ".birdwatch/status/games/aleph.yaml"), "hook: announce") {
			t.Errorf("the promotion's status does not record the post-rollout hook")
		}
		if recv.badSig != 0 {
			t.Errorf("%d calls with a bad signature", recv.badSig)
		}
	})

	t.Run("a load test that hangs fails the looks and rolls back", func(t *testing.T) {
		f := newFleet(t, hookSpec("      - {name: load-test, type: rollout, url: \""+recv.srv.URL+"/hang\", timeout: 300ms}\n"))
		c := newClock(dataEnd.Add(-time.Hour))
		e := newEngine(t, openRepo(t, f.URL()), prom, c)
		e.Hooks = client
		var last Outcome
		for range 40 {
			if last = runOnce(t, e); last.Decision.Status.Phase.Terminal() {
				break
			}
			c.advance(time.Minute)
		}
		st := statusAt(t, f, "main")
		if st.Phase != spec.PhaseRolledBack || !strings.Contains(st.Message, "rollout hook load-test failed: POST "+recv.srv.URL+"/hang: timed out after 300ms") {
			t.Fatalf("phase %s: %s", st.Phase, st.Message)
		}
		if !strings.Contains(last.Message, "hooks: load-test failed: POST") {
			t.Errorf("the rollback's commit message does not record the hook:\n%s", last.Message)
		}
	})

	t.Run("a dry run calls no hook and says which it would call", func(t *testing.T) {
		f := newFleet(t, hookSpec("      - {name: dry-gate, type: confirm-rollout, url: \""+recv.srv.URL+"/dry-gate\"}\n"+
			"      - {name: dry-check, type: pre-rollout, url: \""+recv.srv.URL+"/dry-check\"}\n"))
		e := newEngine(t, openRepo(t, f.URL()), prom, newClock(dataEnd.Add(-time.Hour)))
		e.Hooks = client
		plans, err := e.Plan(t.Context(), Request{Trigger: "cli"})
		if err != nil || len(plans) != 1 || plans[0].Err != nil {
			t.Fatalf("Plan = %+v, %v", plans, err)
		}
		if n := len(recv.got("/dry-gate")) + len(recv.got("/dry-check")); n != 0 {
			t.Fatalf("the dry run called the hooks %d times", n)
		}
		var called []string
		for _, h := range plans[0].Hooks {
			called = append(called, h.String())
		}
		want := []string{"confirm-rollout hook dry-gate: POST " + recv.srv.URL + "/dry-gate"}
		if !slices.Equal(called, want) {
			t.Errorf("Planned.Hooks = %q; want %q", called, want)
		}
		if h := plans[0].Decision.Status.Hooks; h == nil || !h.RolloutConfirmed || h.Holding != "" {
			t.Errorf("the plan does not take the gate as confirmed: status hooks %+v: %s", h, plans[0].Decision.Reason)
		}
	})
}
