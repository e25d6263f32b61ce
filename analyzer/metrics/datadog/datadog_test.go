package datadog

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// minuteCounts are per-minute request and error counts of two versions, as
// Datadog stores trace.http.request.hits and .errors.
type minuteCounts map[string]map[int64][2]float64 // version -> minute (unix s) -> {errors, hits}

// fakeDatadog serves GET /api/v1/query in the documented shape
// (status, res_type, series[].pointlist of [ms, value]) from counts, after
// checking DD-API-KEY and DD-APPLICATION-KEY; the query's version tag and
// metric pick the points, from and to (seconds) the minutes.
func fakeDatadog(t *testing.T, counts minuteCounts, special map[string]func(http.ResponseWriter)) *httptest.Server {
	versionRE := regexp.MustCompile(`version:([A-Za-z0-9_.-]+)`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.Method != http.MethodGet {
			http.Error(w, `{"errors": ["Not found"]}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("DD-API-KEY") != "api-k" || r.Header.Get("DD-APPLICATION-KEY") != "app-k" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors": ["Forbidden"]}`))
			return
		}
		q := r.URL.Query().Get("query")
		if f, ok := special[q]; ok {
			f(w)
			return
		}
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		m := versionRE.FindStringSubmatch(q)
		field := 1
		if strings.Contains(q, ".errors{") {
			field = 0
		}
		var points [][2]float64
		if m != nil {
			for minute, c := range counts[m[1]] {
				if minute > from && minute <= to {
					points = append(points, [2]float64{float64(minute * 1000), c[field]})
				}
			}
		}
		series := []any{}
		if len(points) > 0 {
			series = append(series, map[string]any{"metric": "trace.http.request.hits", "scope": "version:" + m[1], "aggr": "sum",
				"expression": q, "interval": 60, "length": len(points), "pointlist": points, "tag_set": []string{}, "unit": nil})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "res_type": "time_series", "resp_version": 1, "query": q,
			"from_date": from * 1000, "to_date": to * 1000, "series": series, "values": []any{}, "times": []any{}, "message": "", "group_by": []any{}})
	}))
}

var ddCounts = templates.Template{Name: "dd-errors", Unit: "percent",
	Errors:   "sum:trace.http.request.errors{service:{{ .Service }},version:{{ .Version }}}.as_count()",
	Requests: "sum:trace.http.request.hits{service:{{ .Service }},version:{{ .Version }}}.as_count()"}

func TestDatadog(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	counts := minuteCounts{"v1": {}, "v2": {}}
	for i := range 30 {
		minute := end.Add(-time.Duration(i) * time.Minute).Unix()
		counts["v1"][minute] = [2]float64{float64(i % 3), float64(500 + 7*i)}
		counts["v2"][minute] = [2]float64{float64(20 + i%5), float64(480 + 5*i)}
	}
	var rateLimited atomic.Int64
	special := map[string]func(http.ResponseWriter){
		"sum:limited{version:v1}": func(w http.ResponseWriter) {
			if rateLimited.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"errors": ["Rate limit of 1600 requests in 3600 seconds reached."]}`))
				return
			}
			_, _ = w.Write([]byte(`{"status": "ok", "series": [{"pointlist": [[1, 5], [2, null], [3, 7]]}]}`))
		},
		"sum:hourly-limit{version:v1}": func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3000")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		"sum:broken{version:v1}": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status": "error", "error": "Error parsing query: unable to parse sum:broken"}`))
		},
		"sum:two{version:v1}": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status": "ok", "series": [{"scope": "a", "pointlist": [[1, 1]]}, {"scope": "b", "pointlist": [[1, 2]]}]}`))
		},
		"sum:nulls{version:v1}": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status": "ok", "series": [{"pointlist": [[1, null], [2, null]]}]}`))
		},
		"sum:shape{version:v1}": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"status": "ok", "series": {"oops": true}}`))
		},
		"sum:down{version:v1}": func(w http.ResponseWriter) { http.Error(w, "upstream", http.StatusBadGateway) },
	}
	srv := fakeDatadog(t, counts, special)
	defer srv.Close()
	p, err := New(t.Context(), metrics.ProviderConfig{Address: srv.URL, Secret: metrics.Secret{"apiKey": "api-k", "appKey": "app-k"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	window := 10 * time.Minute
	for _, version := range []string{"v1", "v2"} {
		m, err := metrics.Measure(t.Context(), p, ddCounts, metrics.Vars{Service: "aleph", Version: version, Window: window}, end)
		if err != nil {
			t.Fatal(err)
		}
		var wantBad, wantTotal float64
		for i := range 10 { // the minutes in (end-10m, end]
			c := counts[version][end.Add(-time.Duration(i)*time.Minute).Unix()]
			wantBad, wantTotal = wantBad+c[0], wantTotal+c[1]
		}
		if !m.HasCounts || m.Errors != wantBad || m.Requests != wantTotal {
			t.Errorf("%s: %g of %g, want %g of %g", version, m.Errors, m.Requests, wantBad, wantTotal)
		}
	}
	cases := []struct {
		query   string
		want    float64
		wantErr error
	}{
		{"sum:limited{version:v1}", 7, nil}, // a value: the last non-null point, after one 429
		{"sum:hourly-limit{version:v1}", 0, metrics.ErrUnavailable},
		{"sum:broken{version:v1}", 0, metrics.ErrQuery},
		{"sum:two{version:v1}", 0, metrics.ErrTooManySeries},
		{"sum:nulls{version:v1}", 0, metrics.ErrNoData},
		{"sum:shape{version:v1}", 0, metrics.ErrQuery},
		{"sum:down{version:v1}", 0, metrics.ErrUnavailable},
		{"sum:trace.http.request.hits{version:v9}.as_count()", 0, metrics.ErrNoData},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			v, err := p.(metrics.WindowProvider).QueryWindow(t.Context(), tc.query, end.Add(-window), end)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("QueryWindow = %g, %v; want %v", v, err, tc.wantErr)
				}
				return
			}
			if err != nil || v != tc.want {
				t.Fatalf("QueryWindow = %g, %v; want %g", v, err, tc.want)
			}
		})
	}
	bad, _ := New(t.Context(), metrics.ProviderConfig{Address: srv.URL, Secret: metrics.Secret{"apiKey": "api-k", "appKey": "wrong"}})
	_, err = bad.(metrics.WindowProvider).QueryWindow(t.Context(), "sum:x{version:v1}.as_count()", end.Add(-window), end)
	if !errors.Is(err, metrics.ErrQuery) || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong application key: %v", err)
	}
	if _, err := New(t.Context(), metrics.ProviderConfig{Secret: metrics.Secret{"apiKey": "a"}}); err == nil {
		t.Error("a secret without appKey was accepted")
	}
}
