package newrelic

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// fakeNerdGraph serves POST /graphql in NerdGraph's documented shape
// ({"data": {"actor": {"account": {"nrql": {"results": [...]}}}}}), after
// checking the API-Key header and the account. Transactions are counted
// from txs for the version and time range the NRQL names.
func fakeNerdGraph(t *testing.T, txs map[string][]time.Time, errs map[string][]time.Time, special map[string]string) *httptest.Server {
	re := regexp.MustCompile(`tags\.version = '([^']*)'.* SINCE (\d+) UNTIL (\d+)$`)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || r.Header.Get("API-Key") != "NRAK-test" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors": [{"message": "Invalid API key"}]}`))
			return
		}
		var in struct {
			Query     string
			Variables struct {
				AccountID int `json:"accountId"`
				NRQL      string
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !strings.Contains(in.Query, "nrql(query: $nrql") {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if in.Variables.AccountID != 4242 {
			_, _ = w.Write([]byte(`{"data": {"actor": {"account": null}}, "errors": [{"message": "Account 1 not found or not accessible"}]}`))
			return
		}
		for prefix, answer := range special {
			if strings.HasPrefix(in.Variables.NRQL, prefix) {
				if answer == "429" {
					w.Header().Set("Retry-After", "900")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte(answer))
				return
			}
		}
		m := re.FindStringSubmatch(in.Variables.NRQL)
		if m == nil {
			_, _ = w.Write([]byte(`{"data": {"actor": {"account": {"nrql": null}}}, "errors": [{"message": "NRQL Syntax Error"}]}`))
			return
		}
		from, _ := strconv.ParseInt(m[2], 10, 64)
		to, _ := strconv.ParseInt(m[3], 10, 64)
		src := txs
		if strings.Contains(in.Variables.NRQL, "error IS true") {
			src = errs
		}
		n := 0
		for _, ts := range src[m[1]] {
			if ms := ts.UnixMilli(); ms >= from && ms < to {
				n++
			}
		}
		fmt.Fprintf(w, `{"data": {"actor": {"account": {"nrql": {"results": [{"count": %d}]}}}}}`, n)
	}))
}

func TestNewRelic(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	txs, errs := map[string][]time.Time{}, map[string][]time.Time{}
	for i := range 3000 {
		ts := end.Add(-time.Duration(i) * 700 * time.Millisecond)
		v := []string{"v1", "v2"}[i%2]
		txs[v] = append(txs[v], ts)
		if (v == "v1" && i%97 == 0) || (v == "v2" && i%9 == 0) {
			errs[v] = append(errs[v], ts)
		}
	}
	special := map[string]string{
		"SELECT percentile(duration, 99)": `{"data": {"actor": {"account": {"nrql": {"results": [{"percentile.duration": {"99": 0.25}}]}}}}}`,
		"SELECT faceted":                  `{"data": {"actor": {"account": {"nrql": {"results": [{"count": 1}, {"count": 2}]}}}}}`,
		"SELECT empty":                    `{"data": {"actor": {"account": {"nrql": {"results": []}}}}}`,
		"SELECT two":                      `{"data": {"actor": {"account": {"nrql": {"results": [{"count": 1, "sum": 2}]}}}}}`,
		"SELECT text":                     `{"data": {"actor": {"account": {"nrql": {"results": [{"latest": "abc"}]}}}}}`,
		"SELECT nothing":                  `{"data": {"actor": {"account": {"nrql": {"results": [{"average": null}]}}}}}`,
		"SELECT limited":                  "429",
		"SELECT shape":                    `{"data": {"actor": {"account": {"nrql": {"results": {"count": 1}}}}}}`,
	}
	srv := fakeNerdGraph(t, txs, errs, special)
	defer srv.Close()
	newP := func(secret metrics.Secret) metrics.Provider {
		p, err := New(t.Context(), metrics.ProviderConfig{Address: srv.URL + "/graphql", Secret: secret, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := newP(metrics.Secret{"apiKey": "NRAK-test", "accountId": "4242"})
	tmpl := templates.Template{Name: "nr-errors", Unit: "percent",
		Errors:   "SELECT count(*) FROM Transaction WHERE appName = '{{ .Service }}' AND tags.version = '{{ .Version }}' AND error IS true",
		Requests: "SELECT count(*) FROM Transaction WHERE appName = '{{ .Service }}' AND tags.version = '{{ .Version }}'"}
	window := 10 * time.Minute
	for _, version := range []string{"v1", "v2"} {
		m, err := metrics.Measure(t.Context(), p, tmpl, metrics.Vars{Service: "aleph", Version: version, Window: window}, end)
		if err != nil {
			t.Fatal(err)
		}
		count := func(ts []time.Time) float64 { // NRQL's SINCE is inclusive, UNTIL exclusive
			n := 0
			for _, x := range ts {
				if !x.Before(end.Add(-window)) && x.Before(end) {
					n++
				}
			}
			return float64(n)
		}
		if !m.HasCounts || m.Errors != count(errs[version]) || m.Requests != count(txs[version]) || m.Requests == 0 {
			t.Errorf("%s: %g of %g, want %g of %g", version, m.Errors, m.Requests, count(errs[version]), count(txs[version]))
		}
	}
	cases := []struct {
		query   string
		want    float64
		wantErr error
	}{
		{"SELECT percentile(duration, 99) FROM Transaction", 0.25, nil},
		{"SELECT nothing", math.NaN(), nil},
		{"SELECT faceted", 0, metrics.ErrTooManySeries},
		{"SELECT empty", 0, metrics.ErrNoData},
		{"SELECT two", 0, metrics.ErrQuery},
		{"SELECT text", 0, metrics.ErrQuery},
		{"SELECT shape", 0, metrics.ErrQuery},
		{"SELECT limited", 0, metrics.ErrUnavailable},
		{"SELECT bad syntax", 0, metrics.ErrQuery},
		{"SELECT count(*) FROM Transaction SINCE 1 hour ago", 0, metrics.ErrQuery},
		{"SELECT count(*) FROM Transaction FACET appName", 0, metrics.ErrQuery},
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
			if err != nil || !(v == tc.want || math.IsNaN(v) && math.IsNaN(tc.want)) {
				t.Fatalf("QueryWindow = %g, %v; want %g", v, err, tc.want)
			}
		})
	}
	for name, secret := range map[string]metrics.Secret{"wrong key": {"apiKey": "NRAK-nope", "accountId": "4242"}, "wrong account": {"apiKey": "NRAK-test", "accountId": "1"}} {
		if _, err := newP(secret).(metrics.WindowProvider).QueryWindow(t.Context(), tmpl.Requests, end.Add(-window), end); !errors.Is(err, metrics.ErrQuery) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(t.Context(), metrics.ProviderConfig{Secret: metrics.Secret{"apiKey": "k"}}); err == nil {
		t.Error("a secret without accountId was accepted")
	}
}
