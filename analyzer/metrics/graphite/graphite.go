// Package graphite is the metrics provider for Graphite's render API
// (GET /render?format=json; graphite-web, carbonapi, Grafana Cloud
// Graphite). A query is one Graphite target:
//
//	sumSeries(stats_counts.{{ .Service }}.{{ .Version }}.http.5xx)
//	seriesByTag('name=http.requests', 'service={{ .Service }}', 'version={{ .Version }}')
//
// It must name one series (aggregate with sumSeries otherwise). The
// provider fetches the target's points over the window, (start, end], and
// reduces them: a count, whose points are summed, is a target on StatsD's
// counts (a path containing "stats_counts.") or one whose outermost
// function is consolidateBy(..., 'sum'), Graphite's own way to say its
// points add up; anything else is a value, its latest non-null
// point (as Flagger reads Graphite). A template's errors and requests are
// therefore counts that reach the sequential judge when written so.
// Variables render as plain tokens: a version with dots ("1.2") becomes
// two path nodes, so use tagged series (seriesByTag) for such versions.
//
// The secret's "token" is sent as a bearer token, "username" and
// "password" as basic auth; headers are added as they are.
package graphite

import (
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

// Provider queries one Graphite render API. It is safe for concurrent use.
type Provider struct {
	client httpq.Client
	base   *url.URL
	secret metrics.Secret
	hdr    map[string]string
}

// New returns a provider for cfg.Address (required: Graphite has no
// default address), e.g. http://graphite:8080 or
// https://graphite-prod-01.grafana.net/graphite.
func New(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("graphite address %q: want http(s)://host[:port][/path]", cfg.Address)
	}
	if (cfg.Secret["username"] == "") != (cfg.Secret["password"] == "") {
		return nil, errors.New("graphite secret: username and password go together")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/render"
	return &Provider{client: httpq.Client{Timeout: cfg.Timeout}, base: u, secret: cfg.Secret, hdr: cfg.Headers}, nil
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

// QueryWindow implements metrics.WindowProvider over (start, end]. Errors
// wrap metrics.ErrNoData (no series, or only null points), ErrTooManySeries,
// ErrQuery (a refused target, an answer of another shape) or
// ErrUnavailable (no answer, 5xx, 429 after its Retry-After).
func (p *Provider) QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	pts, err := p.fetch(ctx, expr, start, end)
	if err != nil {
		return 0, err
	}
	v, ok := reduce(pts, start, end, isCount(expr))
	if !ok {
		return 0, fmt.Errorf("%w: graphite: only null points from %s to %s", metrics.ErrNoData, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	return v, nil
}

// QueryRange implements metrics.RangeProvider with one render call over
// (Start-Step, End]: the point at t reduces (t-Step, t] as QueryWindow
// does, so it is what a look at t over one step measures.
func (p *Provider) QueryRange(ctx context.Context, expr string, r metrics.Range) ([]metrics.Point, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	pts, err := p.fetch(ctx, expr, r.Start.Add(-r.Step), r.End)
	if err != nil {
		return nil, err
	}
	count := isCount(expr)
	var out []metrics.Point
	for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
		if v, ok := reduce(pts, t.Add(-r.Step), t, count); ok {
			out = append(out, metrics.Point{T: t.UTC(), V: v})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: graphite: only null points", metrics.ErrNoData)
	}
	return out, nil
}

// point is one non-null datapoint.
type point struct {
	t int64
	v float64
}

// series is one element of the render API's JSON answer.
type series struct {
	Target     string            `json:"target"`
	Datapoints [][2]*json.Number `json:"datapoints"`
}

// fetch renders expr over (from, until] and returns the one series'
// non-null points.
func (p *Provider) fetch(ctx context.Context, expr string, from, until time.Time) ([]point, error) {
	q := url.Values{"target": {expr}, "format": {"json"},
		"from": {strconv.FormatInt(from.Unix(), 10)}, "until": {strconv.FormatInt(until.Unix(), 10)}}
	body, err := p.client.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		u := *p.base
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range p.hdr {
			req.Header.Set(k, v)
		}
		if tok := p.secret["token"]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else if u := p.secret["username"]; u != "" {
			req.SetBasicAuth(u, p.secret["password"])
		}
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("graphite render: %w", err)
	}
	var ss []series
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&ss); err != nil {
		return nil, fmt.Errorf("%w: graphite answer of an unexpected shape (want [{target, datapoints: [[value, time], ...]}]): %w", metrics.ErrQuery, err)
	}
	switch len(ss) {
	case 0:
		return nil, fmt.Errorf("%w: graphite: no series for %s", metrics.ErrNoData, expr)
	case 1:
	default:
		return nil, fmt.Errorf("%w: graphite: %d series (first: %s); aggregate, e.g. sumSeries(...)", metrics.ErrTooManySeries, len(ss), ss[0].Target)
	}
	var pts []point
	for _, dp := range ss[0].Datapoints {
		if dp[1] == nil {
			return nil, fmt.Errorf("%w: graphite datapoint without a time", metrics.ErrQuery)
		}
		ts, err := dp[1].Int64()
		if err != nil {
			return nil, fmt.Errorf("%w: graphite datapoint time %q: %w", metrics.ErrQuery, *dp[1], err)
		}
		if dp[0] == nil {
			continue
		}
		v, err := dp[0].Float64()
		if err != nil {
			return nil, fmt.Errorf("%w: graphite datapoint value %q: %w", metrics.ErrQuery, *dp[0], err)
		}
		pts = append(pts, point{ts, v})
	}
	return pts, nil
}

// reduce is the value of pts in (from, to]: their sum for a count, else
// the latest. ok is false when no point falls there.
func reduce(pts []point, from, to time.Time, count bool) (float64, bool) {
	sum, last, lastT, n := 0.0, math.NaN(), int64(math.MinInt64), 0
	for _, pt := range pts {
		if pt.t <= from.Unix() || pt.t > to.Unix() {
			continue
		}
		sum += pt.v
		if pt.t > lastT {
			last, lastT = pt.v, pt.t
		}
		n++
	}
	if n == 0 {
		return 0, false
	}
	if count {
		return sum, true
	}
	return last, true
}

// isCount reports whether expr's points are event counts (see the
// package doc).
func isCount(expr string) bool {
	return sumRE.MatchString(expr) || strings.Contains(expr, "stats_counts.")
}

var sumRE = regexp.MustCompile(`^\s*consolidateBy\(.*,\s*['"]sum['"]\s*\)\s*$`)
