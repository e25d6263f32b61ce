package graphite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// freePort returns a TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// graphiteServer is a real Graphite: Debian's carbon-cache (whisper, 10 s
// points) and graphite-web's render API under Django's server.
type graphiteServer struct {
	render string // graphite-web base URL
	carbon string // plaintext protocol address
}

// startGraphite starts carbon-cache and graphite-web in a temporary
// directory; both stop when the test ends. It fails when they are not
// installed (CI installs graphite-carbon and graphite-web; see .ci/run).
func startGraphite(t *testing.T) graphiteServer {
	t.Helper()
	for _, bin := range []string{"carbon-cache", "django-admin"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not installed (apt-get install graphite-carbon graphite-web): %v", bin, err)
		}
	}
	dir := t.TempDir()
	for _, d := range []string{"whisper", "log", "pid", "web"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	line, pickle, cache, web := freePort(t), freePort(t), freePort(t), freePort(t)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("carbon.conf", fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/
LOCAL_DATA_DIR = %[1]s/whisper/
CONF_DIR = %[1]s/
LOG_DIR = %[1]s/log/
PID_DIR = %[1]s/pid/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 100000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[4]d
ENABLE_TAGS = False
`, dir, line, pickle, cache))
	write("storage-schemas.conf", "[default]\npattern = .*\nretentions = 10s:1d\n")
	write("storage-aggregation.conf", "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = sum\n")
	write("web/gwsettings.py", fmt.Sprintf(`SECRET_KEY = 'birdwatch-test'
STORAGE_DIR = '%[1]s'
WHISPER_DIR = '%[1]s/whisper'
LOG_DIR = '%[1]s/log'
INDEX_FILE = '%[1]s/index'
CARBONLINK_HOSTS = ['127.0.0.1:%[2]d:a']
DATABASES = {'default': {'NAME': '%[1]s/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
`, dir, cache))
	start := func(name string, cmd *exec.Cmd) {
		log, err := os.Create(filepath.Join(dir, "log", name+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				out, _ := os.ReadFile(log.Name())
				t.Logf("%s output:\n%s", name, out)
			}
		})
	}
	start("carbon", exec.Command("carbon-cache", "--config="+filepath.Join(dir, "carbon.conf"), "--instance=a", "--debug", "start"))
	webCmd := exec.Command("django-admin", "runserver", fmt.Sprintf("127.0.0.1:%d", web), "--noreload")
	webCmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "web"), "GRAPHITE_SETTINGS_MODULE=gwsettings", "DJANGO_SETTINGS_MODULE=graphite.settings")
	start("graphite-web", webCmd)
	g := graphiteServer{render: fmt.Sprintf("http://127.0.0.1:%d", web), carbon: fmt.Sprintf("127.0.0.1:%d", line)}
	waitFor(t, 90*time.Second, "graphite-web and carbon to listen", func() bool {
		resp, err := http.Get(g.render + "/render?target=none&format=json")
		if err != nil {
			return false
		}
		resp.Body.Close()
		c, err := net.Dial("tcp", g.carbon)
		if err != nil {
			return false
		}
		c.Close()
		return resp.StatusCode == http.StatusOK
	})
	return g
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// send writes lines with carbon's plaintext protocol: "path value time".
func (g graphiteServer) send(t *testing.T, lines []string) {
	t.Helper()
	c, err := net.Dial("tcp", g.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
}

// tokenGateway puts a bearer-token check in front of graphite-web, as a
// hosted Graphite (Grafana Cloud) or an authenticating proxy does.
func tokenGateway(t *testing.T, target, token string) *httptest.Server {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGraphite writes StatsD-style counts and timers of two versions into a
// real Graphite through carbon and checks the provider's counts, values and
// range points against sums and latest values computed here from the data
// written.
func TestGraphite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts carbon-cache and graphite-web")
	}
	g := startGraphite(t)
	gw := tokenGateway(t, g.render, "gr-t0k")
	now := time.Now().Truncate(10 * time.Second)
	type sample struct {
		t          int64
		errs, reqs float64
		p99        float64
	}
	data := map[string][]sample{}
	var lines []string
	for i := range 180 { // 30 minutes of 10 s points
		ts := now.Add(-time.Duration(i) * 10 * time.Second).Unix()
		for vi, v := range []string{"v1", "v2"} {
			s := sample{t: ts, reqs: float64(40 + (i*7)%23), errs: float64((i + vi*3) % 5), p99: 0.1 + float64((i*13+vi)%17)/100}
			data[v] = append(data[v], s)
			lines = append(lines,
				fmt.Sprintf("stats_counts.prod.aleph.%s.requests %g %d", v, s.reqs, ts),
				fmt.Sprintf("stats_counts.prod.aleph.%s.errors %g %d", v, s.errs, ts),
				fmt.Sprintf("app.aleph.%s.errors %g %d", v, s.errs, ts),
				fmt.Sprintf("stats.timers.prod.aleph.%s.request.upper_99 %g %d", v, s.p99, ts))
		}
	}
	g.send(t, lines)
	// refSum and refLast are computed from the data written, over (from, to].
	refSum := func(v string, f func(sample) float64, from, to time.Time) float64 {
		s := 0.0
		for _, x := range data[v] {
			if x.t > from.Unix() && x.t <= to.Unix() {
				s += f(x)
			}
		}
		return s
	}
	refLast := func(v string, f func(sample) float64, to time.Time) float64 {
		best := data[v][0]
		for _, x := range data[v] {
			if x.t <= to.Unix() && (best.t > to.Unix() || x.t > best.t) {
				best = x
			}
		}
		return f(best)
	}
	errs := func(s sample) float64 { return s.errs }
	reqs := func(s sample) float64 { return s.reqs }
	p99 := func(s sample) float64 { return s.p99 }

	pv, err := New(context.Background(), metrics.ProviderConfig{Address: gw.URL, Secret: metrics.Secret{"token": "gr-t0k"}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := pv.(*Provider)
	ctx := context.Background()
	end := now.Add(-20 * time.Second)
	window := 5 * time.Minute
	waitFor(t, 60*time.Second, "carbon to store the points", func() bool {
		v, err := p.QueryWindow(ctx, "stats_counts.prod.aleph.v2.requests", now.Add(-30*time.Minute), now)
		return err == nil && v == refSum("v2", reqs, now.Add(-30*time.Minute), now)
	})

	tmpl, err := templates.Metric("graphite-statsd-error-rate")
	if err != nil {
		t.Fatal(err)
	}
	p99Tmpl, err := templates.Metric("graphite-statsd-latency-p99")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{"prefix": "prod"}
	for _, v := range []string{"v1", "v2"} {
		vars := metrics.Vars{Service: "aleph", Version: v, Stable: "v1", Canary: "v2", Window: window, Interval: time.Minute, Args: args}
		m, err := metrics.Measure(ctx, p, tmpl, vars, end)
		we, wr := refSum(v, errs, end.Add(-window), end), refSum(v, reqs, end.Add(-window), end)
		if err != nil || !m.HasCounts || m.Errors != we || m.Requests != wr {
			t.Errorf("%s: Measure = %+v, %v; want errors %v requests %v", v, m, err, we, wr)
		}
		m, err = metrics.Measure(ctx, p, p99Tmpl, vars, end)
		if want := refLast(v, p99, end); err != nil || m.HasCounts || m.Value != want {
			t.Errorf("%s: p99 Measure = %+v, %v; want value %v", v, m, err, want)
		}
	}
	cases := []struct {
		name, expr string
		want       float64
	}{
		{"value: the latest point", "stats.timers.prod.aleph.v2.request.upper_99", refLast("v2", p99, end)},
		{"consolidateBy sum is a count", "consolidateBy(sumSeries(app.aleph.v2.errors), 'sum')", refSum("v2", errs, end.Add(-window), end)},
		{"a function over a count", "sumSeries(stats_counts.prod.aleph.*.requests)", refSum("v1", reqs, end.Add(-window), end) + refSum("v2", reqs, end.Add(-window), end)},
	}
	for _, tc := range cases {
		got, err := p.QueryWindow(ctx, tc.expr, end.Add(-window), end)
		if err != nil || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	pts, err := p.QueryRange(ctx, "stats_counts.prod.aleph.v1.errors", metrics.Range{Start: end.Add(-20 * time.Minute), End: end, Step: time.Minute})
	if err != nil || len(pts) != 21 {
		t.Fatalf("range: %d points, %v; want 21", len(pts), err)
	}
	for _, pt := range pts {
		if want := refSum("v1", errs, pt.T.Add(-time.Minute), pt.T); pt.V != want {
			t.Errorf("range point %s = %v, want %v", pt.T, pt.V, want)
		}
	}

	bad := []struct {
		name, expr string
		p          *Provider
		kind       error
		text       string
	}{
		{"several series", "stats_counts.prod.aleph.*.errors", p, metrics.ErrTooManySeries, "2 series"},
		{"unknown metric", "stats_counts.prod.aleph.v9.errors", p, metrics.ErrNoData, ""},
		{"refused target", "noSuchFunction(app.aleph.v2.errors)", p, metrics.ErrQuery, "400"},
		{"no token", "stats_counts.prod.aleph.v2.errors", &Provider{client: p.client, base: p.base}, metrics.ErrQuery, "401"},
	}
	for _, tc := range bad {
		_, err := tc.p.QueryWindow(ctx, tc.expr, end.Add(-window), end)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: got %v, want %v containing %q", tc.name, err, tc.kind, tc.text)
		}
	}
}

// TestBadAnswers checks answers a real Graphite rarely gives: each is an
// inconclusive look, never a value.
func TestBadAnswers(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter)
		kind   error
		text   string
	}{
		{"not a list", func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"error": "x"}`)) }, metrics.ErrQuery, "unexpected shape"},
		{"text value", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`[{"target": "x", "datapoints": [["high", 1796688840]]}]`))
		}, metrics.ErrQuery, "unexpected shape"},
		{"no time", func(w http.ResponseWriter) { _, _ = w.Write([]byte(`[{"target": "x", "datapoints": [[1, null]]}]`)) }, metrics.ErrQuery, "without a time"},
		{"only nulls", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`[{"target": "x", "datapoints": [[null, 1796688840]]}]`))
		}, metrics.ErrNoData, "null"},
		{"rate-limited", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}, metrics.ErrUnavailable, "rate-limited"},
		{"timeout", func(w http.ResponseWriter) { time.Sleep(400 * time.Millisecond) }, metrics.ErrUnavailable, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/graphite/render" || r.URL.Query().Get("format") != "json" {
					http.NotFound(w, r)
					return
				}
				tc.answer(w)
			}))
			defer srv.Close()
			p, err := New(context.Background(), metrics.ProviderConfig{Address: srv.URL + "/graphite/", Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			p.(*Provider).client.Backoff = time.Millisecond
			end := time.Unix(1796688850, 0)
			_, err = p.(*Provider).QueryWindow(context.Background(), "x", end.Add(-time.Minute), end)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v, want %v containing %q", err, tc.kind, tc.text)
			}
		})
	}
}
