package webhook

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// TestCommandsActOnceEver replays captured command deliveries the ways an
// attacker with a copy of them could: under a new delivery ID after the
// next rollout started (and after birdwatch's reply was deleted, so only
// the status remembers), as an old comment, and without a delivery ID.
// None of them acts.
func TestCommandsActOnceEver(t *testing.T) {
	e := newEnv(t)
	e.github("push", render(t, "github/push", defaults())) // v04 starts: weight 10
	if _, err := e.engine.Run(t.Context(), core.Request{Trigger: "test"}); err != nil {
		t.Fatal(err)
	}
	p := defaults()
	p.Action, p.Login, p.Body, p.CommentID = "created", "alice", "/birdwatch abort", 7001
	abort := render(t, "github/issue_comment", p)
	e.gh.addComment(7, "alice", p.Body)
	if r := decode(t, e.github("issue_comment", abort)); r.Result != "done" || e.weights() != "100/0" {
		t.Fatalf("the abort: %+v, weights %s", r, e.weights())
	}

	// v05 starts.
	if err := e.fleet.Commit(t.Context(), "aleph: ship v05", map[string]fleet.Edit{".birdwatch/aleph.yaml": func(b []byte) ([]byte, error) {
		return bytes.Replace(b, []byte("canary: v04"), []byte("canary: v05"), 1), nil
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Run(t.Context(), core.Request{Trigger: "test"}); err != nil {
		t.Fatal(err)
	}
	started := e.weights()
	if started == "100/0" {
		t.Fatalf("v05 did not start: %s", started)
	}

	t.Run("replayed onto the next rollout, reply deleted", func(t *testing.T) {
		e.gh.mu.Lock()
		e.gh.comments[7] = nil // birdwatch's reply is gone: only the status can remember
		e.gh.mu.Unlock()
		before := e.subjects()
		r := decode(t, e.github("issue_comment", abort)) // a new delivery ID, the same signed body
		if len(e.subjects()) != len(before) || e.weights() != started {
			t.Errorf("the replay acted on v05: %+v, weights %s", r, e.weights())
		}
	})

	t.Run("an old comment", func(t *testing.T) {
		old := defaults()
		old.Action, old.Login, old.Body, old.CommentID = "created", "alice", "/birdwatch abort", 7002
		body := strings.Replace(string(render(t, "github/issue_comment", old)), `"created_at": "2026-11-20T11:00:00Z"`, `"created_at": "2026-11-18T11:00:00Z"`, 1)
		if !strings.Contains(body, "2026-11-18T11:00:00Z") {
			t.Fatal("the template's comment time moved")
		}
		before := e.subjects()
		r := decode(t, e.github("issue_comment", []byte(body)))
		if r.Result != "refused" || !strings.Contains(r.Detail, "more than 24h0m0s ago") || len(e.subjects()) != len(before) {
			t.Errorf("an old comment: %+v", r)
		}
	})

	t.Run("no delivery ID", func(t *testing.T) {
		p.CommentID = 7003
		before := e.subjects()
		w := e.github("issue_comment", render(t, "github/issue_comment", p), func(r *http.Request) { r.Header.Del("X-GitHub-Delivery") })
		if w.Code != http.StatusBadRequest || len(e.subjects()) != len(before) {
			t.Errorf("a delivery without an ID: %d %s", w.Code, w.Body)
		}
	})
}
