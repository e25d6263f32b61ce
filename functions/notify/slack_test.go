package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// slackAPI answers chat.postMessage like Slack's Web API and records the forms it got.
type slackAPI struct {
	t     *testing.T
	mu    sync.Mutex
	forms []map[string]string
	fail  bool
}

func (a *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := a.t
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	auth := r.Header.Get("Authorization") == "Bearer xoxb-test-token" || r.PostForm.Get("token") == "xoxb-test-token"
	if r.URL.Path != "/chat.postMessage" || !auth {
		t.Logf("rejected %s %q", r.URL.Path, r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		return
	}
	a.mu.Lock()
	a.forms = append(a.forms, map[string]string{"channel": r.PostForm.Get("channel"), "blocks": r.PostForm.Get("blocks"), "text": r.PostForm.Get("text")})
	a.mu.Unlock()
	if a.fail {
		_, _ = w.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
		return
	}
	_, _ = w.Write([]byte(`{"ok":true,"channel":"C024BE91L","ts":"1503435956.000247","message":{"text":"x"}}`))
}

func TestSlackNotify(t *testing.T) {
	canary := func(notify bool) *spec.Canary {
		c := &spec.Canary{Metadata: spec.Metadata{Name: "aleph", Namespace: "games"},
			Spec: spec.CanarySpec{Steps: make([]spec.Step, 7)}}
		if notify {
			c.Spec.Notify.Slack = &spec.SlackNotify{Channel: "#deploys"}
		}
		return c
	}
	outcome := core.Outcome{Canary: "games/aleph", Commit: "8a77a13f00d1c0ffee00000000000000000000aa",
		Decision: rollout.Decision{Action: rollout.ActionRollback, From: 10, Reason: "critical metric failed",
			Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseRolledBack, Step: 1}}}
	tests := []struct {
		name       string
		canary     *spec.Canary
		fail       bool
		assertions func(t *testing.T, api *slackAPI, err error)
	}{
		{"posts blocks and text to the spec's channel", canary(true), false, func(t *testing.T, api *slackAPI, err error) {
			if err != nil || len(api.forms) != 1 {
				t.Fatalf("err %v, %d posts", err, len(api.forms))
			}
			f := api.forms[0]
			var blocks []map[string]any
			if f["channel"] != "#deploys" || json.Unmarshal([]byte(f["blocks"]), &blocks) != nil || len(blocks) == 0 {
				t.Errorf("form %+v", f)
			}
			if !strings.Contains(f["blocks"], "games/aleph") || !strings.Contains(f["text"], "games/aleph") {
				t.Errorf("the message does not name the canary: %+v", f)
			}
		}},
		{"a canary without notify.slack is skipped", canary(false), false, func(t *testing.T, api *slackAPI, err error) {
			if err != nil || len(api.forms) != 0 {
				t.Errorf("err %v, %d posts", err, len(api.forms))
			}
		}},
		{"a Slack error is returned with the channel", canary(true), true, func(t *testing.T, api *slackAPI, err error) {
			if err == nil || !strings.Contains(err.Error(), "channel_not_found") || !strings.Contains(err.Error(), "#deploys") {
				t.Errorf("err %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &slackAPI{t: t, fail: tt.fail}
			srv := httptest.NewServer(api)
			defer srv.Close()
			err := NewSlack("xoxb-test-token", srv.URL+"/").Notify(context.Background(), tt.canary, outcome)
			tt.assertions(t, api, err)
		})
	}
}
