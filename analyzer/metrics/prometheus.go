package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Defaults for PrometheusConfig's zero fields.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultAttempts = 3
	DefaultBackoff  = 200 * time.Millisecond
)

// PrometheusConfig configures a Prometheus provider.
type PrometheusConfig struct {
	// URL is the server's base URL, for example http://prometheus:9090 or
	// https://example.com/prometheus (a path prefix is kept).
	URL string
	// Timeout bounds each attempt, and is sent to Prometheus as the query
	// timeout; zero means DefaultTimeout (10s).
	Timeout time.Duration
	// BearerToken, if not empty, is sent as "Authorization: Bearer ...". It
	// is never logged or put in errors.
	BearerToken string
	// Headers are added to every request (for example a tenant header); nil
	// means none. The map is copied by NewPrometheus.
	Headers map[string]string
	// Attempts is the maximum number of tries of one query; zero means
	// DefaultAttempts (3). Only connection errors, timeouts and 5xx answers
	// are retried, never 4xx or bad queries.
	Attempts int
	// Backoff is the wait before the first retry, doubled before each further
	// one, with up to 50% random jitter; zero means DefaultBackoff (200ms).
	Backoff time.Duration
	// Logger receives query warnings from Prometheus at Warn level; nil
	// means warnings are not logged (they are still returned by
	// QueryResult and Measure).
	Logger *slog.Logger
	// SigV4 signs every request with AWS Signature Version 4, as Amazon
	// Managed Service for Prometheus requires; nil means no signing.
	SigV4 *SigV4Config
	// BasicAuth, if set, sends HTTP basic authentication; nil means none.
	BasicAuth *BasicAuth
	// TLS sets a custom CA, a client certificate and the expected server
	// name for https URLs; nil means Go's defaults (system roots).
	TLS *TLSConfig
	// Wrap, if set, wraps the transport outermost (after the other auth
	// settings), for credentials this package does not know, such as a
	// Google OAuth2 token source (analyzer/metrics/gcm); nil means none.
	Wrap func(http.RoundTripper) http.RoundTripper
	// CountsAsWritten runs count queries as written (PromQL increase(),
	// which extrapolates) instead of counting raw samples (CountWindow):
	// for backends whose raw samples are not cumulative counters, such as
	// Cloud Monitoring's DELTA metrics. False (the default) counts raw.
	CountsAsWritten bool
}

// Prometheus is a Provider backed by the Prometheus HTTP API through the
// official client (client_golang api/prometheus/v1). It is safe for
// concurrent use.
type Prometheus struct {
	api      v1.API
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	logger   *slog.Logger
	// asWritten is PrometheusConfig.CountsAsWritten.
	asWritten bool
}

// Result is the answer to one instant query: its value and the warnings and
// info notes Prometheus attached to it (nil if none).
type Result struct {
	Value    float64
	Warnings []string
}

// NewPrometheus returns a provider for the server at cfg.URL. It checks the
// configuration but does not contact the server.
func NewPrometheus(cfg PrometheusConfig) (*Prometheus, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("error parsing prometheus URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q: want http(s)://host[:port][/path]", u.Redacted())
	}
	if cfg.Timeout < 0 || cfg.Attempts < 0 || cfg.Backoff < 0 {
		return nil, errors.New("prometheus config: timeout, attempts and backoff must not be negative")
	}
	rt, err := baseTransport(cfg.TLS)
	if err != nil {
		return nil, err
	}
	if cfg.BasicAuth != nil {
		if rt, err = newBasicAuth(*cfg.BasicAuth, rt); err != nil {
			return nil, err
		}
	}
	if len(cfg.Headers) > 0 {
		rt = newHeaderRoundTripper(cfg.Headers, rt)
	}
	if cfg.BearerToken != "" {
		rt = &bearerRoundTripper{token: cfg.BearerToken, next: rt}
	}
	if cfg.SigV4 != nil {
		if cfg.SigV4.Region == "" || cfg.SigV4.Credentials == nil {
			return nil, errors.New("prometheus config: SigV4 needs a region and credentials")
		}
		rt = newSigV4RoundTripper(*cfg.SigV4, rt)
	}
	if cfg.Wrap != nil {
		rt = cfg.Wrap(rt)
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("error creating prometheus client: %w", err)
	}
	p := &Prometheus{
		api: v1.NewAPI(client), timeout: cfg.Timeout, attempts: cfg.Attempts, backoff: cfg.Backoff,
		logger: cfg.Logger, asWritten: cfg.CountsAsWritten,
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if p.attempts == 0 {
		p.attempts = DefaultAttempts
	}
	if p.backoff == 0 {
		p.backoff = DefaultBackoff
	}
	return p, nil
}

