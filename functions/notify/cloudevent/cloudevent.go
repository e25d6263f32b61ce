// Package cloudevent sends committed decisions to any HTTP endpoint as
// CloudEvents 1.0 in structured JSON mode (application/cloudevents+json),
// signed with HMAC-SHA256 by the Standard Webhooks scheme and library
// (webhook-id, webhook-timestamp, webhook-signature headers), so receivers
// verify them with any Standard Webhooks library.
package cloudevent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Event attributes.
const (
	// TypePrefix starts the event type; the decision's action ends it
	// (dev.birdwatch.decision.rollback).
	TypePrefix = "dev.birdwatch.decision."
	// Source is the event source.
	Source = "birdwatch"
	// ContentType is the structured-mode media type.
	ContentType = "application/cloudevents+json"
)

// Data is the event's data: the decision, its analysis and its commit.
type Data struct {
	Canary     string    `json:"canary"`
	Action     string    `json:"action"`
	Generation string    `json:"generation"`
	Phase      string    `json:"phase"`
	Step       int       `json:"step"`
	Steps      int       `json:"steps"`
	From       int       `json:"fromWeight"`
	Weight     int       `json:"weight"`
	Reason     string    `json:"reason,omitempty"`
	Summary    string    `json:"summary"`
	Commit     string    `json:"commit"`
	CommitURL  string    `json:"commitUrl,omitempty"`
	Analysis   *Analysis `json:"analysis,omitempty"`
	AnalysisMD string    `json:"analysisMarkdown,omitempty"`
}

// Analysis is the judged window.
type Analysis struct {
	Verdict string   `json:"verdict"`
	Score   float64  `json:"score"`
	Judge   string   `json:"judge"`
	Metrics []Metric `json:"metrics"`
}

// Metric is one row of the analysis table.
type Metric struct {
	Name           string   `json:"name"`
	Classification string   `json:"classification"`
	Canary         *float64 `json:"canary,omitempty"`
	Baseline       *float64 `json:"baseline,omitempty"`
	Unit           string   `json:"unit,omitempty"`
	Reason         string   `json:"reason,omitempty"`
}

// Notifier posts to the URL held by the deployment secret
// spec.notify.webhook.secretRef names, signed with the key
// spec.notify.webhook.signingSecretRef names. It is safe for concurrent use.
type Notifier struct {
	Secrets  notify.Secrets
	Composer notify.Composer
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Now stamps events and signatures; nil means time.Now.
	Now func() time.Time
}

// Wants reports whether c has spec.notify.webhook and its levels take o.
func (n *Notifier) Wants(c *spec.Canary, o core.Outcome) bool {
	return c.Spec.Notify.Webhook != nil && notify.Committed(c.Spec.Notify.Webhook.On, o)
}

// Notify sends o as a signed CloudEvent; canaries without
// spec.notify.webhook are skipped. The event ID is the canary and commit,
// so a receiver can drop a retried delivery it already has.
func (n *Notifier) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if !n.Wants(c, o) {
		return nil
	}
	w := c.Spec.Notify.Webhook
	url, err := n.Secrets.Secret(ctx, w.SecretRef)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	key, err := n.Secrets.Secret(ctx, w.SigningSecretRef)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	at := now()
	body, id, err := Encode(n.Composer.Decision(c, o), at)
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: %w", err))
	}
	h := http.Header{}
	if err := Sign(h, key, id, at, body); err != nil {
		return notify.Permanent(fmt.Errorf("webhook: %s: %w", w.SigningSecretRef, err))
	}
	_, err = notify.Post(ctx, n.Client, notify.Request{Service: "webhook", URL: url, ContentType: ContentType, Body: body, Header: h})
	return err
}

// Encode renders d as a structured-mode CloudEvent and returns it with its ID.
func Encode(d report.Decision, at time.Time) ([]byte, string, error) {
	st := d.Decision.Status
	data := Data{Canary: d.Canary, Action: string(d.Decision.Action), Generation: st.Generation, Phase: string(st.Phase),
		Step: st.Step, Steps: d.Steps, From: d.Decision.From, Weight: st.Weight, Reason: d.Decision.Reason,
		Summary: notify.Facts(d), Commit: d.Commit, CommitURL: d.CommitURL}
	if w := d.Decision.SetWeight; w != nil {
		data.Weight = *w
	}
	if r := d.Analysis; r != nil {
		data.Analysis = &Analysis{Verdict: string(r.Verdict), Score: r.Score, Judge: r.Judge}
		for _, m := range r.Metrics {
			data.Analysis.Metrics = append(data.Analysis.Metrics, Metric{Name: m.Name, Classification: string(m.Classification),
				Canary: finite(m.Canary), Baseline: finite(m.Baseline), Unit: m.Unit, Reason: m.Reason})
		}
		data.AnalysisMD = report.AnalysisMarkdown(r)
	}
	e := cloudevents.New(cloudevents.CloudEventsVersionV1)
	id := d.Canary + "@" + d.Commit
	e.SetID(id)
	e.SetSource(Source)
	e.SetType(TypePrefix + string(d.Decision.Action))
	e.SetSubject(d.Canary)
	e.SetTime(at.UTC())
	if err := e.SetData("application/json", data); err != nil {
		return nil, "", err
	}
	if err := e.Validate(); err != nil {
		return nil, "", err
	}
	body, err := json.Marshal(e)
	return body, id, err
}

// finite is v, or nil for NaN and infinities (no data), which JSON cannot hold.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Sign sets the Standard Webhooks headers: webhook-id, webhook-timestamp
// (Unix seconds) and webhook-signature "v1,BASE64(HMAC-SHA256(key,
// id.timestamp.body))". A key written "whsec_BASE64" is decoded first, as
// the scheme prescribes; any other key is used as its bytes.
func Sign(h http.Header, key, id string, at time.Time, body []byte) error {
	var wh *standardwebhooks.Webhook
	var err error
	if strings.HasPrefix(key, "whsec_") {
		wh, err = standardwebhooks.NewWebhook(key)
	} else {
		wh, err = standardwebhooks.NewWebhookRaw([]byte(key))
	}
	if err != nil {
		return errors.New("the signing secret is not a whsec_ base64 key") // never the key itself
	}
	sig, err := wh.Sign(id, at, body)
	if err != nil {
		return err
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return nil
}
