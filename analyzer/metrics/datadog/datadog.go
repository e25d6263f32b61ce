// Package datadog is the metrics provider for Datadog, through the official
// client (github.com/DataDog/datadog-api-client-go/v2, the v1 metrics
// query API). Queries are Datadog metric queries; variables render as
// plain tags:
//
//	sum:trace.http.request.errors{service:{{ .Service }},version:{{ .Version }}}.as_count()
//
// A query ending in .as_count() is a count: its points over the window are
// summed, so a template's bad and total reach the sequential judge as event
// counts. Any other query is a value: the window's last point (as Flagger
// reads Datadog). The secret holds "apiKey" and "appKey"; the address is the
// site's API, https://api.datadoghq.com by default (https://api.datadoghq.eu,
// https://api.us5.datadoghq.com, ...).
package datadog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/internal/httpq"
)

// DefaultAddress is Datadog's US1 API.
const DefaultAddress = "https://api.datadoghq.com"

// Provider queries one Datadog site. It is safe for concurrent use.
type Provider struct {
	api          *datadogV1.MetricsApi
	retry        httpq.Client
	keys         map[string]datadog.APIKey
	scheme, host string
}

// New returns a provider for cfg.Address with the secret's apiKey and appKey.
func New(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("datadog address %q: want https://api.SITE", addr)
	}
	if cfg.Secret["apiKey"] == "" || cfg.Secret["appKey"] == "" {
		return nil, errors.New("datadog needs a secret with apiKey and appKey")
	}
	c := datadog.NewConfiguration()
	c.HTTPClient = &http.Client{}
	c.Compress = false
	for k, v := range cfg.Headers {
		c.AddDefaultHeader(k, v)
	}
	return &Provider{api: datadogV1.NewMetricsApi(datadog.NewAPIClient(c)), retry: httpq.Client{Timeout: cfg.Timeout},
		keys: map[string]datadog.APIKey{
			"apiKeyAuth": {Key: cfg.Secret["apiKey"]},
			"appKeyAuth": {Key: cfg.Secret["appKey"]},
		},
		scheme: u.Scheme, host: u.Host}, nil
}

// Dialect implements metrics.DialectProvider.
func (p *Provider) Dialect() metrics.Dialect { return metrics.Plain }

// Query implements metrics.Provider over the minute before at.
func (p *Provider) Query(ctx context.Context, expr string, at time.Time) (float64, error) {
	if at.IsZero() {
		at = time.Now()
	}
	return p.QueryWindow(ctx, expr, at.Add(-time.Minute), at)
}

// QueryRange implements metrics.RangeProvider, one query per step.
func (p *Provider) QueryRange(ctx context.Context, expr string, r metrics.Range) ([]metrics.Point, error) {
	return metrics.RangeByWindows(ctx, p, expr, r)
}

// QueryWindow implements metrics.WindowProvider. Errors wrap
// metrics.ErrNoData (no series, or only null points), ErrTooManySeries
// (several series: the query needs an aggregation such as sum:),
// ErrQuery (refused query, bad keys, an answer of another shape) or
// ErrUnavailable (no answer, 5xx, 429 after its Retry-After).
func (p *Provider) QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	var resp datadogV1.MetricsQueryResponse
	err := p.retry.Retry(ctx, func(ctx context.Context) (time.Duration, error) {
		ctx = context.WithValue(ctx, datadog.ContextAPIKeys, p.keys)
		ctx = context.WithValue(ctx, datadog.ContextServerIndex, 1)
		ctx = context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{"protocol": p.scheme, "name": p.host})
		var hr *http.Response
		var err error
		resp, hr, err = p.api.QueryMetrics(ctx, start.Unix(), end.Unix(), expr)
		return classify(hr, err)
	})
	if err != nil {
		return 0, fmt.Errorf("datadog query: %w", err)
	}
	return value(resp, expr)
}

// classify maps the client's result onto our error kinds.
func classify(hr *http.Response, err error) (time.Duration, error) {
	if hr == nil {
		if err == nil {
			return 0, fmt.Errorf("%w: no answer", metrics.ErrUnavailable)
		}
		return 0, fmt.Errorf("%w: %w", metrics.ErrUnavailable, err)
	}
	var body []byte
	var oerr datadog.GenericOpenAPIError
	if errors.As(err, &oerr) {
		body = oerr.Body()
	}
	if ra, cerr := httpq.Classify(hr.StatusCode, hr.Status, hr.Header, body); cerr != nil {
		return ra, cerr
	}
	if err != nil {
		return 0, fmt.Errorf("%w: datadog answer: %w", metrics.ErrQuery, err)
	}
	return 0, nil
}

// value reads the window's value from a query answer: the sum of the
// points for .as_count() queries, the last point otherwise.
func value(resp datadogV1.MetricsQueryResponse, expr string) (float64, error) {
	if resp.Status != nil && *resp.Status != "ok" {
		msg := resp.GetError()
		if msg == "" {
			msg = resp.GetMessage()
		}
		return 0, fmt.Errorf("%w: datadog status %q: %s", metrics.ErrQuery, *resp.Status, msg)
	}
	if resp.UnparsedObject != nil {
		return 0, fmt.Errorf("%w: datadog answer of an unexpected shape", metrics.ErrQuery)
	}
	switch len(resp.Series) {
	case 0:
		return 0, metrics.ErrNoData
	case 1:
	default:
		return 0, fmt.Errorf("%w: got %d series (first: %s); aggregate, e.g. sum:metric{...}", metrics.ErrTooManySeries, len(resp.Series), resp.Series[0].GetScope())
	}
	count := strings.HasSuffix(strings.TrimSpace(expr), ".as_count()")
	sum, last, n := 0.0, math.NaN(), 0
	for _, pt := range resp.Series[0].Pointlist {
		if len(pt) != 2 {
			return 0, fmt.Errorf("%w: datadog point with %d fields, want [time, value]", metrics.ErrQuery, len(pt))
		}
		if pt[1] == nil {
			continue
		}
		sum += *pt[1]
		last = *pt[1]
		n++
	}
	switch {
	case n == 0:
		return 0, metrics.ErrNoData
	case count:
		return sum, nil
	}
	return last, nil
}
