package influxdb

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// flux runs a Flux script over (start, end] through /api/v2/query. The
// window reaches the script as the option v = {timeRangeStart,
// timeRangeStop}, which the script's range() uses.
func (p *Provider) flux(ctx context.Context, script string, start, end time.Time) (float64, error) {
	full := fmt.Sprintf("option v = {timeRangeStart: %s, timeRangeStop: %s}\n%s",
		start.UTC().Add(time.Nanosecond).Format(time.RFC3339Nano), end.UTC().Add(time.Nanosecond).Format(time.RFC3339Nano), script)
	payload, err := json.Marshal(map[string]any{"query": full, "type": "flux",
		"dialect": map[string]any{"header": true, "annotations": []string{"datatype", "group", "default"}}})
	if err != nil {
		return 0, err
	}
	u := p.base.JoinPath("api", "v2", "query")
	if p.org != "" {
		u.RawQuery = url.Values{"org": {p.org}}.Encode()
	}
	body, err := p.client.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/csv")
		p.authorize(req)
		return req, nil
	})
	if err != nil {
		return 0, fmt.Errorf("influxdb flux query: %w", err)
	}
	return fluxValue(body)
}

// fluxValue reads the one _value of an annotated-CSV Flux answer: tables
// separated by blank lines, each with #annotation rows, a header row and
// data rows. An "error" column is a query failure reported in the body.
func fluxValue(body []byte) (float64, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	var header []string
	var values []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: flux answer is not annotated CSV: %w", metrics.ErrQuery, err)
		}
		// csv.Reader drops the blank lines between tables and the
		// #annotations; a table's header row is the one naming "result".
		if header == nil || (len(rec) > 1 && rec[1] == "result") {
			header = rec
			if i := indexOf(header, "error"); i >= 0 {
				if msg, err := r.Read(); err == nil && i < len(msg) {
					return 0, fmt.Errorf("%w: influxdb flux: %s", metrics.ErrQuery, msg[i])
				}
				return 0, fmt.Errorf("%w: influxdb flux reported an error", metrics.ErrQuery)
			}
			if indexOf(header, "_value") < 0 {
				return 0, fmt.Errorf("%w: flux table has columns %v, want a _value column", metrics.ErrQuery, header)
			}
			continue
		}
		i := indexOf(header, "_value")
		if i >= len(rec) {
			return 0, fmt.Errorf("%w: flux row with %d cells under %d columns", metrics.ErrQuery, len(rec), len(header))
		}
		values = append(values, rec[i])
	}
	switch {
	case len(values) == 0:
		return 0, metrics.ErrNoData
	case len(values) > 1:
		return 0, fmt.Errorf("%w: got %d rows, want 1; group() and aggregate (sum(), last())", metrics.ErrTooManySeries, len(values))
	case values[0] == "":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(values[0], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: _value %q is not a number", metrics.ErrQuery, values[0])
	}
	return v, nil
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
