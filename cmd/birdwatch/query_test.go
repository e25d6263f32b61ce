package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// queryData is half an hour of Istio metrics for games/aleph (v03 healthy,
// v04 failing 60% of its requests) and NGINX metrics through the ingresses
// aleph (v03) and aleph-canary (v04).
func queryData(t *testing.T, start time.Time) []byte {
	t.Helper()
	istio, err := promtest.Istio{Service: "aleph", Namespace: "games", Start: start, End: start.Add(30 * time.Minute), Seed: 3,
		Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 10, ErrorRatio: 0.001, LatencyMedianMs: 50, LatencySigma: 0.3},
			{Version: "v04", RPS: 10, ErrorRatio: 0.6, LatencyMedianMs: 300, LatencySigma: 0.3},
		}}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	// ingress-nginx labels both sides with the main Ingress; the canary's
	// requests also carry the canary backend's upstream name, the main
	// backend's an empty one (the shapes test covers "-").
	ing := func(canary string) []promtest.Label {
		return []promtest.Label{{Name: "namespace", Value: "games"}, {Name: "ingress", Value: "aleph"}, {Name: "canary", Value: canary}}
	}
	nginx, err := promtest.Traffic{Shape: promtest.NginxShape(), Start: start, End: start.Add(30 * time.Minute), Seed: 4,
		Versions: []promtest.TrafficVersion{
			{Labels: ing(""), RPS: 10, LatencyMedianMs: 50, LatencySigma: 0.3},
			{Labels: ing("games-aleph-canary-80"), RPS: 10, ErrorRatio: 0.6, LatencyMedianMs: 50, LatencySigma: 0.3},
		}}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(append(istio, nginx...))
	if err != nil {
		t.Fatal(err)
	}
	return om
}

// field returns the number printed after name at the start of a line.
func field(t *testing.T, out, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %s line in:\n%s", name, out)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s %q: %v", name, m[1], err)
	}
	return v
}

func TestQuery(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := promtest.Start(t, promtest.Options{OpenMetrics: queryData(t, start)})
	at := start.Add(20 * time.Minute)
	p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	// direct measures the same thing through the library, for comparison.
	direct := func(t *testing.T, tmpl string, v metrics.Vars) metrics.Measurement {
		t.Helper()
		tp, err := templates.Metric(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		m, err := metrics.Measure(t.Context(), p, tp, v, at)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := []string{"query", "--prometheus", srv.URL(), "--at", at.Format(time.RFC3339), "--namespace", "games", "--service", "aleph", "--window", "5m"}
	tests := []struct {
		name    string
		args    []string
		wantErr error
		check   func(t *testing.T, out string)
	}{
		{name: "error rate of the failing version", args: []string{"--template", "istio-error-rate", "--version", "v04"},
			check: func(t *testing.T, out string) {
				m := direct(t, "istio-error-rate", metrics.Vars{Service: "aleph", Namespace: "games", Version: "v04", Window: 5 * time.Minute})
				if r, e, v := field(t, out, "requests"), field(t, out, "errors"), field(t, out, "value"); r != m.Requests || e != m.Errors || v < 50 || v > 70 {
					t.Errorf("requests %v errors %v value %v; library says %v %v %v", r, e, v, m.Requests, m.Errors, m.Value)
				}
				if !strings.Contains(out, `destination_version="v04"`) || !strings.Contains(out, "query (errors)") {
					t.Errorf("rendered queries missing:\n%s", out)
				}
				if !regexp.MustCompile(`(?m)^counted +from raw counter samples`).MatchString(out) {
					t.Errorf("how the counts were read missing:\n%s", out)
				}
			}},
		{name: "p99 in ms has no error count", args: []string{"--template", "istio-latency-p99", "--version", "v03"},
			check: func(t *testing.T, out string) {
				if v := field(t, out, "value"); v < 50 || v > 250 {
					t.Errorf("p99 %v ms, want between the median and a few sigmas", v)
				}
				if strings.Contains(out, "\nerrors ") || !strings.Contains(out, " ms\n") {
					t.Errorf("unexpected output:\n%s", out)
				}
			}},
		{name: "the latency histogram, bucket by bucket", args: []string{"--template", "istio-latency-buckets", "--version", "v03"},
			check: func(t *testing.T, out string) {
				m := direct(t, "istio-latency-buckets", metrics.Vars{Service: "aleph", Namespace: "games", Version: "v03", Window: 5 * time.Minute})
				line := regexp.MustCompile(`(?m)^buckets +(.*)$`).FindStringSubmatch(out)
				want := fmt.Sprintf("le=+Inf:%g", m.Buckets.Total())
				if line == nil || !strings.Contains(line[1], want) || !(m.Buckets.Total() > 0) || !strings.Contains(out, "query (buckets)") {
					t.Errorf("want a buckets line with %s:\n%s", want, out)
				}
			}},
		{name: "nginx canary backend through --arg", args: []string{"--template", "nginx-error-rate", "--version", "v04", "--stable", "v03",
			"--canary", "v04", "--arg", "ingress=aleph"},
			check: func(t *testing.T, out string) {
				if v := field(t, out, "value"); v < 50 || v > 70 {
					t.Errorf("canary error rate %v, want about 60", v)
				}
			}},
		{name: "nginx main backend through --arg", args: []string{"--template", "nginx-error-rate", "--version", "v03", "--stable", "v03",
			"--canary", "v04", "--arg", "ingress=aleph"},
			check: func(t *testing.T, out string) {
				if v := field(t, out, "value"); v != 0 {
					t.Errorf("stable error rate %v, want 0", v)
				}
			}},
		{name: "unknown version shows the queries and no data", args: []string{"--template", "istio-error-rate", "--version", "v99"},
			wantErr: metrics.ErrNoData, check: func(t *testing.T, out string) {
				if !strings.Contains(out, `destination_version="v99"`) || strings.Contains(out, "value") {
					t.Errorf("want the queries and no value:\n%s", out)
				}
			}},
		{name: "missing template argument", args: []string{"--template", "nginx-error-rate", "--version", "v03"}, wantErr: metrics.ErrTemplate},
		{name: "unknown template", args: []string{"--template", "nope", "--version", "v03"}, wantErr: templates.ErrUnknownTemplate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t, append(append([]string(nil), base...), tc.args...)...)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
				t.Fatalf("error = %v, want %v\n%s", err, tc.wantErr, out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

func TestQueryNeedsPrometheus(t *testing.T) {
	t.Setenv("BIRDWATCH_PROMETHEUS_URL", "")
	_, _, err := run(t, "query", "--template", "istio-error-rate", "--service", "aleph", "--version", "v03")
	if err == nil || !strings.Contains(err.Error(), "Prometheus URL") {
		t.Errorf("error = %v, want a missing-URL error", err)
	}
}
