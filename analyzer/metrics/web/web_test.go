package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// statsAPI is a service's own stats endpoint: GET /stats?version=V answers
// {"data": {"errors": E, "requests": R, "p99": "123.5"}} and POST /search
// takes {"version": V}; both want the API key header.
func statsAPI(t *testing.T) *httptest.Server {
	counts := map[string][2]int{"v1": {3, 1000}, "v2": {40, 1000}}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k3y" || r.Header.Get("X-Scope-OrgID") != "games" {
			http.Error(w, `{"error": "unauthorized"}`, http.StatusUnauthorized)
			return
		}
		version := r.URL.Query().Get("version")
		if r.Method == http.MethodPost {
			var in struct{ Version string }
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &in); err != nil || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			version = in.Version
		}
		switch r.URL.Path {
		case "/stats", "/search":
			c, ok := counts[version]
			if !ok {
				_, _ = w.Write([]byte(`{"data": {}}`))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"errors": c[0], "requests": c[1], "p99": "123.5", "gap": nil}})
		case "/list":
			_, _ = w.Write([]byte(`{"data": [{"v": 1}, {"v": 2}]}`))
		case "/html":
			_, _ = w.Write([]byte(`<html>maintenance</html>`))
		case "/slow":
			w.Header().Set("Retry-After", "120")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
	}))
}

func newProvider(t *testing.T, address string) metrics.Provider {
	t.Helper()
	p, err := New(t.Context(), metrics.ProviderConfig{Address: address, Headers: map[string]string{"X-Scope-OrgID": "games"},
		Secret: metrics.Secret{"X-Api-Key": "k3y"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQuery(t *testing.T) {
	srv := statsAPI(t)
	defer srv.Close()
	p := newProvider(t, srv.URL)
	cases := []struct {
		name, expr string
		want       float64
		wantErr    error
	}{
		{"GET number", "url: /stats?version=v2\njsonPath: '{$.data.errors}'", 40, nil},
		{"absolute url", "url: " + srv.URL + "/stats?version=v1\njsonPath: '{.data.requests}'", 1000, nil},
		{"numeric string", "url: /stats?version=v1\njsonPath: '{.data.p99}'", 123.5, nil},
		{"POST body", "url: /search\nmethod: POST\nbody: '{\"version\": \"v2\"}'\njsonPath: '{.data.errors}'", 40, nil},
		{"null is NaN", "url: /stats?version=v1\njsonPath: '{.data.gap}'", math.NaN(), nil},
		{"missing field is no data", "url: /stats?version=v9\njsonPath: '{.data.errors}'", 0, metrics.ErrNoData},
		{"several values", "url: /list\njsonPath: '{.data[*].v}'", 0, metrics.ErrTooManySeries},
		{"unexpected shape", "url: /stats?version=v1\njsonPath: '{.data}'", 0, metrics.ErrQuery},
		{"not JSON", "url: /html\njsonPath: '{.data}'", 0, metrics.ErrQuery},
		{"rate-limited for long", "url: /slow\njsonPath: '{.data}'", 0, metrics.ErrUnavailable},
		{"unknown field", "url: /stats\njsonpath: '{.data}'", 0, metrics.ErrQuery},
		{"bad method", "url: /stats\nmethod: DELETE\njsonPath: '{.data}'", 0, metrics.ErrQuery},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Query(t.Context(), tc.expr, time.Time{})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Query = %g, %v; want %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Fatalf("Query = %g, %v; want %g", got, err, tc.want)
			}
		})
	}
	unauth, _ := New(t.Context(), metrics.ProviderConfig{Address: srv.URL})
	if _, err := unauth.Query(t.Context(), "url: /stats?version=v1\njsonPath: '{.data.errors}'", time.Time{}); !errors.Is(err, metrics.ErrQuery) || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the key: %v", err)
	}
}

// TestMeasureCounts measures a bad/total template through the provider, as
// the loop does, so the sequential judge gets counts.
func TestMeasureCounts(t *testing.T) {
	srv := statsAPI(t)
	defer srv.Close()
	tmpl := templates.Template{Name: "stats-errors", Unit: "percent",
		Errors:   "url: /stats?version={{ .Version }}\njsonPath: '{.data.errors}'",
		Requests: "url: /stats?version={{ .Version }}\njsonPath: '{.data.requests}'"}
	m, err := metrics.Measure(t.Context(), newProvider(t, srv.URL), tmpl, metrics.Vars{Version: "v2", Window: time.Minute}, time.Time{})
	if err != nil || !m.HasCounts || m.Errors != 40 || m.Requests != 1000 || m.Value != 4 {
		t.Fatalf("Measure = %+v, %v; want 40 of 1000 = 4%%", m, err)
	}
	_, err = metrics.Measure(t.Context(), newProvider(t, srv.URL), tmpl, metrics.Vars{Version: "v2&version=v1", Window: time.Minute}, time.Time{})
	if !errors.Is(err, metrics.ErrInvalidValue) {
		t.Errorf("a version that changes the URL: %v", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(context.Background(), metrics.ProviderConfig{Address: "ftp://x"}); err == nil {
		t.Error("ftp address accepted")
	}
}
