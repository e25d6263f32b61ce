package googlechat

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/notifytest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// spacePath is an incoming webhook URL's path and query (key and token are the credential).
const spacePath = "/v1/spaces/AAAAx1y2z3/messages?key=AIzaSy-k3y&token=t0k3n"

// checkMessage refuses what the Chat API refuses: a message must carry text
// or cards, each card an ID and at least one section of known widgets with
// their required fields.
func checkMessage(d notifytest.Delivery) string {
	var m struct {
		Text    string `json:"text"`
		CardsV2 []struct {
			CardID string `json:"cardId"`
			Card   struct {
				Header   struct{ Title string }               `json:"header"`
				Sections []struct{ Widgets []map[string]any } `json:"sections"`
			} `json:"card"`
		} `json:"cardsV2"`
	}
	if err := json.Unmarshal(d.Body, &m); err != nil {
		return err.Error()
	}
	if m.Text == "" && len(m.CardsV2) == 0 {
		return "Message cannot be empty"
	}
	for _, c := range m.CardsV2 {
		if c.CardID == "" || c.Card.Header.Title == "" || len(c.Card.Sections) == 0 {
			return "card without id, title or sections"
		}
		for _, s := range c.Card.Sections {
			for _, w := range s.Widgets {
				if len(w) != 1 {
					return "a widget must be exactly one kind"
				}
				for kind := range w {
					if kind != "textParagraph" && kind != "decoratedText" && kind != "buttonList" {
						return "unknown widget " + kind
					}
				}
			}
		}
	}
	return ""
}

func TestGoogleChatCard(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	hook := &notifytest.Hook{Check: checkMessage, Answer: `{"name":"spaces/AAAAx1y2z3/messages/abc.abc","text":"x"}`}
	url := notifytest.NewHook(t, hook, spacePath)
	c.Spec.Notify.GoogleChat = &spec.HookNotify{SecretRef: "chat"}
	n := &Notifier{Secrets: notify.SecretFunc(func(_ context.Context, name string) (string, error) {
		if name != "chat" {
			return "", errors.New("no secret")
		}
		return url, nil
	}), Composer: notify.Composer{CommitURL: notify.CommitLinker("https://github.com/acme/fleet")}}
	if err := n.Notify(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	ds := hook.Deliveries()
	if len(ds) != 1 || ds[0].ContentType != "application/json; charset=UTF-8" {
		t.Fatalf("deliveries %+v", ds)
	}
	var m Message
	if err := json.Unmarshal(ds[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	card := m.CardsV2[0].Card
	if m.Text != "games/aleph v04: rollback" || card.Header.Title != m.Text || m.CardsV2[0].CardID != "birdwatch-games-aleph" {
		t.Errorf("text %q header %+v", m.Text, card.Header)
	}
	if len(card.Sections) != 3 {
		t.Fatalf("sections %+v", card.Sections)
	}
	if p := card.Sections[0].Widgets[0].TextParagraph; p == nil || !strings.Contains(p.Text, "phase RolledBack<br>critical metric failed: error-rate High (e=312 &gt;= 200") {
		t.Errorf("paragraph %+v", p)
	}
	rows := card.Sections[1]
	if rows.Header != "analysis Fail, score 33 (sequential judge)" || len(rows.Widgets) != 3 {
		t.Fatalf("analysis section %+v", rows)
	}
	first := rows.Widgets[0].DecoratedText
	if first.TopLabel != "error-rate" || first.Text != "❌ High" || !strings.Contains(first.BottomLabel, "&lt;b&gt;@everyone&lt;/b&gt;") {
		t.Errorf("first row %+v: metric text must be escaped for Chat's HTML", first)
	}
	b := card.Sections[2].Widgets[0].ButtonList
	if b == nil || b.Buttons[0].OnClick.OpenLink.URL != "https://github.com/acme/fleet/commit/"+notifytest.Commit {
		t.Errorf("buttons %+v", b)
	}
}
