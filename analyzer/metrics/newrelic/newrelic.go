// Package newrelic is the metrics provider for New Relic: NRQL queries run
// through NerdGraph, New Relic's GraphQL API (actor.account.nrql). The
// provider appends the window as SINCE and UNTIL (epoch milliseconds), so
// a query names neither:
//
//	SELECT count(*) FROM Transaction WHERE appName = '{{ .Service }}' AND tags.version = '{{ .Version }}' AND error IS true
//
// A query must select one value: one result row (no FACET, no TIMESERIES)
// with one number, such as count(*), average(duration) or
// percentile(duration, 99). The secret holds "apiKey" (a user key, sent as
// the API-Key header) and "accountId"; the address is
// https://api.newrelic.com/graphql by default (EU: https://api.eu.newrelic.com/graphql).
//
// Hand-written on net/http: New Relic's Go client (newrelic-client-go)
// pulls in its whole API surface for one GraphQL call.
package newrelic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/internal/httpq"
)

// DefaultAddress is NerdGraph's US endpoint.
const DefaultAddress = "https://api.newrelic.com/graphql"

// nrqlQuery is the NerdGraph query run for every NRQL query.
const nrqlQuery = `query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql, timeout: 30) { results } } } }`

// Provider queries one New Relic account. It is safe for concurrent use.
type Provider struct {
	endpoint string
	apiKey   string
	account  int
	headers  map[string]string
	client   httpq.Client
}

// New returns a provider from the secret's apiKey and accountId.
func New(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("newrelic address %q: want https://api.newrelic.com/graphql", addr)
	}
	account, err := strconv.Atoi(cfg.Secret["accountId"])
	if cfg.Secret["apiKey"] == "" || err != nil {
		return nil, errors.New("newrelic needs a secret with apiKey and a numeric accountId")
	}
	return &Provider{endpoint: u.String(), apiKey: cfg.Secret["apiKey"], account: account, headers: cfg.Headers,
		client: httpq.Client{Timeout: cfg.Timeout}}, nil
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

var sinceRE = regexp.MustCompile(`(?i)\b(SINCE|UNTIL|TIMESERIES|FACET)\b`)

// answer is NerdGraph's answer to nrqlQuery.
type answer struct {
	Data struct {
		Actor struct {
			Account struct {
				NRQL *struct {
					Results []map[string]any `json:"results"`
				} `json:"nrql"`
			} `json:"account"`
		} `json:"actor"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// QueryWindow implements metrics.WindowProvider. Errors wrap
// metrics.ErrNoData (no result row), ErrTooManySeries (several rows),
// ErrQuery (GraphQL or NRQL errors, a query that names its own time range
// or facets, a row without exactly one number) or ErrUnavailable.
func (p *Provider) QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	if m := sinceRE.FindString(expr); m != "" {
		return 0, fmt.Errorf("%w: NRQL query uses %s; birdwatch adds SINCE and UNTIL and wants one row", metrics.ErrQuery, strings.ToUpper(m))
	}
	nrql := fmt.Sprintf("%s SINCE %d UNTIL %d", strings.TrimSpace(expr), start.UnixMilli(), end.UnixMilli())
	payload, err := json.Marshal(map[string]any{"query": nrqlQuery, "variables": map[string]any{"accountId": p.account, "nrql": nrql}})
	if err != nil {
		return 0, err
	}
	body, err := p.client.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		for k, v := range p.headers {
			req.Header.Set(k, v)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("API-Key", p.apiKey)
		return req, nil
	})
	if err != nil {
		return 0, fmt.Errorf("newrelic query: %w", err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("%w: NerdGraph answer of an unexpected shape: %w", metrics.ErrQuery, err)
	}
	if len(a.Errors) > 0 {
		return 0, fmt.Errorf("%w: NerdGraph: %s", metrics.ErrQuery, a.Errors[0].Message)
	}
	n := a.Data.Actor.Account.NRQL
	switch {
	case n == nil:
		return 0, fmt.Errorf("%w: NerdGraph answered no nrql result", metrics.ErrQuery)
	case len(n.Results) == 0:
		return 0, metrics.ErrNoData
	case len(n.Results) > 1:
		return 0, fmt.Errorf("%w: got %d result rows, want 1", metrics.ErrTooManySeries, len(n.Results))
	}
	return oneNumber(n.Results[0])
}

// oneNumber is the one number of a result row: {"count": 12} or, for
// percentile(), {"percentile.duration": {"99": 0.12}}; null is NaN.
func oneNumber(row map[string]any) (float64, error) {
	if len(row) != 1 {
		return 0, fmt.Errorf("%w: result row has %d fields, want one value", metrics.ErrQuery, len(row))
	}
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			return math.NaN(), nil
		case float64:
			return x, nil
		case map[string]any:
			return oneNumber(x)
		default:
			return 0, fmt.Errorf("%w: result value %v (%T), want a number", metrics.ErrQuery, v, v)
		}
	}
	panic("unreachable")
}
