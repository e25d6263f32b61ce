package httpq

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

func TestDo(t *testing.T) {
	cases := []struct {
		name     string
		answers  []func(w http.ResponseWriter)
		want     string
		wantErr  error
		wantText string
		calls    int
	}{
		{"ok", []func(http.ResponseWriter){ok}, "42", nil, "", 1},
		{"5xx then ok", []func(http.ResponseWriter){status(502, ""), ok}, "42", nil, "", 2},
		{"429 waits its Retry-After", []func(http.ResponseWriter){status(429, "1"), ok}, "42", nil, "", 2},
		{"429 too long to wait", []func(http.ResponseWriter){status(429, "3600"), ok}, "", metrics.ErrUnavailable, "rate-limited: 429 Too Many Requests", 1},
		{"always 503", []func(http.ResponseWriter){status(503, ""), status(503, ""), status(503, "")}, "", metrics.ErrUnavailable, "after 3 attempts", 3},
		{"4xx is not retried", []func(http.ResponseWriter){status(400, ""), ok}, "", metrics.ErrQuery, "400 Bad Request bad query", 1},
		{"slow answer times out", []func(http.ResponseWriter){slow, slow, slow}, "", metrics.ErrUnavailable, "context deadline exceeded", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				tc.answers[min(n, len(tc.answers)-1)](w)
			}))
			defer srv.Close()
			c := &Client{Timeout: 300 * time.Millisecond, Backoff: 10 * time.Millisecond}
			body, err := c.Do(t.Context(), func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/q?api_key=SECRET", nil)
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("Do = %q, %v; want %v with %q", body, err, tc.wantErr, tc.wantText)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error shows the URL's query: %v", err)
				}
			} else if err != nil || string(body) != tc.want {
				t.Fatalf("Do = %q, %v; want %q", body, err, tc.want)
			}
			if int(calls.Load()) != tc.calls {
				t.Errorf("%d calls, want %d", calls.Load(), tc.calls)
			}
		})
	}
}

func ok(w http.ResponseWriter) { _, _ = w.Write([]byte("42")) }

func slow(w http.ResponseWriter) { time.Sleep(time.Second); ok(w) }

func status(code int, retryAfter string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, "bad query", code)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, "junk": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}
