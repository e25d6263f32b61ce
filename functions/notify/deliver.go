package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of DispatchOptions: at most 3 attempts of 5 s each, 500 ms then
// 1 s apart, so one message is done or given up within ~17 s.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultAttempts    = 3
	DefaultBackoff     = 500 * time.Millisecond
	DefaultMaxInFlight = 64
)

// Wanter is implemented by notifiers that report only some canaries or
// decisions (spec.notify.NAME and its `on` levels). The dispatcher skips
// the others without counting them.
type Wanter interface {
	Wants(c *spec.Canary, o core.Outcome) bool
}

// DispatchOptions bound the deliveries; zero fields take the defaults.
type DispatchOptions struct {
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Attempts bounds the tries of one message; only retryable failures
	// (network errors, 429, 5xx) are retried.
	Attempts int
	// Backoff is the pause before the second attempt, doubled after.
	Backoff time.Duration
	// MaxInFlight bounds messages being delivered; more are dropped (counted).
	MaxInFlight int
	Log         *slog.Logger
}

// Dispatcher is the engine's one notifier: it hands each committed decision
// to every named notifier in the background, so a notifier that is down or
// slow never delays or fails a decision (Git already holds it). Failures are
// logged and counted (Collectors); retries are bounded. Flush waits for the
// deliveries under way. It is safe for concurrent use.
type Dispatcher struct {
	opts    DispatchOptions
	names   []string
	targets map[string]core.Notifier
	slots   chan struct{}
	wg      sync.WaitGroup

	messages *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

// NewDispatcher returns a dispatcher without notifiers; Add them.
func NewDispatcher(o DispatchOptions) *Dispatcher {
	o.Timeout = cmpOr(o.Timeout, DefaultTimeout)
	o.Attempts = cmpOr(o.Attempts, DefaultAttempts)
	o.Backoff = cmpOr(o.Backoff, DefaultBackoff)
	o.MaxInFlight = cmpOr(o.MaxInFlight, DefaultMaxInFlight)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{opts: o, targets: map[string]core.Notifier{}, slots: make(chan struct{}, o.MaxInFlight),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "birdwatch_notifications_total",
			Help: "Decision messages by notifier and result: sent, failed (after retries) or dropped (too many in flight)."},
			[]string{"notifier", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "birdwatch_notification_retries_total",
			Help: "Retried notifier attempts (network errors, 429, 5xx)."}, []string{"notifier"}),
	}
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Add registers a notifier under name (slack, teams, discord, googleChat, webhook).
func (d *Dispatcher) Add(name string, n core.Notifier) {
	d.names = append(d.names, name)
	d.targets[name] = n
}

// Len is the number of notifiers added.
func (d *Dispatcher) Len() int { return len(d.names) }

// Collectors are the dispatcher's metrics, for a /metrics registry.
func (d *Dispatcher) Collectors() []prometheus.Collector {
	return []prometheus.Collector{d.messages, d.retries}
}

// Notify starts delivering o to every notifier that wants it and returns
// at once; it never fails. Deliveries outlive ctx's cancellation (each
// attempt has its own timeout) but keep its values.
func (d *Dispatcher) Notify(ctx context.Context, c *spec.Canary, o core.Outcome) error {
	bg := context.WithoutCancel(ctx)
	for _, name := range d.names {
		n := d.targets[name]
		if w, ok := n.(Wanter); ok && !w.Wants(c, o) {
			continue
		}
		select {
		case d.slots <- struct{}{}:
		default:
			d.messages.WithLabelValues(name, "dropped").Inc()
			d.opts.Log.Warn("notify dropped: too many messages in flight", "notifier", name, "canary", o.Canary, "commit", o.Commit)
			continue
		}
		d.wg.Go(func() {
			defer func() { <-d.slots }()
			d.deliver(bg, name, n, c, o)
		})
	}
	return nil
}

// Flush waits until the deliveries under way are done or given up, or ctx
// ends. A short-lived process (Lambda, the CLI) calls it before returning.
func (d *Dispatcher) Flush(ctx context.Context) {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// deliver tries one message up to Attempts times.
func (d *Dispatcher) deliver(ctx context.Context, name string, n core.Notifier, c *spec.Canary, o core.Outcome) {
	pause := d.opts.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
		err = n.Notify(actx, c, o)
		cancel()
		if err == nil {
			d.messages.WithLabelValues(name, "sent").Inc()
			return
		}
		if attempt >= d.opts.Attempts || !Retryable(err) {
			break
		}
		d.retries.WithLabelValues(name).Inc()
		wait := pause
		if ra := retryAfter(err); ra > wait {
			wait = min(ra, 4*d.opts.Backoff)
		}
		time.Sleep(wait)
		pause *= 2
	}
	d.messages.WithLabelValues(name, "failed").Inc()
	d.opts.Log.Warn("notify failed", "notifier", name, "canary", o.Canary, "commit", o.Commit, "error", err.Error())
}

// PermanentError marks a failure that another attempt cannot fix (a 4xx
// answer, a missing secret, a payload the service refuses).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that it is not retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Retryable reports whether another attempt may succeed: every error but a
// PermanentError, an expired deadline of the caller included.
func Retryable(err error) bool {
	var p *PermanentError
	return !errors.As(err, &p)
}

// StatusError is a service's non-2xx answer. The body is not kept: some
// services echo the request, and the URL is a credential.
type StatusError struct {
	Service    string
	StatusCode int
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d", e.Service, e.StatusCode)
}

func retryAfter(err error) time.Duration {
	var s *StatusError
	if errors.As(err, &s) {
		return s.RetryAfter
	}
	return 0
}
