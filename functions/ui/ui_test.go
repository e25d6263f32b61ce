package ui

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// exampleCanary is the embedded aleph example's Canary, parsed for real.
func exampleCanary(t testing.TB) *spec.Canary {
	t.Helper()
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := spec.ParseCanaries(".birdwatch/aleph.yaml", []byte(files[".birdwatch/aleph.yaml"]), spec.Checks{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("parse example: %v", err)
	}
	return cs[0]
}

// fakeFleet is a Fleet whose answer the test changes; it counts reads.
type fakeFleet struct {
	mu      gosync.Mutex
	entries []Entry
	err     error
	reads   int
}

func (f *fakeFleet) Entries(context.Context) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.entries, f.err
}

func (f *fakeFleet) set(entries []Entry, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries, f.err = entries, err
}

// clock is a settable clock for the cache's TTL.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func progressing(at time.Time, weight int) *spec.Status {
	return &spec.Status{Generation: "v04", Stable: "v03", Phase: "Progressing", Step: 1, Weight: weight,
		History: []spec.HistoryEntry{{At: at, Decision: "start", Weight: 0, Trigger: "schedule", Reason: "new version v04"},
			{At: at.Add(time.Minute), Decision: "advance", Step: 1, Weight: weight, Trigger: "schedule", Reason: "analysis passed"}}}
}

func newTestHandler(t *testing.T, f Fleet, token string) (*Handler, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	h, err := New(Config{Fleet: f, Token: token, Now: clk.now, Refresh: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return h, clk
}

func get(t *testing.T, h http.Handler, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFleetPage(t *testing.T) {
	c := exampleCanary(t)
	start := time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC)
	other := *c
	other.Metadata.Name = "beth"
	tests := []struct {
		name    string
		entries []Entry
		err     error
		want    []string
		notWant []string
	}{
		{name: "running and not started", entries: []Entry{{Key: "games/aleph", Canary: c, Status: progressing(start, 20)}, {Key: "games/beth", Canary: &other}},
			want: []string{`data-canary="games/aleph"`, `href="/canaries/games/aleph"`, `Progressing`, `20%`, `<b>advance</b>`, `analysis passed`,
				`data-canary="games/beth"`, `not started`, `2 canaries: 1 not started, 1 progressing`, `no metrics backend configured`}},
		{name: "an unreadable canary is shown with its problem, the others still are",
			entries: []Entry{{Key: "games/aleph", Err: errors.New(".birdwatch/aleph.yaml:7: spec.analysis.interval: must be positive")},
				{Key: "games/beth", Canary: &other, Status: progressing(start, 5)}},
			want: []string{`unreadable`, `.birdwatch/aleph.yaml:7: spec.analysis.interval: must be positive`, `data-canary="games/beth"`, `5%`}},
		{name: "markup in a message is escaped", entries: []Entry{{Key: "games/aleph", Canary: c,
			Status: func() *spec.Status { s := progressing(start, 1); s.Message = `<script>alert(1)</script>`; return s }()}},
			want: []string{`&lt;script&gt;alert(1)&lt;/script&gt;`}, notWant: []string{`<script>alert(1)`}},
		{name: "nothing readable", err: errors.New("fetch: dial tcp 10.0.0.1:443: connection refused"),
			want: []string{`cannot read the repository right now, and has nothing read earlier`}, notWant: []string{"10.0.0.1", "dial tcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, &fakeFleet{entries: tt.entries, err: tt.err}, "")
			resp := get(t, h, "/", nil)
			b := body(t, resp)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(b, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestStaleDataStaysWithTheProblem: once read, a failing repository shows
// the last data with a note, and the cache reads once per TTL however many
// pages are open.
func TestStaleDataStaysWithTheProblem(t *testing.T) {
	c := exampleCanary(t)
	f := &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: c, Status: progressing(time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC), 20)}}}
	h, clk := newTestHandler(t, f, "")
	for range 5 {
		body(t, get(t, h, "/", nil))
		body(t, get(t, h, "/canaries/games/aleph", nil))
	}
	if f.reads != 1 {
		t.Errorf("%d reads within one TTL, want 1", f.reads)
	}
	f.set(nil, errors.New("fetch: authentication required"))
	clk.add(time.Minute)
	b := body(t, get(t, h, "/", nil))
	if !strings.Contains(b, "this is what it read at 12:00:00 UTC") || !strings.Contains(b, `data-canary="games/aleph"`) || strings.Contains(b, "authentication") {
		t.Errorf("stale page:\n%s", b)
	}
}

func TestRolloutPage(t *testing.T) {
	c := exampleCanary(t)
	f := &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: c, Status: progressing(time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC), 20)},
		{Key: "games/broken", Err: errors.New(".birdwatch/broken.yaml:3: spec.stable: required")}}}
	h, _ := newTestHandler(t, f, "")
	resp := get(t, h, "/canaries/games/aleph", nil)
	b := body(t, resp)
	for _, w := range []string{`← all canaries`, `games/aleph: canary <span class="canary">v04</span> vs baseline <span class="baseline">v03</span>`,
		`<h2>Decisions</h2>`, `analysis passed`, `id="live"`, `data-refresh="2"`} {
		if !strings.Contains(b, w) {
			t.Errorf("rollout page lacks %q", w)
		}
	}
	if b := body(t, get(t, h, "/canaries/games/broken", nil)); !strings.Contains(b, "birdwatch cannot read this canary: .birdwatch/broken.yaml:3: spec.stable: required") {
		t.Errorf("broken canary page:\n%s", b)
	}
	if resp := get(t, h, "/canaries/games/nope", nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body(t, resp), "No canary games/nope") {
		t.Errorf("unknown canary: %d", resp.StatusCode)
	}
}

