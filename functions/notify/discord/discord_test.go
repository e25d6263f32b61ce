package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/notifytest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// hookPath is a Discord webhook URL's path: /api/webhooks/ID/TOKEN.
const hookPath = "/api/webhooks/1191204939193372712/t0k3n-Xyz"

var now = time.Date(2026, 11, 20, 12, 9, 45, 0, time.UTC)

func secrets(kv map[string]string) notify.Secrets {
	return notify.SecretFunc(func(_ context.Context, name string) (string, error) {
		if v, ok := kv[name]; ok {
			return v, nil
		}
		return "", notify.Permanent(errors.New("no secret " + name))
	})
}

// received is one Execute Webhook request read the way Discord reads it:
// a JSON body, or multipart/form-data with payload_json and files[n].
type received struct {
	payload Payload
	files   map[string][]byte // "files[0]" -> bytes
	names   map[string]string // "files[0]" -> filename
}

// read decodes d, refusing what Discord refuses ("Cannot send an empty
// message", unknown attachment references, embeds over the limits).
func read(d notifytest.Delivery) (received, string) {
	r := received{files: map[string][]byte{}, names: map[string]string{}}
	mt, params, err := mime.ParseMediaType(d.ContentType)
	if err != nil {
		return r, err.Error()
	}
	var js []byte
	switch mt {
	case "application/json":
		js = d.Body
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(d.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return r, err.Error()
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "payload_json" {
				js = b
			} else if strings.HasPrefix(p.FormName(), "files[") {
				r.files[p.FormName()], r.names[p.FormName()] = b, p.FileName()
			}
		}
	default:
		return r, "content type " + mt
	}
	if err := json.Unmarshal(js, &r.payload); err != nil {
		return r, err.Error()
	}
	if r.payload.Content == "" && len(r.payload.Embeds) == 0 && len(r.files) == 0 {
		return r, "Cannot send an empty message"
	}
	for _, e := range r.payload.Embeds {
		if len([]rune(e.Title)) > maxTitle || len([]rune(e.Description)) > maxDescription || len(e.Fields) > maxFields {
			return r, "embed over the limits"
		}
		if e.Image != nil {
			name, ok := strings.CutPrefix(e.Image.URL, "attachment://")
			if !ok {
				return r, "image is not an attachment"
			}
			found := false
			for _, a := range r.payload.Attachments {
				found = found || (a.Filename == name && r.names["files["+itoa(a.ID)+"]"] == name)
			}
			if !found {
				return r, "image names no uploaded file"
			}
		}
	}
	return r, ""
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestDiscordEmbed(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	var got received
	hook := &notifytest.Hook{Status: http.StatusNoContent, Check: func(d notifytest.Delivery) string {
		var msg string
		got, msg = read(d)
		return msg
	}}
	url := notifytest.NewHook(t, hook, hookPath)
	c.Spec.Notify.Discord = &spec.HookNotify{SecretRef: "discord"}
	n := &Notifier{Secrets: secrets(map[string]string{"discord": url}), Now: func() time.Time { return now },
		Composer: notify.Composer{CommitURL: notify.CommitLinker("git@gitlab.example.com:platform/fleet.git")}}
	if err := n.Notify(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	if len(hook.Deliveries()) != 1 || hook.Deliveries()[0].ContentType != "application/json" {
		t.Fatalf("deliveries %+v", hook.Deliveries())
	}
	e := got.payload.Embeds[0]
	if e.Title != "games/aleph v04: rollback" || e.Color != 0xE01E5A || e.Timestamp != "2026-11-20T12:09:45Z" ||
		e.URL != "https://gitlab.example.com/platform/fleet/-/commit/"+notifytest.Commit {
		t.Errorf("embed %+v", e)
	}
	for _, want := range []string{"weight 0%", "phase RolledBack", "critical metric failed", "analysis Fail, score 33"} {
		if !strings.Contains(e.Description, want) {
			t.Errorf("description lacks %q: %s", want, e.Description)
		}
	}
	if len(e.Fields) != 3 || e.Fields[0].Name != "error-rate" || !strings.Contains(e.Fields[0].Value, "❌ High") || e.Image != nil {
		t.Errorf("fields %+v image %+v", e.Fields, e.Image)
	}
	if got.payload.AllowedMentions.Parse == nil || len(got.payload.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions %+v: @everyone in a reason would ping", got.payload.AllowedMentions)
	}
	if !strings.Contains(string(hook.Deliveries()[0].Body), `"allowed_mentions":{"parse":[]}`) {
		t.Errorf("body %s", hook.Deliveries()[0].Body)
	}
}

// TestDiscordChart attaches the decisive metric's chart, built from a real
// Prometheus, and shows it as the embed's image.
func TestDiscordChart(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	prom := notifytest.IstioPrometheus(t)
	c, st := notifytest.RolledBack(t)
	o := notifytest.Outcome(c, st)
	var got received
	hook := &notifytest.Hook{Answer: `{"id":"1191205000000000000","type":0}`, Check: func(d notifytest.Delivery) string {
		var msg string
		got, msg = read(d)
		return msg
	}}
	url := notifytest.NewHook(t, hook, hookPath)
	c.Spec.Notify.Discord = &spec.HookNotify{SecretRef: "discord"}
	n := &Notifier{Secrets: secrets(map[string]string{"discord": url}), Composer: notify.Composer{Series: prom}}
	if err := n.Notify(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	data, ok := got.files["files[0]"]
	if !ok || got.names["files[0]"] != "games_aleph_error-rate.png" {
		t.Fatalf("files %v", got.names)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("chart: %v", err)
	}
	e := got.payload.Embeds[0]
	if e.Image == nil || e.Image.URL != "attachment://games_aleph_error-rate.png" || !strings.HasPrefix(got.payload.Attachments[0].Description, "error-rate") {
		t.Errorf("image %+v attachments %+v", e.Image, got.payload.Attachments)
	}
}

func TestDiscordRateLimited(t *testing.T) {
	c, st := notifytest.RolledBack(t)
	hook := &notifytest.Hook{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1.5"}},
		Answer: `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`}
	c.Spec.Notify.Discord = &spec.HookNotify{SecretRef: "d"}
	n := &Notifier{Secrets: secrets(map[string]string{"d": notifytest.NewHook(t, hook, hookPath)})}
	err := n.Notify(context.Background(), c, notifytest.Outcome(c, st))
	var se *notify.StatusError
	if !errors.As(err, &se) || se.StatusCode != 429 || se.RetryAfter != 1500*time.Millisecond || !notify.Retryable(err) {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "t0k3n") {
		t.Errorf("the error shows the webhook token: %v", err)
	}
}
