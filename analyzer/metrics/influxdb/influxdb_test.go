package influxdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/internal/servertest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// batch is one written point: the requests of one version and code class
// in one 10s flush of an application's metrics library.
type batch struct {
	version, code string
	at            time.Time
	count         int
}

// generate writes bursts of requests for two versions; v2 fails often.
func generate(seed uint64, start, end time.Time) []batch {
	rng := rand.New(rand.NewPCG(seed, 86))
	var out []batch
	for t := start; t.Before(end); t = t.Add(10 * time.Second) {
		for _, v := range []struct {
			name string
			fail float64
		}{{"v1", 0.01}, {"v2", 0.08}} {
			n := rng.IntN(50) + 10
			bad := 0
			for range n {
				if rng.Float64() < v.fail*rng.ExpFloat64() {
					bad++
				}
			}
			out = append(out, batch{v.name, "200", t, n - bad}, batch{v.name, "500", t, bad})
		}
	}
	return out
}

// reference sums the written counts of version in (start, end].
func reference(bs []batch, version string, onlyErrors bool, start, end time.Time) float64 {
	sum := 0
	for _, b := range bs {
		if b.version == version && (!onlyErrors || b.code == "500") && b.at.After(start) && !b.at.After(end) {
			sum += b.count
		}
	}
	return float64(sum)
}