// TestFragmentUpdates: the page's script asks for the content with its
// ETag: unchanged data is 304, a new decision is new content.
func TestFragmentUpdates(t *testing.T) {
	c := exampleCanary(t)
	start := time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC)
	f := &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: c, Status: progressing(start, 20)}}}
	h, clk := newTestHandler(t, f, "")
	first := get(t, h, "/?fragment=1", nil)
	etag, frag := first.Header.Get("ETag"), body(t, first)
	if etag == "" || strings.Contains(frag, "<html") || !strings.Contains(frag, "20%") {
		t.Fatalf("fragment %q etag %q", frag, etag)
	}
	page := body(t, get(t, h, "/", nil))
	if !strings.Contains(page, `data-etag="`+strings.ReplaceAll(etag, `"`, "&#34;")+`"`) {
		t.Errorf("the page does not carry its content's ETag %s", etag)
	}
	if resp := get(t, h, "/?fragment=1", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("unchanged: %d", resp.StatusCode)
	}
	next := progressing(start, 50)
	f.set([]Entry{{Key: "games/aleph", Canary: c, Status: next}}, nil)
	clk.add(time.Minute)
	resp := get(t, h, "/?fragment=1", http.Header{"If-None-Match": {etag}})
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "50%") || resp.Header.Get("ETag") == etag {
		t.Errorf("after a decision: %d %q", resp.StatusCode, b)
	}
}

func TestTokenAccess(t *testing.T) {
	const token = "ui-token-4f1e-secret"
	h, _ := newTestHandler(t, &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: exampleCanary(t)}}}, token)
	tests := []struct {
		name       string
		target     string
		header     http.Header
		wantStatus int
		assertions func(t *testing.T, resp *http.Response, body string)
	}{
		{name: "no token", target: "/", wantStatus: 401},
		{name: "wrong bearer", target: "/", header: http.Header{"Authorization": {"Bearer nope"}}, wantStatus: 401},
		{name: "bearer", target: "/", header: http.Header{"Authorization": {"Bearer " + token}}, wantStatus: 200},
		{name: "wrong link", target: "/?token=nope", wantStatus: 401},
		{name: "link sets the cookie and drops the token", target: "/canaries/games/aleph?token=" + token, wantStatus: http.StatusSeeOther,
			assertions: func(t *testing.T, resp *http.Response, _ string) {
				if loc := resp.Header.Get("Location"); loc != "/canaries/games/aleph" {
					t.Errorf("redirect to %q", loc)
				}
				cookies := resp.Cookies()
				if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Value == token {
					t.Fatalf("cookie %+v", cookies)
				}
				again := get(t, h, "/", http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value}})
				if again.StatusCode != 200 {
					t.Errorf("with the cookie: %d", again.StatusCode)
				}
				if bearer := get(t, h, "/", http.Header{"Authorization": {"Bearer " + cookies[0].Value}}); bearer.StatusCode != 401 {
					t.Errorf("the cookie works as a bearer token: %d", bearer.StatusCode)
				}
			}},
		{name: "forged cookie", target: "/", header: http.Header{"Cookie": {cookieName + "=" + token}}, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, h, tt.target, tt.header)
			b := body(t, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if strings.Contains(b, token) {
				t.Error("the page holds the token")
			}
			if tt.assertions != nil {
				tt.assertions(t, resp, b)
			}
		})
	}
}

