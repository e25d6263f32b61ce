package core

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/birdwatch-gitops/birdwatch/report"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// TestBadManifestFreezesOnce: a human edits the VirtualService into a shape
// the provider cannot read. birdwatch freezes the rollout once, naming the
// file and the path, commits nothing more while it stays broken, and goes on
// after the fix and a resume.
func TestBadManifestFreezesOnce(t *testing.T) {
	f := newFleet(t, slowApply)
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
	runOnce(t, e) // weight 10, waiting for sync
	rename := func(from, to string) map[string]fleet.Edit {
		return map[string]fleet.Edit{vsPath: func(b []byte) ([]byte, error) {
			return []byte(strings.Replace(string(b), "subset: "+from, "subset: "+to, 1)), nil
		}}
	}
	if err := f.Commit(t.Context(), "human: rename the canary subset", rename("canary", "canary-old")); err != nil {
		t.Fatal(err)
	}
	out, err := e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil || out[0].Decision.Action != rollout.ActionFreeze || out[0].Commit == "" {
		t.Fatalf("first run on the broken manifest: %+v %v", out, err)
	}
	st := statusAt(t, f, "main")
	if st.Phase != spec.PhaseFrozen || !strings.Contains(st.Message, vsPath) || !strings.Contains(st.Message, `subset "canary"`) {
		t.Errorf("status %s %q", st.Phase, st.Message)
	}
	before := len(subjects(t, f))
	c.advance(time.Minute)
	out, err = e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil || out[0].Err == nil || out[0].Commit != "" || len(subjects(t, f)) != before {
		t.Fatalf("second run committed again or hid the error: %+v %v", out, err)
	}
	if err := f.Commit(t.Context(), "human: fix the subset", rename("canary-old", "canary")); err != nil {
		t.Fatal(err)
	}
	out, err = e.Run(t.Context(), Request{Canary: "games/aleph", Trigger: "test", Command: &rollout.Command{Kind: rollout.CmdResume, Actor: "github:alice"}})
	if err != nil || out[0].Err != nil || out[0].Commit == "" || out[0].Decision.Status.Phase == spec.PhaseFrozen {
		t.Fatalf("resume after the fix: %+v %v", out, err)
	}
}

