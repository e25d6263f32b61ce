// Package influxdb is the metrics provider for InfluxDB: InfluxQL over the
// 1.x /query API, and Flux over /api/v2/query (InfluxDB 2.x, Cloud, and 1.8+
// with Flux enabled). A query starting with from( or holding |> is Flux.
//
// The provider names the window, never the template: InfluxQL queries use
// the bound parameters $start and $end (WHERE time > $start AND time <= $end),
// Flux queries v.timeRangeStart and v.timeRangeStop, as the InfluxDB UI does:
//
//	SELECT sum("count") FROM "games"."autogen"."http"
//	WHERE "version" = '{{ .Version }}' AND "code" =~ /^5/ AND time > $start AND time <= $end
//
//	from(bucket: "games") |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
//	  |> filter(fn: (r) => r.version == "{{ .Version }}") |> sum()
//
// Credentials come from the secret: "token" (sent as "Authorization: Token",
// InfluxDB 2.x and 1.8+), or "username" and "password" (basic auth, 1.x).
// The /query and Flux answers are read by hand: the official clients
// (influxdb1-client, influxdb-client-go) would add a module each for two
// small response shapes, and neither maps answers onto our error kinds.
package influxdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/internal/httpq"
)

// DefaultAddress is used when the template gives none.
const DefaultAddress = "http://localhost:8086"

// Provider queries one InfluxDB server. It is safe for concurrent use.
type Provider struct {
	base   *url.URL
	client httpq.Client
	secret metrics.Secret
	org    string
	hdr    map[string]string
}

// New returns a provider for cfg.Address (DefaultAddress if empty). The
// secret's "org" field names the organization of Flux queries (2.x).
func New(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("influxdb address %q: want http(s)://host[:port]", addr)
	}
	return &Provider{base: u, client: httpq.Client{Timeout: cfg.Timeout}, secret: cfg.Secret, org: cfg.Secret["org"], hdr: cfg.Headers}, nil
}

// Dialect implements metrics.DialectProvider.
func (p *Provider) Dialect() metrics.Dialect { return metrics.Plain }

// Query implements metrics.Provider over the window of one minute before
// at; the loop calls QueryWindow with the analysis window instead.
func (p *Provider) Query(ctx context.Context, expr string, at time.Time) (float64, error) {
	if at.IsZero() {
		at = time.Now()
	}
	return p.QueryWindow(ctx, expr, at.Add(-time.Minute), at)
}

// QueryWindow implements metrics.WindowProvider: it runs expr over
// (start, end] and returns its one value. Errors wrap metrics.ErrNoData (no
// series or no row), ErrTooManySeries (several series or rows: aggregate,
// or drop GROUP BY time), ErrQuery (a refused query, an answer of another
// shape) or ErrUnavailable (no answer, or a partial one).
func (p *Provider) QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	if isFlux(expr) {
		return p.flux(ctx, expr, start, end)
	}
	return p.influxQL(ctx, expr, start, end)
}

// QueryRange implements metrics.RangeProvider, one window per step.
func (p *Provider) QueryRange(ctx context.Context, expr string, r metrics.Range) ([]metrics.Point, error) {
	return metrics.RangeByWindows(ctx, p, expr, r)
}

func isFlux(expr string) bool {
	e := strings.TrimSpace(expr)
	return strings.HasPrefix(e, "from(") || strings.Contains(e, "|>")
}

// authorize sets the secret's credentials on req.
func (p *Provider) authorize(req *http.Request) {
	for k, v := range p.hdr {
		req.Header.Set(k, v)
	}
	switch {
	case p.secret["token"] != "":
		req.Header.Set("Authorization", "Token "+p.secret["token"])
	case p.secret["username"] != "":
		req.SetBasicAuth(p.secret["username"], p.secret["password"])
	}
}

// queryAnswer is the JSON answer of InfluxDB 1.x's /query.
type queryAnswer struct {
	Results []struct {
		Error   string `json:"error"`
		Partial bool   `json:"partial"`
		Series  []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
			Partial bool              `json:"partial"`
		} `json:"series"`
	} `json:"results"`
	Error string `json:"error"`
}

func (p *Provider) influxQL(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	params, err := json.Marshal(map[string]string{"start": start.UTC().Format(time.RFC3339Nano), "end": end.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return 0, err
	}
	form := url.Values{"q": {expr}, "params": {string(params)}, "epoch": {"ms"}}
	body, err := p.client.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base.JoinPath("query").String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p.authorize(req)
		return req, nil
	})
	if err != nil {
		return 0, fmt.Errorf("influxdb query: %w", err)
	}
	var a queryAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("%w: influxdb answer is not /query JSON: %w", metrics.ErrQuery, err)
	}
	switch {
	case a.Error != "":
		return 0, fmt.Errorf("%w: influxdb: %s", metrics.ErrQuery, a.Error)
	case len(a.Results) != 1:
		return 0, fmt.Errorf("%w: influxdb answered %d statement results, want 1 (one SELECT per query)", metrics.ErrQuery, len(a.Results))
	}
	res := a.Results[0]
	switch {
	case res.Error != "":
		return 0, fmt.Errorf("%w: influxdb: %s", metrics.ErrQuery, res.Error)
	case res.Partial:
		return 0, fmt.Errorf("%w: influxdb answered partial data (chunked or cut off)", metrics.ErrUnavailable)
	case len(res.Series) == 0:
		return 0, metrics.ErrNoData
	case len(res.Series) > 1:
		return 0, fmt.Errorf("%w: got %d series (first: %s %v); drop GROUP BY tags or aggregate", metrics.ErrTooManySeries, len(res.Series), res.Series[0].Name, res.Series[0].Tags)
	}
	s := res.Series[0]
	switch {
	case s.Partial:
		return 0, fmt.Errorf("%w: influxdb answered partial data", metrics.ErrUnavailable)
	case len(s.Values) == 0:
		return 0, metrics.ErrNoData
	case len(s.Values) > 1:
		return 0, fmt.Errorf("%w: got %d rows, want 1; drop GROUP BY time() or aggregate", metrics.ErrTooManySeries, len(s.Values))
	case len(s.Columns) != 2 || s.Columns[0] != "time" || len(s.Values[0]) != 2:
		return 0, fmt.Errorf("%w: columns %v, want time and one value", metrics.ErrQuery, s.Columns)
	}
	return value(s.Values[0][1])
}

// value reads one JSON cell as a float; null is NaN.
func value(cell any) (float64, error) {
	switch v := cell.(type) {
	case nil:
		return math.NaN(), nil
	case float64:
		return v, nil
	default:
		return 0, fmt.Errorf("%w: value %v (%T), want a number", metrics.ErrQuery, cell, cell)
	}
}
