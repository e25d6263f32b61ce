package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const secretToken = "s3cr3t-token-value"

func vectorBody(values ...string) string {
	var samples []string
	for i, v := range values {
		samples = append(samples, fmt.Sprintf(`{"metric":{"i":"%d"},"value":[1704067200,%q]}`, i, v))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func reply(code int, body string) func(w http.ResponseWriter, r *http.Request, n int64) {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// promCase is one fault-injection case: handler answers the n-th request
// (from 1) of the case.
type promCase struct {
	name       string
	handler    func(w http.ResponseWriter, r *http.Request, n int64)
	cfg        PrometheusConfig
	ctx        func(context.Context) context.Context
	closed     bool
	assertions func(t *testing.T, r Result, err error, calls int64, logs string)
}

func wantErr(target error, wantCalls int64) func(*testing.T, Result, error, int64, string) {
	return func(t *testing.T, _ Result, err error, calls int64, _ string) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("error = %v, want %v", err, target)
		}
		if calls != wantCalls {
			t.Errorf("server saw %d requests, want %d", calls, wantCalls)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func wantValue(want float64, wantCalls int64) func(*testing.T, Result, error, int64, string) {
	return func(t *testing.T, r Result, err error, calls int64, _ string) {
		t.Helper()
		if err != nil {
			t.Fatalf("error = %v", err)
		}
		if r.Value != want && !(math.IsNaN(want) && math.IsNaN(r.Value)) {
			t.Errorf("value = %v, want %v", r.Value, want)
		}
		if calls != wantCalls {
			t.Errorf("server saw %d requests, want %d", calls, wantCalls)
		}
	}
}

func promCases() []promCase {
	at := time.Unix(1704067200, 0)
	return []promCase{
		{
			name: "500 then success is retried",
			handler: func(w http.ResponseWriter, r *http.Request, n int64) {
				if n == 1 {
					reply(http.StatusInternalServerError, "boom")(w, r, n)
					return
				}
				reply(http.StatusOK, vectorBody("7"))(w, r, n)
			},
			assertions: wantValue(7, 2),
		},
		{name: "503 every time gives up after the attempts", handler: reply(http.StatusServiceUnavailable, "busy"), assertions: wantErr(ErrUnavailable, 3)},
		{name: "400 bad_data is not retried", handler: reply(http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`), assertions: wantErr(ErrQuery, 1)},
		{name: "422 execution error is not retried", handler: reply(http.StatusUnprocessableEntity, `{"status":"error","errorType":"execution","error":"many-to-many"}`), assertions: wantErr(ErrQuery, 1)},
		{name: "401 is not retried and the token is not in the error", handler: reply(http.StatusUnauthorized, "unauthorized"), cfg: PrometheusConfig{BearerToken: secretToken}, assertions: wantErr(ErrQuery, 1)},
		{name: "malformed JSON is a query error", handler: reply(http.StatusOK, `{"status":"success","data":{"resultType":"vec`), assertions: wantErr(ErrQuery, 1)},
		{
			name: "slow past the timeout is retried then unavailable",
			handler: func(_ http.ResponseWriter, r *http.Request, _ int64) {
				// Read the body first: only then does net/http watch the
				// connection and cancel r.Context() when the client hangs up.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done() // hang until the client gives up
			},
			cfg: PrometheusConfig{Timeout: 50 * time.Millisecond, Attempts: 2},
			assertions: func(t *testing.T, r Result, err error, calls int64, logs string) {
				wantErr(ErrUnavailable, 2)(t, r, err, calls, logs)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
				}
			},
		},
		{name: "connection refused is unavailable", closed: true, assertions: wantErr(ErrUnavailable, 0)},
		{
			name:    "caller's cancelled context stops at once",
			handler: reply(http.StatusOK, vectorBody("1")),
			ctx: func(ctx context.Context) context.Context {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx
			},
			assertions: func(t *testing.T, r Result, err error, calls int64, logs string) {
				wantErr(ErrUnavailable, 0)(t, r, err, calls, logs)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want it to wrap context.Canceled", err)
				}
			},
		},
		{
			name: "warnings are returned and logged",
			handler: reply(http.StatusOK, `{"status":"success","warnings":["PromQL warning: w1"],"infos":["i1"],`+
				`"data":{"resultType":"vector","result":[{"metric":{},"value":[1704067200,"2"]}]}}`),
			cfg: PrometheusConfig{BearerToken: secretToken},
			assertions: func(t *testing.T, r Result, err error, calls int64, logs string) {
				wantValue(2, 1)(t, r, err, calls, logs)
				if want := []string{"PromQL warning: w1", "info: i1"}; fmt.Sprint(r.Warnings) != fmt.Sprint(want) {
					t.Errorf("warnings = %q, want %q", r.Warnings, want)
				}
				if !strings.Contains(logs, "PromQL warning: w1") || strings.Contains(logs, secretToken) {
					t.Errorf("logs = %q, want the warning and no token", logs)
				}
			},
		},
		{name: "empty vector is no data", handler: reply(http.StatusOK, vectorBody()), assertions: wantErr(ErrNoData, 1)},
		{name: "two series are too many", handler: reply(http.StatusOK, vectorBody("1", "2")), assertions: wantErr(ErrTooManySeries, 1)},
		{name: "NaN sample is a value", handler: reply(http.StatusOK, vectorBody("NaN")), assertions: wantValue(math.NaN(), 1)},
		{name: "scalar result", handler: reply(http.StatusOK, `{"status":"success","data":{"resultType":"scalar","result":[1704067200,"0.25"]}}`), assertions: wantValue(0.25, 1)},
		{
			name:       "range vector result is a query error",
			handler:    reply(http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1704067200,"1"]]}]}}`),
			assertions: wantErr(ErrQuery, 1),
		},
		{
			name: "query, time, timeout, token and headers reach the server",
			handler: func(w http.ResponseWriter, r *http.Request, n int64) {
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusTeapot)
					return
				}
				got := fmt.Sprint(r.Form.Get("query"), "|", r.Form.Get("time"), "|", r.Form.Get("timeout"), "|",
					r.Header.Get("Authorization"), "|", r.Header.Get("X-Scope-OrgID"))
				want := fmt.Sprint(`up{job="x"}`, "|", at.Unix(), "|", "2s", "|", "Bearer "+secretToken, "|", "tenant-1")
				if got != want {
					http.Error(w, fmt.Sprintf("got %s, want %s", got, want), http.StatusTeapot)
					return
				}
				reply(http.StatusOK, vectorBody("1"))(w, r, n)
			},
			cfg:        PrometheusConfig{Timeout: 2 * time.Second, BearerToken: secretToken, Headers: map[string]string{"X-Scope-OrgID": "tenant-1"}},
			assertions: wantValue(1, 1),
		},
	}
}

func TestPrometheusQueryResult(t *testing.T) {
	at := time.Unix(1704067200, 0)
	for _, tc := range promCases() {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if tc.handler == nil {
					t.Errorf("unexpected request %d", n)
					return
				}
				tc.handler(w, r, n)
			}))
			t.Cleanup(srv.Close)
			if tc.closed {
				srv.Close()
			}
			var logs bytes.Buffer
			cfg := tc.cfg
			cfg.URL = srv.URL
			cfg.Backoff = time.Millisecond
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			p, err := NewPrometheus(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			r, err := p.QueryResult(ctx, `up{job="x"}`, at)
			tc.assertions(t, r, err, calls.Load(), logs.String())
		})
	}
}

func TestNewPrometheus(t *testing.T) {
	tests := []struct {
		name    string
		cfg     PrometheusConfig
		wantErr bool
	}{
		{name: "plain http", cfg: PrometheusConfig{URL: "http://127.0.0.1:9090"}},
		{name: "https with path prefix", cfg: PrometheusConfig{URL: "https://example.com/prometheus"}},
		{name: "empty URL", cfg: PrometheusConfig{}, wantErr: true},
		{name: "no scheme", cfg: PrometheusConfig{URL: "prometheus:9090"}, wantErr: true},
		{name: "other scheme", cfg: PrometheusConfig{URL: "ftp://host"}, wantErr: true},
		{name: "unparsable", cfg: PrometheusConfig{URL: "http://[::1"}, wantErr: true},
		{name: "negative timeout", cfg: PrometheusConfig{URL: "http://h", Timeout: -time.Second}, wantErr: true},
		{name: "negative attempts", cfg: PrometheusConfig{URL: "http://h", Attempts: -1}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPrometheus(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Errorf("NewPrometheus() error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}