// TestOnlyItsOwnScriptRuns: the CSP allows the script the page carries by
// its hash, and nothing else.
func TestOnlyItsOwnScriptRuns(t *testing.T) {
	h, _ := newTestHandler(t, &fakeFleet{}, "")
	resp := get(t, h, "/", nil)
	b := body(t, resp)
	_, rest, _ := strings.Cut(b, "<script>")
	script, _, ok := strings.Cut(rest, "</script>")
	if !ok {
		t.Fatal("no script")
	}
	sum := sha256.Sum256([]byte(script))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src "+want) || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "img-src data:") {
		t.Errorf("CSP %q does not allow exactly the page's script %s", csp, want)
	}
	if !strings.Contains(b, `<noscript><meta http-equiv="refresh" content="2"></noscript>`) {
		t.Error("without JavaScript the page does not refresh")
	}
}

func TestSparkSVG(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name             string
		canary, baseline []float64
		wantLines        int
		wantEmpty        bool
	}{
		{name: "two lines", canary: []float64{1, 2, 3}, baseline: []float64{1, 1, 1}, wantLines: 2},
		{name: "a gap breaks the canary's line", canary: []float64{1, nan, 3, 4}, baseline: []float64{1, 1, 1, 1}, wantLines: 3},
		{name: "flat", canary: []float64{2, 2}, baseline: []float64{2, 2}, wantLines: 2},
		{name: "no data", canary: []float64{nan}, baseline: []float64{nan}, wantEmpty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := string(sparkSVG(`err<or> "rate"`, tt.canary, tt.baseline))
			if tt.wantEmpty {
				if svg != "" {
					t.Errorf("got %s", svg)
				}
				return
			}
			if n := strings.Count(svg, "<polyline"); n != tt.wantLines {
				t.Errorf("%d lines, want %d: %s", n, tt.wantLines, svg)
			}
			if strings.Contains(svg, "<or>") || strings.Contains(svg, "NaN") {
				t.Errorf("unsafe or NaN markup: %s", svg)
			}
		})
	}
}

func TestLinksEscapeNames(t *testing.T) {
	row := newFleetRow(Entry{Key: "team a/svc?x", Err: errors.New("x")}, report.Report{})
	if row.Link != "/canaries/"+url.PathEscape("team a")+"/"+url.PathEscape("svc?x") {
		t.Errorf("link %q", row.Link)
	}
}

// downMetrics is a metrics backend that never answers.
type downMetrics struct{}

func (downMetrics) QueryRange(context.Context, string, metrics.Range) ([]metrics.Point, error) {
	return nil, fmt.Errorf("%w: dial tcp 127.0.0.1:9090: connection refused", metrics.ErrUnavailable)
}

// TestMetricsDown: with the metrics backend down, both pages still show
// every canary and say the series are missing; nothing else fails.
func TestMetricsDown(t *testing.T) {
	c := exampleCanary(t)
	f := &fakeFleet{entries: []Entry{{Key: "games/aleph", Canary: c, Status: progressing(time.Date(2026, 12, 7, 11, 50, 0, 0, time.UTC), 20)}}}
	h, err := New(Config{Fleet: f, Metrics: downMetrics{}})
	if err != nil {
		t.Fatal(err)
	}
	fleetPage := body(t, get(t, h, "/", nil))
	if !strings.Contains(fleetPage, `data-canary="games/aleph"`) || !strings.Contains(fleetPage, "no series: the metrics backend did not answer") {
		t.Errorf("fleet page:\n%s", fleetPage)
	}
	resp := get(t, h, "/canaries/games/aleph", nil)
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "<h2>Decisions</h2>") {
		t.Errorf("rollout page %d:\n%s", resp.StatusCode, b)
	}
}
