package promtest

import (
	"reflect"
	"testing"
	"time"
)

func TestIstioGenerate(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	base := Istio{
		Service: "aleph", Namespace: "games", Start: t0, End: t0.Add(10 * time.Minute), Seed: 7,
		Versions: []IstioVersion{{Version: "v1", RPS: 20, ErrorRatio: 0.1, LatencyMedianMs: 100, LatencySigma: 0.5}},
	}
	with := func(mod func(*Istio)) Istio {
		g := base
		g.Versions = append([]IstioVersion(nil), base.Versions...)
		mod(&g)
		return g
	}
	dest := map[string]string{"reporter": "destination", "destination_version": "v1"}
	tests := []struct {
		name       string
		gen        Istio
		assertions func(t *testing.T, fams []Family, err error)
	}{
		{
			name: "same seed gives the same data",
			gen:  base,
			assertions: func(t *testing.T, fams []Family, err error) {
				again, err2 := base.Generate()
				if err != nil || err2 != nil {
					t.Fatal(err, err2)
				}
				if !reflect.DeepEqual(fams, again) {
					t.Error("two runs differ")
				}
			},
		},
		{
			name: "counters grow, buckets are cumulative and +Inf equals the request count",
			gen:  base,
			assertions: func(t *testing.T, fams []Family, err error) {
				if err != nil {
					t.Fatal(err)
				}
				reqs := Select(fams, "istio_requests_total", dest)
				if len(reqs) != 2 {
					t.Fatalf("got %d destination request series, want 2 (200 and 503)", len(reqs))
				}
				for _, s := range reqs {
					assertMonotonic(t, s)
					if n := len(s.Samples); n != 61 {
						t.Errorf("%v: %d samples, want 61", s.Labels, n)
					}
					if last := s.Samples[len(s.Samples)-1].V; last == 0 {
						t.Errorf("%v: no requests generated", s.Labels)
					}
					code := map[string]string{"reporter": "destination", "destination_version": "v1", "response_code": s.Label("response_code")}
					inf := Select(fams, "istio_request_duration_milliseconds_bucket", merge(code, "le", "+Inf"))
					if len(inf) != 1 || !reflect.DeepEqual(inf[0].Samples, s.Samples) {
						t.Errorf("%v: +Inf bucket differs from the request counter", s.Labels)
					}
					assertCumulative(t, Select(fams, "istio_request_duration_milliseconds_bucket", code))
				}
				if src := Select(fams, "istio_requests_total", map[string]string{"reporter": "source"}); len(src) != 2 {
					t.Errorf("got %d source-reported series, want 2", len(src))
				}
			},
		},
		{
			name: "no errors means no 503 series",
			gen:  with(func(g *Istio) { g.Versions[0].ErrorRatio = 0 }),
			assertions: func(t *testing.T, fams []Family, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got := Select(fams, "istio_requests_total", merge(dest, "response_code", "503")); len(got) != 0 {
					t.Errorf("got %d 503 series, want none", len(got))
				}
			},
		},
		{
			name: "zero traffic keeps counters at zero",
			gen:  with(func(g *Istio) { g.Versions[0].RPS = 0 }),
			assertions: func(t *testing.T, fams []Family, err error) {
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range Select(fams, "istio_requests_total", nil) {
					for _, smp := range s.Samples {
						if smp.V != 0 {
							t.Fatalf("%v at %v = %v, want 0", s.Labels, smp.T, smp.V)
						}
					}
				}
			},
		},
		{
			name: "a reset drops every counter and a gap drops samples",
			gen: with(func(g *Istio) {
				g.Versions[0].Resets = []time.Time{t0.Add(5 * time.Minute)}
				g.Versions[0].Gaps = []Gap{{From: t0.Add(2 * time.Minute), To: t0.Add(3 * time.Minute)}}
			}),
			assertions: func(t *testing.T, fams []Family, err error) {
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range Select(fams, "istio_requests_total", dest) {
					if n := len(s.Samples); n != 55 {
						t.Errorf("%v: %d samples, want 61-6", s.Labels, n)
					}
					before, after := valueAt(s, t0.Add(290*time.Second)), valueAt(s, t0.Add(5*time.Minute))
					if !(after < before) {
						t.Errorf("%v: no reset: %v then %v", s.Labels, before, after)
					}
				}
			},
		},
		{
			name: "sub-second step is rejected",
			gen:  with(func(g *Istio) { g.Step = 1500 * time.Millisecond }),
			assertions: func(t *testing.T, _ []Family, err error) {
				if err == nil {
					t.Error("want an error")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fams, err := tc.gen.Generate()
			tc.assertions(t, fams, err)
		})
	}
}

func merge(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}

func valueAt(s Series, at time.Time) float64 {
	for _, smp := range s.Samples {
		if smp.T.Equal(at) {
			return smp.V
		}
	}
	return -1
}

func assertMonotonic(t *testing.T, s Series) {
	t.Helper()
	for i := 1; i < len(s.Samples); i++ {
		if s.Samples[i].V < s.Samples[i-1].V {
			t.Errorf("%v decreases at %v", s.Labels, s.Samples[i].T)
		}
	}
}

// assertCumulative checks that at every scrape each bucket holds at least as
// many observations as the bucket before it (buckets are in le order).
func assertCumulative(t *testing.T, buckets []Series) {
	t.Helper()
	if len(buckets) != len(IstioBuckets)+1 {
		t.Fatalf("got %d buckets, want %d", len(buckets), len(IstioBuckets)+1)
	}
	for i := 1; i < len(buckets); i++ {
		for j := range buckets[i].Samples {
			if buckets[i].Samples[j].V < buckets[i-1].Samples[j].V {
				t.Errorf("bucket le=%s below le=%s", buckets[i].Label("le"), buckets[i-1].Label("le"))
			}
		}
	}
}
