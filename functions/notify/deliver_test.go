package notify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// funcNotifier is a notifier made of a function, counting its calls.
type funcNotifier struct {
	calls atomic.Int32
	f     func(ctx context.Context) error
	on    []string
}

func (n *funcNotifier) Notify(ctx context.Context, _ *spec.Canary, _ core.Outcome) error {
	n.calls.Add(1)
	return n.f(ctx)
}

func (n *funcNotifier) Wants(_ *spec.Canary, o core.Outcome) bool { return Committed(n.on, o) }

// post is a notifier posting to url with Post, like the real ones.
func post(url string) *funcNotifier {
	return &funcNotifier{f: func(ctx context.Context) error {
		_, err := Post(ctx, nil, Request{Service: "test", URL: url, ContentType: "application/json", Body: []byte(`{}`)})
		return err
	}}
}

var committed = core.Outcome{Canary: "games/aleph", Commit: "8a77a13f", Decision: rollout.Decision{Action: rollout.ActionAdvance}}

// TestDispatcherNeverDelays hands a decision to a notifier that blocks until
// the test lets it go: Notify must return while it is blocked.
func TestDispatcherNeverDelays(t *testing.T) {
	release := make(chan struct{})
	blocked := &funcNotifier{f: func(ctx context.Context) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	d := NewDispatcher(DispatchOptions{Timeout: time.Minute})
	d.Add("slow", blocked)
	if err := d.Notify(context.Background(), &spec.Canary{}, committed); err != nil {
		t.Fatal(err)
	}
	close(release) // reached only because Notify did not wait
	d.Flush(context.Background())
	if got := testutil.ToFloat64(d.messages.WithLabelValues("slow", "sent")); got != 1 {
		t.Errorf("sent %v", got)
	}
}

func TestDispatcherRetries(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }))
	defer refusing.Close()
	stop := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only after the body
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hanging.Close()
	defer close(stop)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer ok.Close()

	tests := []struct {
		name      string
		n         *funcNotifier
		wantCalls int32
		result    string
		retries   float64
	}{
		{"a service that is down is retried up to the bound", post(down.URL), 3, "failed", 2},
		{"a refusal (4xx) is not retried", post(refusing.URL), 1, "failed", 0},
		{"a hanging service times out each attempt", post(hanging.URL), 3, "failed", 2},
		{"a missing secret is not retried", &funcNotifier{f: func(context.Context) error { return Permanent(errors.New("no secret")) }}, 1, "failed", 0},
		{"a healthy service gets it once", post(ok.URL), 1, "sent", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDispatcher(DispatchOptions{Timeout: 50 * time.Millisecond, Backoff: time.Millisecond})
			d.Add("svc", tt.n)
			_ = d.Notify(context.Background(), &spec.Canary{}, committed)
			d.Flush(context.Background())
			if got := tt.n.calls.Load(); got != tt.wantCalls {
				t.Errorf("%d attempts, want %d", got, tt.wantCalls)
			}
			if got := testutil.ToFloat64(d.messages.WithLabelValues("svc", tt.result)); got != 1 {
				t.Errorf("%s = %v, want 1", tt.result, got)
			}
			if got := testutil.ToFloat64(d.retries.WithLabelValues("svc")); got != tt.retries {
				t.Errorf("retries %v, want %v", got, tt.retries)
			}
		})
	}
}

func TestDispatcherLevelsAndBounds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	promoteOnly := &funcNotifier{f: func(context.Context) error { return nil }, on: []string{"promote"}}
	blocked := &funcNotifier{f: func(context.Context) error { <-release; return nil }}
	d := NewDispatcher(DispatchOptions{MaxInFlight: 1})
	d.Add("promote-only", promoteOnly)
	d.Add("blocked", blocked)
	_ = d.Notify(context.Background(), &spec.Canary{}, committed)
	_ = d.Notify(context.Background(), &spec.Canary{}, committed) // the one slot is taken
	if promoteOnly.calls.Load() != 0 {
		t.Errorf("an advance went to a notifier limited to promote")
	}
	if got := testutil.ToFloat64(d.messages.WithLabelValues("blocked", "dropped")); got != 1 {
		t.Errorf("dropped %v, want 1", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d.Flush(ctx) // returns although a delivery is blocked
}
