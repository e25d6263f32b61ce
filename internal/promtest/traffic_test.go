package promtest

import (
	"testing"
	"time"
)

func TestTrafficGenerate(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ver := func(name string, errRatio float64) TrafficVersion {
		return TrafficVersion{Labels: []Label{{Name: "version", Value: name}}, RPS: 10, ErrorRatio: errRatio,
			LatencyMedianMs: 50, LatencySigma: 0.5, Gaps: []Gap{{From: start.Add(time.Minute), To: start.Add(2 * time.Minute)}}}
	}
	tests := []struct {
		name        string
		shape       Shape
		errRatio    float64
		wantCounter int // counter series per version
		wantHist    int // histogram series (buckets + sum + count) per version
	}{
		{name: "linkerd with failures", shape: LinkerdShape(), errRatio: 0.3, wantCounter: 2, wantHist: 2 * (len(LinkerdBuckets) + 3)},
		{name: "nginx healthy", shape: NginxShape(), wantCounter: 1, wantHist: len(PrometheusBuckets) + 3},
		{name: "envoy histogram has no code label", shape: EnvoyShape(), errRatio: 0.3, wantCounter: 2, wantHist: len(IstioBuckets) + 3},
		{name: "http with failures", shape: HTTPShape(), errRatio: 0.1, wantCounter: 2, wantHist: 2 * (len(PrometheusBuckets) + 3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := Traffic{Shape: tc.shape, Start: start, End: start.Add(5 * time.Minute), Seed: 1, Versions: []TrafficVersion{ver("a", tc.errRatio)}}
			fams, err := g.Generate()
			if err != nil {
				t.Fatal(err)
			}
			counters := Select(fams, tc.shape.CounterSeries, nil)
			if len(counters) != tc.wantCounter || len(fams[1].Series) != tc.wantHist {
				t.Fatalf("got %d counter and %d histogram series, want %d and %d", len(counters), len(fams[1].Series), tc.wantCounter, tc.wantHist)
			}
			// 31 scrapes in 5m at 10s, 6 of them in the gap.
			if n := len(counters[0].Samples); n != 25 {
				t.Errorf("got %d samples, want 25", n)
			}
			var total, inf float64
			for _, c := range counters {
				total += c.Samples[len(c.Samples)-1].V
			}
			for _, b := range Select(fams, tc.shape.Histogram+"_bucket", map[string]string{"le": "+Inf"}) {
				inf += b.Samples[len(b.Samples)-1].V
			}
			if total == 0 || total != inf {
				t.Errorf("counter total %v, +Inf buckets %v: want equal and positive", total, inf)
			}
			fail := Select(fams, tc.shape.CounterSeries, map[string]string{tc.shape.CodeLabel: tc.shape.Fail})
			if (len(fail) > 0) != (tc.errRatio > 0) {
				t.Errorf("failure series %d with error ratio %v", len(fail), tc.errRatio)
			}
		})
	}
}

func TestTrafficGenerateErrors(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		g    Traffic
	}{
		{name: "end before start", g: Traffic{Shape: HTTPShape(), Start: start, End: start}},
		{name: "sub-second step", g: Traffic{Shape: HTTPShape(), Start: start, End: start.Add(time.Hour), Step: time.Millisecond}},
		{name: "empty shape", g: Traffic{Start: start, End: start.Add(time.Hour)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.g.Generate(); err == nil {
				t.Error("Generate() succeeded, want an error")
			}
		})
	}
}
