// Package googlechat posts committed decisions to Google Chat spaces
// through an incoming webhook, as a card (cardsV2): the decision, the
// analysis table as one decoratedText per metric and a button to the
// commit. Chat cards show images only from public URLs, so no chart.
package googlechat

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// The payload types follow the Chat API's Message resource (text,
// cardsV2[].cardId/card) and the Cards v2 widgets (textParagraph,
// decoratedText, buttonList). Hand-written: google.golang.org/api/chat/v1
// has these types but is a large module for seven structs.
type (
	// Message is the webhook's JSON body.
	Message struct {
		Text    string   `json:"text"`
		CardsV2 []CardV2 `json:"cardsV2"`
	}
	// CardV2 is a card with its ID.
	CardV2 struct {
		CardID string `json:"cardId"`
		Card   Card   `json:"card"`
	}
	// Card is a header and sections.
	Card struct {
		Header   Header    `json:"header"`
		Sections []Section `json:"sections"`
	}
	// Header is the card's title.
	Header struct {
		Title    string `json:"title"`
		Subtitle string `json:"subtitle,omitempty"`
	}
	// Section groups widgets under an optional header.
	Section struct {
		Header  string   `json:"header,omitempty"`
		Widgets []Widget `json:"widgets"`
	}
	// Widget is one of textParagraph, decoratedText or buttonList.
	Widget struct {
		TextParagraph *Text          `json:"textParagraph,omitempty"`
		DecoratedText *DecoratedText `json:"decoratedText,omitempty"`
		ButtonList    *ButtonList    `json:"buttonList,omitempty"`
	}
	// Text is a paragraph of Chat's HTML subset.
	Text struct {
		Text string `json:"text"`
	}
	// DecoratedText is a labelled line.
	DecoratedText struct {
		TopLabel    string `json:"topLabel,omitempty"`
		Text        string `json:"text"`
		BottomLabel string `json:"bottomLabel,omitempty"`
		WrapText    bool   `json:"wrapText,omitempty"`
	}
	// ButtonList is a row of buttons.
	ButtonList struct {
		Buttons []Button `json:"buttons"`
	}
	// Button opens a link.
	Button struct {
		Text    string  `json:"text"`
		OnClick OnClick `json:"onClick"`
	}
	// OnClick opens a URL.
	OnClick struct {
		OpenLink OpenLink `json:"openLink"`
	}
	// OpenLink is the URL a button opens.
	OpenLink struct {
		URL string `json:"url"`
	}
)

// Notifier posts to the webhook URL held by the deployment secret
// spec.notify.googleChat.secretRef names. It is safe for concurrent use.
type Notifier struct {
	Secrets  notify.Secrets
	Composer notify.Composer
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Wants reports whether c has spec.notify.googleChat and its levels take o.
func (n *Notifier) Wants(c *spec.Canary, o core.Outcome) bool {
	return c.Spec.Notify.GoogleChat != nil && notify.Committed(c.Spec.Notify.GoogleChat.On, o)
}

// Notify posts o's card; canaries without spec.notify.googleChat are skipped.
func (n *Notifier) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	if !n.Wants(c, o) {
		return nil
	}
	url, err := n.Secrets.Secret(ctx, c.Spec.Notify.GoogleChat.SecretRef)
	if err != nil {
		return fmt.Errorf("google chat: %w", err)
	}
	body, err := json.Marshal(Compose(n.Composer.Decision(c, o)))
	if err != nil {
		return notify.Permanent(fmt.Errorf("google chat: %w", err))
	}
	_, err = notify.Post(ctx, n.Client, notify.Request{Service: "Google Chat", URL: url, ContentType: "application/json; charset=UTF-8", Body: body})
	return err
}

// Compose is the webhook message for d.
func Compose(d report.Decision) Message {
	o := core.Outcome{Canary: d.Canary, Decision: d.Decision}
	title := notify.Title(o)
	text := html.EscapeString(notify.Facts(d))
	if d.Decision.Reason != "" {
		text += "<br>" + html.EscapeString(d.Decision.Reason)
	}
	sections := []Section{{Widgets: []Widget{{TextParagraph: &Text{Text: text}}}}}
	if rows, verdict := notify.Rows(d.Analysis); verdict != "" {
		s := Section{Header: html.EscapeString(verdict)}
		for _, r := range rows {
			s.Widgets = append(s.Widgets, Widget{DecoratedText: &DecoratedText{TopLabel: html.EscapeString(r.Name),
				Text: html.EscapeString(r.Result), BottomLabel: html.EscapeString(r.Detail), WrapText: true}})
		}
		sections = append(sections, s)
	}
	short := d.Commit[:min(len(d.Commit), 8)]
	if d.CommitURL != "" {
		sections = append(sections, Section{Widgets: []Widget{{ButtonList: &ButtonList{Buttons: []Button{
			{Text: "Commit " + short, OnClick: OnClick{OpenLink: OpenLink{URL: d.CommitURL}}}}}}}})
	}
	return Message{Text: title, CardsV2: []CardV2{{CardID: "birdwatch-" + strings.ReplaceAll(d.Canary, "/", "-"),
		Card: Card{Header: Header{Title: title, Subtitle: "birdwatch · commit " + short}, Sections: sections}}}}
}