// TestBadCountInputReachesTheStatus runs the sequential judge in the loop
// on a real Prometheus whose Istio counters carry one kind of bad input
// each, from the metrics layer through the decision step to the status
// file committed over file:// git: the look names what it left out and
// why (lastAnalysis.metrics[].leftOut), the evidence adds it up
// (evidence.error-rate.skips, and counts.skipped for a window skipped
// whole), and the pull-request report says it.
func TestBadCountInputReachesTheStatus(t *testing.T) {
	start := dataEnd.Add(-time.Hour)
	defect := start.Add(150 * time.Second) // inside the rollout's second look
	tests := []struct {
		name string
		// edit changes the generated istio_requests series.
		edit    func(series []promtest.Series) []promtest.Series
		leftOut []string // the look's leftOut, each a prefix
		windows int      // looks skipped whole so far
		pods    int      // pods left out so far
	}{
		{"a canary pod appears mid-window", func(series []promtest.Series) []promtest.Series {
			s := podSeries(series, "v05", "200", "aleph-v05-2")
			for at, v := defect, 0.0; !at.After(dataEnd); at = at.Add(10 * time.Second) {
				v += 20
				s.Samples = append(s.Samples, promtest.Sample{T: at, V: v})
			}
			return append(series, s)
		}, []string{`canary {pod="aleph-v05-2"}: appeared mid-window`}, 0, 1},
		{"one of two canary pods vanishes", func(series []promtest.Series) []promtest.Series {
			series = secondPod(series, "v05")
			for i := range series {
				if hasLabel(series[i], "pod", "aleph-v05-2") {
					series[i].Samples = slices.DeleteFunc(slices.Clone(series[i].Samples), func(s promtest.Sample) bool { return s.T.After(defect) })
				}
			}
			return series
		}, []string{`canary {pod="aleph-v05-2"}: vanished mid-window: last sample at 2026-11-20T11:02:30Z`}, 0, 1},
		{"one of two stable pods restarts", func(series []promtest.Series) []promtest.Series {
			return restart(secondPod(series, "v03"), "aleph-v03-1", defect)
		}, []string{`baseline {pod="aleph-v03-1"}: series istio_requests_total{response_code="200"}: counter reset`}, 0, 1},
		{"the one stable pod restarts", func(series []promtest.Series) []promtest.Series {
			return restart(series, "aleph-v03-1", defect)
		}, []string{"baseline window skipped: requests: every pod with samples in the window was left out", `baseline {pod="aleph-v03-1"}: series istio_requests_total{response_code="200"}: counter reset`}, 1, 1},
		{"a canary series without a pod label turns NaN", func(series []promtest.Series) []promtest.Series {
			s := podSeries(series, "v05", "200", "")
			for at, v := start, 0.0; !at.After(dataEnd); at = at.Add(10 * time.Second) {
				v += 5
				val := v
				if at.Equal(defect) {
					val = math.NaN()
				}
				s.Samples = append(s.Samples, promtest.Sample{T: at, V: val})
			}
			return append(series, s)
		}, []string{`canary window skipped: requests: series istio_requests_total{`}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("needs a real Prometheus")
			}
			prom := badInputPrometheus(t, tc.edit)
			f := newFleet(t, strings.Replace(sequentialSpec, "canary: v04", "canary: v05", 1))
			c := newClock(start)
			e := newEngine(t, openRepo(t, f.URL()), prom, c)
			e.Judges["sequential"] = judge.Sequential{}
			for run := 0; ; run++ {
				o := runOnce(t, e)
				if o.Analysis != nil && len(o.Analysis.Metrics[0].LeftOut) > 0 {
					st := statusAt(t, f, "main")
					if o.Commit == "" || st.LastAnalysis == nil {
						t.Fatalf("the look that left data out was not committed: %+v", o)
					}
					rec := st.LastAnalysis.Metrics[0]
					if rec.Name != "error-rate" || len(rec.LeftOut) != len(tc.leftOut) {
						t.Fatalf("committed leftOut %q, want %q", rec.LeftOut, tc.leftOut)
					}
					for i, want := range tc.leftOut {
						if !strings.HasPrefix(rec.LeftOut[i], want) {
							t.Errorf("committed leftOut %q, want %q", rec.LeftOut[i], want)
						}
					}
					sk := st.Evidence["error-rate"].Skips
					if sk == nil || sk.Windows != tc.windows || sk.Pods != tc.pods || len(sk.Last) != len(tc.leftOut) || !strings.Contains(sk.Last[0], tc.leftOut[0]) {
						t.Errorf("committed skips %+v, want %d windows, %d pods and the reason", sk, tc.windows, tc.pods)
					}
					raw, err := f.Show(t.Context(), "main", ".birdwatch/status/games/aleph.yaml")
					if err != nil || !strings.Contains(raw, "leftOut:") || !strings.Contains(raw, "skips:") {
						t.Errorf("status file without leftOut and skips (%v):\n%s", err, raw)
					}
					if v := st.Evidence["error-rate"].Values; len(v) < 3 || int(v[2]) != tc.windows {
						t.Errorf("counts.skipped of %v, want %d", v, tc.windows)
					}
					md := report.DecisionMarkdown(report.Decision{Canary: "games/aleph", Decision: o.Decision, Analysis: o.Analysis})
					if !strings.Contains(md, "not evidence: "+strings.ReplaceAll(tc.leftOut[0], "_", `\_`)) || !strings.Contains(md, "bad input, not evidence") {
						t.Errorf("the report does not say what was left out:\n%s", md)
					}
					return
				}
				if o.Decision.Status.Phase.Terminal() || run > 10 {
					t.Fatalf("no look left data out by run %d (phase %s)", run, o.Decision.Status.Phase)
				}
				c.advance(time.Minute)
			}
		})
	}
}

// podSeries is a new, empty istio_requests_total series of version with
// response code code, reported by the destination, from pod (no pod label
// when "").
func podSeries(series []promtest.Series, version, code, pod string) promtest.Series {
	for _, s := range series {
		if hasLabel(s, "destination_version", version) && hasLabel(s, "response_code", code) && hasLabel(s, "reporter", "destination") {
			out := promtest.Series{Name: s.Name}
			for _, l := range s.Labels {
				if l.Name != "pod" {
					out.Labels = append(out.Labels, l)
				}
			}
			if pod != "" {
				out.Labels = append(out.Labels, promtest.Label{Name: "pod", Value: pod})
			}
			return out
		}
	}
	panic("no series of version " + version)
}

