package chatops

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkSlashCommandAck measures a slash command from signed body to
// acknowledgement: signature check, parsing and the hand-off to the
// in-process Queue (whose jobs do nothing), as birdwatch serve answers.
func BenchmarkSlashCommandAck(b *testing.B) {
	q := NewQueue(func(context.Context, Job) error { return nil }, QueueOptions{Size: 1024, Workers: 2})
	defer q.Close(context.Background())
	h := &Handler{SigningSecret: signingSecret, Dispatcher: q}
	body := slashBody(operator, "promote games/aleph", "13345224609.738474920.8088930838d88f008e0", respURL)
	header := sign(signingSecret, body, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(b.Context(), header, body); resp.Status != http.StatusOK {
			b.Fatalf("status %d", resp.Status)
		}
	}
}

// BenchmarkSlashCommandAckHTTP is the same through a real HTTP server and
// client on loopback: what Slack's three-second limit applies to.
func BenchmarkSlashCommandAckHTTP(b *testing.B) {
	q := NewQueue(func(context.Context, Job) error { return nil }, QueueOptions{Size: 1024, Workers: 2})
	defer q.Close(context.Background())
	srv := httptest.NewServer(&Handler{SigningSecret: signingSecret, Dispatcher: q})
	defer srv.Close()
	body := slashBody(operator, "promote games/aleph", "13345224609.738474920.8088930838d88f008e0", respURL)
	header := sign(signingSecret, body, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
