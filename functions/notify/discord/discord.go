// Package discord posts committed decisions to Discord channels through a
// channel webhook (Execute Webhook): one embed with the decision, the
// analysis table as fields and a link to the commit, and the decisive
// metric's chart attached and shown as the embed's image.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// Discord's limits (Channel resource, "Embed Limits").
const (
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
)

// The payload types follow Discord's "Execute Webhook" JSON/form params and
// the Embed object. Hand-written: discordgo, the Go client, reaches
// webhooks only through package-level endpoint variables and a session;
// these few structs are all a webhook message needs.
type (
	// Payload is the JSON body, or the payload_json part of a multipart body.
	Payload struct {
		Content         string          `json:"content,omitempty"`
		Username        string          `json:"username,omitempty"`
		Embeds          []Embed         `json:"embeds"`
		AllowedMentions allowedMentions `json:"allowed_mentions"`
		Attachments     []Attachment    `json:"attachments,omitempty"`
	}
	// Embed is one rich message block.
	Embed struct {
		Title       string  `json:"title"`
		Description string  `json:"description,omitempty"`
		URL         string  `json:"url,omitempty"`
		Color       int     `json:"color"`
		Timestamp   string  `json:"timestamp,omitempty"`
		Fields      []Field `json:"fields,omitempty"`
		Image       *Image  `json:"image,omitempty"`
		Footer      *Footer `json:"footer,omitempty"`
	}
	// Field is a name/value pair of an embed.
	Field struct {
		Name   string `json:"name"`
		Value  string `json:"value"`
		Inline bool   `json:"inline,omitempty"`
	}
	// Image points at an attachment: attachment://FILENAME.
	Image struct {
		URL string `json:"url"`
	}
	// Footer is the embed's small print.
	Footer struct {
		Text string `json:"text"`
	}
	// Attachment describes the file uploaded as files[ID].
	Attachment struct {
		ID          int    `json:"id"`
		Filename    string `json:"filename"`
		Description string `json:"description,omitempty"`
	}
	// allowedMentions with an empty parse list keeps text from specs and
	// metrics ("@everyone" in a reason) from pinging anyone.
	allowedMentions struct {
		Parse []string `json:"parse"`
	}
)

// Notifier posts to the webhook URL held by the deployment secret
// spec.notify.discord.secretRef names. It is safe for concurrent use.
type Notifier struct {
	Secrets  notify.Secrets
	Composer notify.Composer
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Now stamps the embed; nil means time.Now.
	Now func() time.Time
}

// Wants reports whether c has spec.notify.discord and its levels take o.
func (n *Notifier) Wants(c *spec.Canary, o core.Outcome) bool {
	return c.Spec.Notify.Discord != nil && notify.Committed(c.Spec.Notify.Discord.On, o)
}

// Notify posts o's embed, with the chart when Composer has a series
// provider; canaries without spec.notify.discord are skipped. A chart that
// cannot be built is left out (the message still goes).
func (n *Notifier) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if !n.Wants(c, o) {
		return nil
	}
	url, err := n.Secrets.Secret(ctx, c.Spec.Notify.Discord.SecretRef)
	if err != nil {
		return fmt.Errorf("discord: %w", err)
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	p := Message(n.Composer.Decision(c, o), now())
	chart, file, ok, chartErr := n.Composer.ChartPNG(ctx, c, o)
	req := notify.Request{Service: "Discord", URL: url}
	if ok {
		p.Attachments = []Attachment{{ID: 0, Filename: file, Description: chart.Title}}
		p.Embeds[0].Image = &Image{URL: "attachment://" + file}
		req.Body, req.ContentType, err = multipartBody(p, file, chart.PNG)
	} else {
		req.ContentType = "application/json"
		req.Body, err = json.Marshal(p)
	}
	if err != nil {
		return notify.Permanent(fmt.Errorf("discord: %w", err))
	}
	if _, err := notify.Post(ctx, n.Client, req); err != nil {
		return err
	}
	if chartErr != nil {
		return notify.Permanent(fmt.Errorf("discord: posted without the chart: %w", chartErr))
	}
	return nil
}

// Message is the webhook payload for d, without the chart.
func Message(d report.Decision, now time.Time) Payload {
	o := core.Outcome{Canary: d.Canary, Decision: d.Decision}
	desc := notify.Facts(d)
	if d.Decision.Reason != "" {
		desc += "\n" + d.Decision.Reason
	}
	e := Embed{Title: cut(notify.Title(o), maxTitle), URL: d.CommitURL, Color: notify.Color(d.Decision.Action),
		Timestamp: now.UTC().Format(time.RFC3339), Footer: &Footer{Text: "birdwatch · commit " + d.Commit[:min(len(d.Commit), 8)]}}
	rows, verdict := notify.Rows(d.Analysis)
	if verdict != "" {
		desc += "\n**" + verdict + "**"
	}
	e.Description = cut(desc, maxDescription)
	for i, r := range rows {
		if i == maxFields {
			break
		}
		e.Fields = append(e.Fields, Field{Name: cut(r.Name, maxFieldName), Value: cut(r.Result+"\n"+r.Detail, maxFieldValue), Inline: true})
	}
	return Payload{Username: "birdwatch", Embeds: []Embed{e}, AllowedMentions: allowedMentions{Parse: []string{}}}
}

// multipartBody is the multipart/form-data body Discord takes for uploads:
// payload_json, then the file as files[0].
func multipartBody(p Payload, file string, png []byte) ([]byte, string, error) {
	js, err := json.Marshal(p)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="payload_json"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err == nil {
		_, err = part.Write(js)
	}
	if err != nil {
		return nil, "", err
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files[0]"; filename=%q`, file))
	h.Set("Content-Type", "image/png")
	if part, err = w.CreatePart(h); err == nil {
		_, err = part.Write(png)
	}
	if err == nil {
		err = w.Close()
	}
	return b.Bytes(), w.FormDataContentType(), err
}

// cut shortens s to n characters, ending with "…" when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