func hasLabel(s promtest.Series, name, value string) bool { return labelOf(s, name) == value }

func labelOf(s promtest.Series, name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// secondPod adds a second pod of version, aleph-<version>-2, serving what
// the first does.
func secondPod(series []promtest.Series, version string) []promtest.Series {
	for _, s := range series {
		if hasLabel(s, "destination_version", version) {
			c := promtest.Series{Name: s.Name, Samples: s.Samples}
			for _, l := range s.Labels {
				if l.Name == "pod" {
					l.Value = "aleph-" + version + "-2"
				}
				c.Labels = append(c.Labels, l)
			}
			series = append(series, c)
		}
	}
	return series
}

// restart makes pod's 200 series count again from 0 at the first scrape
// at or after at.
func restart(series []promtest.Series, pod string, at time.Time) []promtest.Series {
	for i := range series {
		if hasLabel(series[i], "pod", pod) && hasLabel(series[i], "response_code", "200") {
			smp := slices.Clone(series[i].Samples)
			base := 0.0
			for j := range smp {
				if smp[j].T.Before(at) {
					base = smp[j].V
					continue
				}
				smp[j].V -= base - 1
			}
			series[i].Samples = smp
		}
	}
	return series
}

// badInputPrometheus starts a real Prometheus with two hours of Istio
// metrics of aleph v03 (stable, 100 rps) and v05 (20 rps), one pod each
// (pod label aleph-<version>-1), the requests series changed by edit.
func badInputPrometheus(t *testing.T, edit func([]promtest.Series) []promtest.Series) string {
	t.Helper()
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: dataEnd.Add(-2 * time.Hour), End: dataEnd,
		Step: 10 * time.Second, Seed: 5, Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
			{Version: "v05", RPS: 20, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3}}}
	fams, err := gen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for i := range fams[0].Series {
		s := &fams[0].Series[i]
		s.Labels = append(s.Labels, promtest.Label{Name: "pod", Value: "aleph-" + labelOf(*s, "destination_version") + "-1"})
	}
	fams[0].Series = edit(fams[0].Series)
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	return promtest.Start(t, promtest.Options{OpenMetrics: om}).URL()
}

// TestBadInputInMannWhitneySamples: the per-step samples of the
// mannwhitney judge count as the window does; a canary pod appearing in
// one step is left out of that step's sample, and the look says so
// (LeftOut, the pull-request report) beside the window's own reading.
func TestBadInputInMannWhitneySamples(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	start := dataEnd.Add(-time.Hour)
	prom := badInputPrometheus(t, func(series []promtest.Series) []promtest.Series {
		s := podSeries(series, "v05", "200", "aleph-v05-2")
		for at, v := start.Add(150*time.Second), 0.0; !at.After(dataEnd); at = at.Add(10 * time.Second) {
			v += 20
			s.Samples = append(s.Samples, promtest.Sample{T: at, V: v})
		}
		return append(series, s)
	})
	f := newFleet(t, strings.Replace(mannWhitneySpec, "canary: v04", "canary: v05", 1))
	c := newClock(start)
	e := newEngine(t, openRepo(t, f.URL()), prom, c)
	e.Judges["mannwhitney"] = judge.MannWhitney{}
	for run := 0; run < 12; run++ {
		o := runOnce(t, e)
		if o.Analysis != nil {
			for _, m := range o.Analysis.Metrics {
				for _, why := range m.LeftOut {
					if strings.HasPrefix(why, `canary sample `) && strings.Contains(why, `{pod="aleph-v05-2"}: appeared mid-window`) {
						md := report.DecisionMarkdown(report.Decision{Canary: "games/aleph", Decision: o.Decision, Analysis: o.Analysis})
						if !strings.Contains(md, "not evidence: ") || !strings.Contains(md, "aleph-v05-2") {
							t.Errorf("the report does not say what was left out:\n%s", md)
						}
						return
					}
				}
			}
		}
		if o.Decision.Status.Phase.Terminal() {
			break
		}
		c.advance(time.Minute)
	}
	t.Fatal("no look said a sample step left the new canary pod out")
}
