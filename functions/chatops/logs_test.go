package chatops

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/report"
)

// lockedBuffer is a log sink shared by goroutines.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoSecretInLogs drives every path that logs (accepted, rejected,
// refused, failed, posted, queue failure) at debug level, in text and
// JSON, and scans the captured logs for the signing secret, Slack's
// verification token and the response URLs' secret part.
func TestNoSecretInLogs(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf lockedBuffer
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			log := slog.New(slog.NewTextHandler(&buf, opts))
			if format == "json" {
				log = slog.New(slog.NewJSONHandler(&buf, opts))
			}
			_, e := pausedFleet(t)
			api := startSlack(t)
			runner := &Runner{Loops: []Loop{e}, ResponseURLPrefixes: []string{api.URL + "/", "http://127.0.0.1:1/"}, Log: log}
			q := NewQueue(func(ctx context.Context, j Job) error {
				if j.Kind == "pause" {
					return errors.New("simulated failure for " + j.Canary)
				}
				return runner.Run(ctx, j)
			}, QueueOptions{Workers: 1, Log: log})
			h := &Handler{SigningSecret: signingSecret, Dispatcher: q, Log: log}
			now := time.Now()
			send := func(body []byte, header http.Header) Response { return h.Handle(t.Context(), header, body) }
			for i, text := range []string{"status", "abort games/aleph", "pause games/aleph", "promote games/zayin", "help"} {
				body := slashBody(operator, text, "7.7."+string(rune('a'+i)), api.responseURL(i))
				send(body, sign(signingSecret, body, now))
			}
			stranger := slashBody("U0STRANGER", "abort games/aleph", "7.8.a", api.responseURL(10))
			send(stranger, sign(signingSecret, stranger, now))
			bad := slashBody(operator, "abort games/aleph", "7.9.a", api.responseURL(11))
			send(bad, sign("wrong", bad, now))
			send(bad, sign(signingSecret, bad, now.Add(-time.Hour)))
			button := buttonBody(operator, report.SlackActionPromote, "games/aleph@v04", "7.9.b", api.responseURL(12))
			send(button, sign(signingSecret, button, now))
			if err := q.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			// Slack failing: the error names the URL it could not reach.
			api.mu.Lock()
			api.status = http.StatusGone
			api.mu.Unlock()
			_ = runner.Run(t.Context(), Job{Kind: KindStatus, UserID: operator, TriggerID: "7.9.c", ResponseURL: api.responseURL(13)})
			_ = runner.Run(t.Context(), Job{Kind: KindStatus, UserID: operator, TriggerID: "7.9.d",
				ResponseURL: "http://127.0.0.1:1/commands/T0001/14/1aA2bB3cC4dD5eE6fF7gG8hH"})

			logs := buf.String()
			for _, want := range []string{"job dispatched", "request rejected", "job done", "not authorized", "chat-ops job failed",
				"job answer failed", "usage answered"} {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %q", want)
				}
			}
			for _, secret := range []string{signingSecret, verificationToken, "1aA2bB3cC4dD5eE6fF7gG8hH", "/commands/T0001"} {
				if strings.Contains(logs, secret) {
					t.Errorf("logs contain %q:\n%s", secret, logs)
				}
			}
		})
	}
}
