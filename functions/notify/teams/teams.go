// Package teams posts committed decisions to Microsoft Teams channels
// through a Workflows webhook ("Post to a channel when a webhook request is
// received"), as an Adaptive Card: the decision, the analysis table as a
// FactSet and a button to the commit. Teams cards cannot carry the chart:
// images need a public URL and messages are capped at 28 KB.
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// The payload types follow "Send Adaptive Cards using an Incoming Webhook"
// (learn.microsoft.com, msteams-platform) and the Adaptive Card 1.4 schema.
// Hand-written: the few elements used here fit in five structs, where a
// client library (go-teams-notify) brings its own retries and URL rules that
// would fight the dispatcher's bounds.
type (
	message struct {
		Type        string       `json:"type"` // "message"
		Attachments []attachment `json:"attachments"`
	}
	attachment struct {
		ContentType string  `json:"contentType"` // application/vnd.microsoft.card.adaptive
		ContentURL  *string `json:"contentUrl"`  // null
		Content     card    `json:"content"`
	}
	card struct {
		Schema  string         `json:"$schema"`
		Type    string         `json:"type"` // "AdaptiveCard"
		Version string         `json:"version"`
		MSTeams map[string]any `json:"msteams,omitempty"`
		Body    []element      `json:"body"`
		Actions []action       `json:"actions,omitempty"`
	}
	// element is a TextBlock or a FactSet.
	element struct {
		Type     string `json:"type"`
		Text     string `json:"text,omitempty"`
		Size     string `json:"size,omitempty"`
		Weight   string `json:"weight,omitempty"`
		Color    string `json:"color,omitempty"`
		IsSubtle bool   `json:"isSubtle,omitempty"`
		Wrap     bool   `json:"wrap,omitempty"`
		Spacing  string `json:"spacing,omitempty"`
		Facts    []fact `json:"facts,omitempty"`
	}
	fact struct {
		Title string `json:"title"`
		Value string `json:"value"`
	}
	action struct {
		Type  string `json:"type"` // Action.OpenUrl
		Title string `json:"title"`
		URL   string `json:"url"`
	}
)

// ContentType is the attachment type of an Adaptive Card.
const ContentType = "application/vnd.microsoft.card.adaptive"

// Notifier posts to the Workflows webhook URL held by the deployment secret
// spec.notify.teams.secretRef names. It is safe for concurrent use.
type Notifier struct {
	Secrets  notify.Secrets
	Composer notify.Composer
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Wants reports whether c has spec.notify.teams and its levels take o.
func (n *Notifier) Wants(c *spec.Canary, o core.Outcome) bool {
	return c.Spec.Notify.Teams != nil && notify.Committed(c.Spec.Notify.Teams.On, o)
}

// Notify posts o's card; canaries without spec.notify.teams are skipped.
func (n *Notifier) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if !n.Wants(c, o) {
		return nil
	}
	url, err := n.Secrets.Secret(ctx, c.Spec.Notify.Teams.SecretRef)
	if err != nil {
		return fmt.Errorf("teams: %w", err)
	}
	body, err := json.Marshal(Message(n.Composer.Decision(c, o)))
	if err != nil {
		return notify.Permanent(fmt.Errorf("teams: %w", err))
	}
	_, err = notify.Post(ctx, n.Client, notify.Request{Service: "Teams", URL: url, ContentType: "application/json", Body: body})
	return err
}

// Message is the webhook payload for d: a message with one Adaptive Card.
func Message(d report.Decision) any {
	o := core.Outcome{Canary: d.Canary, Decision: d.Decision}
	body := []element{
		{Type: "TextBlock", Text: notify.Title(o), Size: "Large", Weight: "Bolder", Wrap: true, Color: color(d)},
		{Type: "TextBlock", Text: notify.Facts(d), Wrap: true, Spacing: "Small"},
	}
	if d.Decision.Reason != "" {
		body = append(body, element{Type: "TextBlock", Text: d.Decision.Reason, Wrap: true})
	}
	if rows, verdict := notify.Rows(d.Analysis); verdict != "" {
		facts := make([]fact, len(rows))
		for i, r := range rows {
			facts[i] = fact{Title: r.Name, Value: r.Result + " · " + r.Detail}
		}
		body = append(body, element{Type: "TextBlock", Text: verdict, Weight: "Bolder", Wrap: true, Spacing: "Medium"},
			element{Type: "FactSet", Facts: facts})
	}
	short := d.Commit[:min(len(d.Commit), 8)]
	body = append(body, element{Type: "TextBlock", Text: "commit " + short + " · birdwatch", IsSubtle: true, Size: "Small", Wrap: true})
	var actions []action
	if d.CommitURL != "" {
		actions = append(actions, action{Type: "Action.OpenUrl", Title: "Commit " + short, URL: d.CommitURL})
	}
	return message{Type: "message", Attachments: []attachment{{ContentType: ContentType, Content: card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: map[string]any{"width": "Full"}, Body: body, Actions: actions}}}}
}

// color is the title's Adaptive Card colour for the decision.
func color(d report.Decision) string {
	switch d.Decision.Action {
	case rollout.ActionPromote:
		return "Good"
	case rollout.ActionRollback:
		return "Attention"
	case rollout.ActionFreeze, rollout.ActionPause:
		return "Warning"
	}
	return "Accent"
}