// Query runs the instant query expr at time at (the zero time means the
// server's now) and returns its single value; it implements Provider.
// Warnings go to the configured Logger. See QueryResult for the errors.
func (p *Prometheus) Query(ctx context.Context, expr string, at time.Time) (float64, error) {
	r, err := p.QueryResult(ctx, expr, at)
	return r.Value, err
}

// QueryResult is Query that also returns Prometheus' warnings. The result
// must be a scalar or a vector of exactly one sample; a NaN sample is a
// value, not an error. Errors wrap ErrNoData (empty vector), ErrTooManySeries,
// ErrQuery (rejected query or unusable answer; not retried) or ErrUnavailable
// (no answer after the retries, or ctx ended; it then also wraps ctx.Err()).
func (p *Prometheus) QueryResult(ctx context.Context, expr string, at time.Time) (Result, error) {
	var lastErr error
	for attempt := range p.attempts {
		if attempt > 0 {
			if err := sleep(ctx, p.retryWait(attempt)); err != nil {
				return Result{}, fmt.Errorf("error querying %q: %w: %w (last error: %w)", expr, ErrUnavailable, err, lastErr)
			}
		}
		r, err := p.queryOnce(ctx, expr, at)
		if err == nil {
			p.logWarnings(ctx, expr, r.Warnings)
			return r, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, fmt.Errorf("error querying %q: %w: %w", expr, ErrUnavailable, ctxErr)
		}
		if !errors.Is(err, ErrUnavailable) {
			return r, fmt.Errorf("error querying %q: %w", expr, err)
		}
		lastErr = err
	}
	return Result{}, fmt.Errorf("error querying %q after %d attempts: %w", expr, p.attempts, lastErr)
}

// queryOnce makes one attempt and classifies its error.
func (p *Prometheus) queryOnce(ctx context.Context, expr string, at time.Time) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	val, warnings, infos, err := p.api.Query(ctx, expr, at, v1.WithTimeout(p.timeout))
	notes := append(append([]string(nil), warnings...), prefixed("info: ", infos)...)
	if err != nil {
		return Result{Warnings: notes}, classify(err)
	}
	v, err := single(val)
	return Result{Value: v, Warnings: notes}, err
}

// classify maps a client error to ErrQuery or ErrUnavailable.
func classify(err error) error {
	var apiErr *v1.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err) // transport: refused, reset, timeout
	}
	switch apiErr.Type {
	case v1.ErrServer, v1.ErrTimeout, v1.ErrCanceled:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case v1.ErrClient:
		// The client reports a 4xx without a Prometheus error body only as
		// "client error: CODE"; 429 (rate-limited: Grafana Cloud, Cloud
		// Monitoring, Mimir) is retried like a 5xx.
		if strings.HasSuffix(apiErr.Msg, ": 429") {
			return fmt.Errorf("%w: rate-limited: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("%w: %w", ErrQuery, err)
	default: // bad_data, execution, client_error (4xx), bad_response (malformed)
		return fmt.Errorf("%w: %w", ErrQuery, err)
	}
}

// single extracts the one value of an instant-query result.
func single(val model.Value) (float64, error) {
	switch v := val.(type) {
	case *model.Scalar:
		if v == nil {
			return 0, fmt.Errorf("%w: empty scalar result", ErrQuery)
		}
		return float64(v.Value), nil
	case model.Vector:
		switch {
		case len(v) == 0:
			return 0, ErrNoData
		case len(v) > 1:
			return 0, fmt.Errorf("%w: got %d, want 1 (first: %s); aggregate with sum() or similar",
				ErrTooManySeries, len(v), v[0].Metric)
		case v[0].Histogram != nil:
			return 0, fmt.Errorf("%w: result is a native histogram, want a float", ErrQuery)
		}
		return float64(v[0].Value), nil
	case nil:
		return 0, fmt.Errorf("%w: empty result", ErrQuery)
	default:
		return 0, fmt.Errorf("%w: result type %s, want scalar or instant vector", ErrQuery, val.Type())
	}
}

// retryWait is the pause before retry number attempt (1, 2, ...):
// backoff*2^(attempt-1), minus up to 50% jitter so parallel callers spread.
func (p *Prometheus) retryWait(attempt int) time.Duration {
	d := p.backoff << (attempt - 1)
	return d - time.Duration(rand.Int64N(int64(d)/2+1))
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

func (p *Prometheus) logWarnings(ctx context.Context, expr string, notes []string) {
	if p.logger == nil || len(notes) == 0 {
		return
	}
	p.logger.WarnContext(ctx, "prometheus query warnings", "query", expr, "warnings", notes)
}

func prefixed(prefix string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = prefix + s
	}
	return out
}
