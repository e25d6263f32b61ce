// Package httpq sends the HTTP requests of the metrics providers that speak
// plain HTTP APIs (web, Datadog, New Relic, InfluxDB, Graphite, Cloud
// Monitoring) with one retry policy and one error classification, so every
// provider fails the same way: an error wrapping metrics.ErrUnavailable
// (no answer, 5xx, 429, timeout; retried) or metrics.ErrQuery (the API
// refused the query or answered something unusable; not retried). Both make
// the look inconclusive, never a pass.
//
// Hand-written because the retrying clients on the module proxy
// (hashicorp/go-retryablehttp and the like) do not map answers onto our
// error kinds nor cap Retry-After by the caller's deadline.
package httpq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// Defaults for Client's zero fields.
const (
	DefaultAttempts      = 3
	DefaultBackoff       = 200 * time.Millisecond
	DefaultMaxRetryAfter = 30 * time.Second
	// MaxBody is the largest answer read; a larger one is ErrQuery.
	MaxBody = 32 << 20
)

// Client sends requests with bounded retries. The zero value works.
type Client struct {
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each attempt; zero means metrics.DefaultTimeout.
	Timeout time.Duration
	// Attempts is the maximum number of tries; zero means DefaultAttempts.
	Attempts int
	// Backoff is the first wait between tries, doubled each time, with up
	// to 50% jitter; zero means DefaultBackoff.
	Backoff time.Duration
	// MaxRetryAfter is the longest Retry-After of a 429 or 503 that is
	// waited for; a longer one fails at once. Zero means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
}

// Do sends the request newReq builds (once per attempt) and returns the
// body of a 2xx answer.
func (c *Client) Do(ctx context.Context, newReq func(ctx context.Context) (*http.Request, error)) ([]byte, error) {
	var body []byte
	err := c.Retry(ctx, func(ctx context.Context) (time.Duration, error) {
		var retryAfter time.Duration
		var err error
		body, retryAfter, err = c.once(ctx, newReq)
		return retryAfter, err
	})
	return body, err
}

// Retry runs once until it succeeds, fails with an error that does not
// wrap metrics.ErrUnavailable, or the attempts are spent. Each attempt gets
// a context bounded by the Timeout. A positive retryAfter from once (a
// server's Retry-After) replaces the backoff; one longer than MaxRetryAfter
// or than ctx's deadline allows fails at once.
func (c *Client) Retry(ctx context.Context, once func(ctx context.Context) (retryAfter time.Duration, err error)) error {
	attempts := or(c.Attempts, DefaultAttempts)
	wait := time.Duration(or(int(c.Backoff), int(DefaultBackoff)))
	var lastErr error
	for attempt := range attempts {
		if attempt > 0 {
			if err := sleep(ctx, wait); err != nil {
				return fmt.Errorf("%w: %w (last error: %w)", metrics.ErrUnavailable, err, lastErr)
			}
			wait *= 2
		}
		actx, cancel := context.WithTimeout(ctx, time.Duration(or(int(c.Timeout), int(metrics.DefaultTimeout))))
		retryAfter, err := once(actx)
		cancel()
		if err == nil || !errors.Is(err, metrics.ErrUnavailable) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", metrics.ErrUnavailable, ctx.Err())
		}
		lastErr = err
		if retryAfter > 0 {
			if limit := time.Duration(or(int(c.MaxRetryAfter), int(DefaultMaxRetryAfter))); retryAfter > limit || !fitsDeadline(ctx, retryAfter) {
				return fmt.Errorf("%w (not waiting %s)", err, retryAfter)
			}
			wait = retryAfter
		} else {
			wait -= time.Duration(rand.Int64N(int64(wait)/2 + 1))
		}
	}
	return fmt.Errorf("after %d attempts: %w", attempts, lastErr)
}

// once makes one attempt; retryAfter is the server's Retry-After, if any.
func (c *Client) once(ctx context.Context, newReq func(ctx context.Context) (*http.Request, error)) ([]byte, time.Duration, error) {
	req, err := newReq(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", metrics.ErrQuery, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, Transport(req, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%w: reading the answer: %w", metrics.ErrUnavailable, err)
	case len(body) > MaxBody:
		return nil, 0, fmt.Errorf("%w: answer larger than %d bytes", metrics.ErrQuery, MaxBody)
	}
	ra, err := Classify(resp.StatusCode, resp.Status, resp.Header, body)
	if err != nil {
		return nil, ra, err
	}
	return body, 0, nil
}

// Transport is the error of a request that got no answer: ErrUnavailable,
// naming the URL without its query (which may carry an API key).
func Transport(req *http.Request, err error) error {
	return fmt.Errorf("%w: %s %s://%s%s: %w", metrics.ErrUnavailable, req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, stripURL(err))
}

// Classify maps an HTTP answer to nil (2xx), ErrUnavailable with the
// Retry-After (429, 5xx) or ErrQuery (any other status), quoting the start
// of the body, where APIs explain a refusal.
func Classify(code int, status string, h http.Header, body []byte) (time.Duration, error) {
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		what := "server error"
		if code == http.StatusTooManyRequests {
			what = "rate-limited"
		}
		return retryAfter(h.Get("Retry-After"), time.Now()), fmt.Errorf("%w: %s: %s %s", metrics.ErrUnavailable, what, status, snippet(body))
	case code < 200 || code > 299:
		return 0, fmt.Errorf("%w: %s %s", metrics.ErrQuery, status, snippet(body))
	}
	return 0, nil
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return max(time.Duration(s)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), time.Millisecond)
	}
	return 0
}

// fitsDeadline reports whether waiting d leaves ctx alive.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

// snippet is the start of an error answer, on one line, for the error
// message: APIs explain a refused query there.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// stripURL drops the request URL from a *url.Error: it may carry an API
// key as a query parameter (Graphite and Datadog allow that).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
