package cloudevent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/notifytest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// signingKey is a Standard Webhooks secret (whsec_ and base64).
const signingKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func secrets(kv map[string]string) notify.Secrets {
	return notify.SecretFunc(func(_ context.Context, name string) (string, error) {
		if v, ok := kv[name]; ok {
			return v, nil
		}
		return "", notify.Permanent(errors.New("no secret " + name))
	})
}

// receiver verifies each delivery like a receiver using the Standard
// Webhooks library would, then reads it as a CloudEvent with the CloudEvents
// SDK; it answers 401 to a bad signature.
func receiver(key string, got *cloudevents.Event) func(d notifytest.Delivery) string {
	wh, err := standardwebhooks.NewWebhook(key)
	if err != nil {
		panic(err)
	}
	return func(d notifytest.Delivery) string {
		if err := wh.Verify(d.Body, d.Header); err != nil {
			return "signature: " + err.Error()
		}
		if d.ContentType != "application/cloudevents+json" {
			return "content type " + d.ContentType
		}
		if err := json.Unmarshal(d.Body, got); err != nil {
			return err.Error()
		}
		if err := got.Validate(); err != nil {
			return err.Error()
		}
		return ""
	}
}

func TestWebhookCloudEvent(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	var ev cloudevents.Event
	hook := &notifytest.Hook{Status: 202, Check: receiver(signingKey, &ev)}
	url := notifytest.NewHook(t, hook, "/hooks/birdwatch")
	c.Spec.Notify.Webhook = &spec.WebhookNotify{SecretRef: "hook-url", SigningSecretRef: "hook-key"}
	n := &Notifier{Secrets: secrets(map[string]string{"hook-url": url, "hook-key": signingKey}),
		Composer: notify.Composer{CommitURL: notify.CommitLinker("https://github.com/acme/fleet")}}
	if err := n.Notify(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	if ev.SpecVersion() != "1.0" || ev.Type() != "dev.birdwatch.decision.rollback" || ev.Source() != "birdwatch" ||
		ev.Subject() != "games/aleph" || ev.ID() != "games/aleph@"+notifytest.Commit || ev.DataContentType() != "application/json" {
		t.Errorf("event %s", ev)
	}
	if time.Since(ev.Time()) > time.Minute {
		t.Errorf("time %v", ev.Time())
	}
	var d Data
	if err := ev.DataAs(&d); err != nil {
		t.Fatal(err)
	}
	if d.Action != "rollback" || d.Phase != "RolledBack" || d.Commit != notifytest.Commit ||
		d.CommitURL != "https://github.com/acme/fleet/commit/"+notifytest.Commit || d.Analysis == nil || d.Analysis.Verdict != "Fail" {
		t.Errorf("data %+v", d)
	}
	m := d.Analysis.Metrics
	if len(m) != 3 || m[0].Name != "error-rate" || *m[0].Canary != 2.1 || m[2].Canary != nil || m[2].Classification != "NoData" {
		t.Errorf("metrics %+v", m)
	}
	if !strings.Contains(d.AnalysisMD, "| error-rate |") {
		t.Errorf("markdown table %q", d.AnalysisMD)
	}
	h := hook.Deliveries()[0].Header
	if h.Get("webhook-id") != ev.ID() || !strings.HasPrefix(h.Get("webhook-signature"), "v1,") {
		t.Errorf("headers %v", h)
	}
}

func TestWebhookSignature(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	tests := []struct {
		name, key, receiverKey string
		wantErr                string
	}{
		{name: "a raw key signs too", key: "not-base64 but long enough", receiverKey: "whsec_bm90LWJhc2U2NCBidXQgbG9uZyBlbm91Z2g="},
		{name: "a receiver with another key refuses", key: signingKey, receiverKey: "whsec_b3RoZXIga2V5", wantErr: "HTTP 400"},
		{name: "a whsec_ key that is not base64", key: "whsec_%%%", receiverKey: signingKey, wantErr: "not a whsec_ base64 key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev cloudevents.Event
			hook := &notifytest.Hook{Check: receiver(tt.receiverKey, &ev)}
			c.Spec.Notify.Webhook = &spec.WebhookNotify{SecretRef: "u", SigningSecretRef: "k"}
			n := &Notifier{Secrets: secrets(map[string]string{"u": notifytest.NewHook(t, hook, "/"), "k": tt.key})}
			err := n.Notify(context.Background(), c, o)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), tt.key) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