// startInfluxDB runs Debian's influxd (1.x) with authentication on, makes
// the admin user and the database, and writes bs with line protocol.
func startInfluxDB(t *testing.T, bs []batch) string {
	bin := servertest.Binary(t, "influxd", "influxdb")
	dir := t.TempDir()
	addr, rpc := servertest.FreeAddr(t), servertest.FreeAddr(t)
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = %q
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  bind-address = %q
  auth-enabled = true
  log-enabled = false
[monitor]
  store-enabled = false
`, rpc, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), addr)
	if err := os.WriteFile(filepath.Join(dir, "influxdb.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	servertest.Start(t, dir, bin, base+"/ping", "-config", filepath.Join(dir, "influxdb.conf"))
	admin := func(q string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader("q="+q))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("birdwatch", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(body), `"error"`) {
			t.Fatalf("%s: %s %s", q, resp.Status, body)
		}
	}
	admin("CREATE USER birdwatch WITH PASSWORD 's3cret' WITH ALL PRIVILEGES")
	admin("CREATE DATABASE games")
	var lines strings.Builder
	for _, b := range bs {
		fmt.Fprintf(&lines, "http,service=aleph,version=%s,code=%s count=%di %d\n", b.version, b.code, b.count, b.at.Unix())
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/write?db=games&precision=s", strings.NewReader(lines.String()))
	req.SetBasicAuth("birdwatch", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %v %v", resp, err)
	}
	resp.Body.Close()
	return base
}

var influxCounts = templates.Template{Name: "influx-errors", Unit: "percent",
	Errors: `SELECT sum("count") FROM "games"."autogen"."http" WHERE "service" = '{{ .Service }}' AND "version" = '{{ .Version }}'
  AND "code" =~ /^5/ AND time > $start AND time <= $end`,
	Requests: `SELECT sum("count") FROM "games"."autogen"."http" WHERE "service" = '{{ .Service }}' AND "version" = '{{ .Version }}'
  AND time > $start AND time <= $end`}

// TestInfluxQL measures counts from a real InfluxDB 1.x with authentication
// and checks them against the counts the test wrote.
func TestInfluxQL(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	bs := generate(3, end.Add(-time.Hour), end.Add(time.Minute))
	base := startInfluxDB(t, bs)
	p, err := New(t.Context(), metrics.ProviderConfig{Address: base, Secret: metrics.Secret{"username": "birdwatch", "password": "s3cret"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	window := 10 * time.Minute
	for _, version := range []string{"v1", "v2"} {
		m, err := metrics.Measure(t.Context(), p, influxCounts, metrics.Vars{Service: "aleph", Version: version, Window: window}, end)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		wantBad, wantTotal := reference(bs, version, true, end.Add(-window), end), reference(bs, version, false, end.Add(-window), end)
		if !m.HasCounts || m.Errors != wantBad || m.Requests != wantTotal || wantTotal == 0 {
			t.Errorf("%s: measured %g of %g, the written points say %g of %g", version, m.Errors, m.Requests, wantBad, wantTotal)
		}
	}
	r := metrics.Range{Start: end.Add(-15 * time.Minute), End: end, Step: time.Minute}
	rm, err := metrics.MeasureRange(t.Context(), p.(metrics.RangeProvider), influxCounts, metrics.Vars{Service: "aleph", Version: "v2"}, r)
	if err != nil || len(rm.Requests) != 16 {
		t.Fatalf("range: %d points, %v", len(rm.Requests), err)
	}
	for _, pt := range rm.Requests {
		if want := reference(bs, "v2", false, pt.T.Add(-time.Minute), pt.T); pt.V != want {
			t.Errorf("range at %s: %g, the points say %g", pt.T.Format(time.TimeOnly), pt.V, want)
		}
	}

	cases := []struct {
		name, query string
		secret      metrics.Secret
		wantErr     error
	}{
		{"no such version", strings.Replace(influxCounts.Requests, "{{ .Version }}", "v9", 1), nil, metrics.ErrNoData},
		{"grouped rows", influxCounts.Requests + " GROUP BY time(1m)", nil, metrics.ErrTooManySeries},
		{"grouped series", influxCounts.Requests + ` GROUP BY "code"`, nil, metrics.ErrTooManySeries},
		{"bad InfluxQL", "SELEKT 1", nil, metrics.ErrQuery},
		{"wrong password", influxCounts.Requests, metrics.Secret{"username": "birdwatch", "password": "nope"}, metrics.ErrQuery},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec := tc.secret
			if sec == nil {
				sec = metrics.Secret{"username": "birdwatch", "password": "s3cret"}
			}
			q, _ := New(t.Context(), metrics.ProviderConfig{Address: base, Secret: sec})
			expr, err := metrics.RenderDialect(metrics.Plain, tc.query, metrics.Vars{Service: "aleph", Version: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := q.(metrics.WindowProvider).QueryWindow(t.Context(), expr, end.Add(-window), end); !errors.Is(err, tc.wantErr) {
				t.Fatalf("QueryWindow = %g, %v; want %v", v, err, tc.wantErr)
			}
		})
	}
}

// TestFlux checks Flux queries against the documented /api/v2/query
// answer (annotated CSV; tables separated by blank lines) and token auth:
// Debian's InfluxDB 1.6 has no Flux.
func TestFlux(t *testing.T) {
	answers := map[string]string{
		"one": "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double\n#group,false,false,true,true,false\n#default,_result,,,,\n" +
			",result,table,_start,_stop,_value\n,,0,2026-12-01T11:50:00Z,2026-12-01T12:00:00Z,42.5\n\n",
		"two tables": "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,1\n\n" +
			"#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,1,2\n\n",
		"empty":  "",
		"null":   "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,\n",
		"error":  "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"bucket \"\"games\"\" not found\",\n",
		"no val": "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_count\n,,0,4\n",
	}
	var gotScript string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/query" || r.URL.Query().Get("org") != "acme" {
			http.Error(w, `{"code":"not found","message":"path not found"}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Token t0k" {
			http.Error(w, `{"code":"unauthorized","message":"unauthorized access"}`, http.StatusUnauthorized)
			return
		}
		var in struct{ Query, Type string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Type != "flux" {
			http.Error(w, `{"code":"invalid","message":"bad request"}`, http.StatusBadRequest)
			return
		}
		gotScript = in.Query
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = io.WriteString(w, answers[r.Header.Get("X-Case")])
	}))
	defer srv.Close()
	script := `from(bucket: "games") |> range(start: v.timeRangeStart, stop: v.timeRangeStop) |> sum()`
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		want    float64
		wantErr error
	}{{"one", 42.5, nil}, {"two tables", 0, metrics.ErrTooManySeries}, {"empty", 0, metrics.ErrNoData},
		{"null", math.NaN(), nil}, {"error", 0, metrics.ErrQuery}, {"no val", 0, metrics.ErrQuery}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := New(t.Context(), metrics.ProviderConfig{Address: srv.URL, Secret: metrics.Secret{"token": "t0k", "org": "acme"},
				Headers: map[string]string{"X-Case": tc.name}})
			v, err := p.(metrics.WindowProvider).QueryWindow(t.Context(), script, end.Add(-10*time.Minute), end)
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
	if !strings.HasPrefix(gotScript, "option v = {timeRangeStart: 2026-12-01T11:50:00.000000001Z, timeRangeStop: 2026-12-01T12:00:00.000000001Z}\n") {
		t.Errorf("script sent: %q", gotScript)
	}
	p, _ := New(t.Context(), metrics.ProviderConfig{Address: srv.URL, Secret: metrics.Secret{"token": "wrong", "org": "acme"}})
	if _, err := p.(metrics.WindowProvider).QueryWindow(t.Context(), script, end.Add(-time.Minute), end); !errors.Is(err, metrics.ErrQuery) {
		t.Errorf("wrong token: %v", err)
	}
}
