// Package bodylimit bounds the memory that request bodies can take before
// anyone has proved who sent them. A signature can only be checked once the
// whole body is read, so an unauthenticated flood of large bodies would
// otherwise grow the process without limit. A Limiter admits a body only
// while its byte budget allows (in total and per source address), reads it
// into a pooled buffer sized from Content-Length, and refuses the rest at
// once: ErrBusy (503) when the total budget is spent, ErrSourceBusy (429)
// when one source holds its share.
//
// The accounting is a mutex and two counters, hand-written because
// golang.org/x/sync/semaphore has no per-key budgets and would still need
// this map.
package bodylimit

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Errors of Read; each maps to a status with Status.
var (
	ErrBusy       = errors.New("too many request bodies in flight")
	ErrSourceBusy = errors.New("too many request bodies in flight from this address")
	ErrTooLarge   = errors.New("request body too large")
)

// Defaults of New's zero arguments.
const (
	// DefaultBudget is the bytes all bodies being read may hold at once.
	DefaultBudget = 64 << 20
	// DefaultSourceShare is the fraction of the budget one address may hold.
	DefaultSourceShare = 4
)

// Limiter admits request bodies within a byte budget. It is safe for
// concurrent use; one Limiter may serve several handlers.
type Limiter struct {
	budget, perSource int64
	mu                sync.Mutex
	used              int64
	bySource          map[string]int64
	pool              sync.Pool
}

// New returns a Limiter holding at most budget bytes of bodies at once, and
// at most budget/share from one source address. Zero means the default.
func New(budget int64, share int) *Limiter {
	if budget <= 0 {
		budget = DefaultBudget
	}
	if share <= 0 {
		share = DefaultSourceShare
	}
	return &Limiter{budget: budget, perSource: budget / int64(share), bySource: map[string]int64{},
		pool: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// Body is an admitted body. Release it once the bytes are no longer used.
type Body struct {
	l      *Limiter
	buf    *bytes.Buffer
	source string
	n      int64
}

// Bytes is the body; it is valid until Release.
func (b *Body) Bytes() []byte { return b.buf.Bytes() }

// Release returns the buffer to the pool and the reservation to the budget.
// It is safe to call on a nil Body and more than once.
func (b *Body) Release() {
	if b == nil || b.l == nil {
		return
	}
	b.l.give(b.source, b.n)
	b.buf.Reset()
	b.l.pool.Put(b.buf)
	b.l, b.buf = nil, nil
}

// Read reserves room for r's body (its Content-Length, or max when unknown),
// reads at most max bytes into a pooled buffer and returns it. Errors wrap
// ErrBusy, ErrSourceBusy or ErrTooLarge, or are the read's error; on error
// nothing stays reserved.
func (l *Limiter) Read(w http.ResponseWriter, r *http.Request, max int64) (*Body, error) {
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, r.ContentLength, max)
	}
	want := max
	if r.ContentLength >= 0 {
		want = r.ContentLength
	}
	source := Source(r)
	if err := l.take(source, want); err != nil {
		return nil, err
	}
	b := &Body{l: l, buf: l.pool.Get().(*bytes.Buffer), source: source, n: want}
	b.buf.Grow(int(want) + bytes.MinRead)
	if _, err := b.buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
		b.Release()
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: limit %d bytes", ErrTooLarge, max)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// Status is the HTTP status for an error of Read (400 for a failed read).
func Status(err error) int {
	switch {
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrSourceBusy):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// Source is the address a request came from (the peer, not a header a
// client could forge).
func Source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (l *Limiter) take(source string, n int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.bySource[source]+n > l.perSource:
		return fmt.Errorf("%w (%s)", ErrSourceBusy, source)
	case l.used+n > l.budget:
		return ErrBusy
	}
	l.used += n
	l.bySource[source] += n
	return nil
}

func (l *Limiter) give(source string, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.used -= n
	if l.bySource[source] -= n; l.bySource[source] <= 0 {
		delete(l.bySource, source)
	}
}

// InUse returns the bytes reserved now, for metrics and tests.
func (l *Limiter) InUse() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.used
}
