package teams

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/notifytest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// workflowPath is the shape of a Workflows webhook URL's path (its sig
// query parameter is the credential).
const workflowPath = "/workflows/8d7a/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t"

// checkCard refuses what a Workflows flow posting "an adaptive card" cannot
// read: the body must be a message whose attachments hold one Adaptive Card
// with a body of known elements (as in "Send Adaptive Cards using an
// Incoming Webhook").
func checkCard(d notifytest.Delivery) string {
	if !strings.HasPrefix(d.ContentType, "application/json") {
		return "content type " + d.ContentType
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string           `json:"contentType"`
			ContentURL  *json.RawMessage `json:"contentUrl"`
			Content     struct {
				Schema  string            `json:"$schema"`
				Type    string            `json:"type"`
				Version string            `json:"version"`
				Body    []json.RawMessage `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(d.Body, &m); err != nil {
		return err.Error()
	}
	if m.Type != "message" || len(m.Attachments) != 1 {
		return "not a message with one attachment"
	}
	a := m.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" ||
		a.Content.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || a.Content.Version == "" || len(a.Content.Body) == 0 {
		return "not an Adaptive Card attachment"
	}
	for _, raw := range a.Content.Body {
		var e struct{ Type string }
		if json.Unmarshal(raw, &e) != nil || (e.Type != "TextBlock" && e.Type != "FactSet") {
			return "unknown element " + string(raw)
		}
	}
	return ""
}

func secrets(kv map[string]string) notify.Secrets {
	return notify.SecretFunc(func(_ context.Context, name string) (string, error) {
		if v, ok := kv[name]; ok {
			return v, nil
		}
		return "", notify.Permanent(errors.New("no secret " + name))
	})
}

func TestTeamsNotify(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	hook := &notifytest.Hook{Status: http.StatusAccepted, Check: checkCard} // Workflows answers 202
	url := notifytest.NewHook(t, hook, workflowPath)
	n := &Notifier{Secrets: secrets(map[string]string{"teams-deploys": url}),
		Composer: notify.Composer{CommitURL: notify.CommitLinker("https://github.com/acme/fleet.git")}}
	c.Spec.Notify.Teams = &spec.HookNotify{SecretRef: "teams-deploys"}
	if err := n.Notify(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	ds := hook.Deliveries()
	if len(ds) != 1 || !strings.Contains(ds[0].Query, "sig=s3cr3t") {
		t.Fatalf("deliveries %+v", ds)
	}
	var m message
	if err := json.Unmarshal(ds[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	card := m.Attachments[0].Content
	if !strings.Contains(string(ds[0].Body), `"contentUrl":null`) {
		t.Errorf("contentUrl is not null: %s", ds[0].Body)
	}
	title := card.Body[0]
	if title.Text != "games/aleph v04: rollback" || title.Color != "Attention" {
		t.Errorf("title %+v", title)
	}
	var facts []fact
	var text []string
	for _, e := range card.Body {
		facts = append(facts, e.Facts...)
		text = append(text, e.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"phase RolledBack", "critical metric failed", "analysis Fail, score 33 (sequential judge)", "commit 8a77a13f"} {
		if !strings.Contains(all, want) {
			t.Errorf("card text lacks %q:\n%s", want, all)
		}
	}
	if len(facts) != 3 || facts[0].Title != "error-rate" || !strings.Contains(facts[0].Value, "❌ High") ||
		!strings.Contains(facts[0].Value, "canary 2.10% vs baseline 0.11%") || facts[2].Title != "saturation" {
		t.Errorf("analysis facts %+v", facts)
	}
	if len(card.Actions) != 1 || card.Actions[0].URL != "https://github.com/acme/fleet/commit/"+notifytest.Commit {
		t.Errorf("actions %+v", card.Actions)
	}
}

func TestTeamsSkipsAndFails(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	tests := []struct {
		name      string
		notify    *spec.HookNotify
		status    int
		outcome   func() any
		wantPosts int
		wantErr   string
		retryable bool
	}{
		{name: "no spec.notify.teams", wantPosts: 0},
		{name: "levels leave rollback out", notify: &spec.HookNotify{SecretRef: "t", On: []string{"promote"}}, wantPosts: 0},
		{name: "levels take rollback", notify: &spec.HookNotify{SecretRef: "t", On: []string{"promote", "rollback"}}, status: 202, wantPosts: 1},
		{name: "missing secret", notify: &spec.HookNotify{SecretRef: "absent"}, wantErr: `no secret absent`},
		{name: "Teams down is retryable", notify: &spec.HookNotify{SecretRef: "t"}, status: 502, wantPosts: 1, wantErr: "Teams answered HTTP 502", retryable: true},
		{name: "a refused card is not", notify: &spec.HookNotify{SecretRef: "t"}, status: 400, wantPosts: 1, wantErr: "Teams answered HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := &notifytest.Hook{Status: tt.status}
			url := notifytest.NewHook(t, hook, workflowPath)
			n := &Notifier{Secrets: secrets(map[string]string{"t": url})}
			c.Spec.Notify.Teams = tt.notify
			err := n.Notify(context.Background(), c, o)
			if got := len(hook.Deliveries()); got != tt.wantPosts {
				t.Errorf("%d posts, want %d", got, tt.wantPosts)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || notify.Retryable(err) != tt.retryable {
				t.Fatalf("err %v (retryable %v), want %q retryable %v", err, err != nil && notify.Retryable(err), tt.wantErr, tt.retryable)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error shows the webhook URL: %v", err)
			}
		})
	}
	t.Run("uncommitted decisions are not posted", func(t *testing.T) {
		hook := &notifytest.Hook{}
		n := &Notifier{Secrets: secrets(map[string]string{"t": notifytest.NewHook(t, hook, "/")})}
		c.Spec.Notify.Teams = &spec.HookNotify{SecretRef: "t"}
		wait := o
		wait.Commit, wait.Decision.Action = "", rollout.ActionWait
		if err := n.Notify(context.Background(), c, wait); err != nil || len(hook.Deliveries()) != 0 {
			t.Errorf("err %v, %d posts", err, len(hook.Deliveries()))
		}
	})
}
