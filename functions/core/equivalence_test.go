package core

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/simulate"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
)

// TestSimulatorAndLoopDecideAlike runs the same rollouts through the
// simulator (analyzer/simulate: the shared decision step on simulated
// traffic and an in-memory snapshot) and through the loop (Engine.Run on a
// real Git repository over file:// and a real Prometheus holding the
// simulated traffic as Istio counters, backfilled with promtool), one loop
// run per simulated tick at the same time, and requires the same sequence
// of decisions: action, whether it commits, and the committed phase, step
// and weight.
//
// The last case shows the comparison can fail: the loop's Prometheus hides
// the canary's errors of a rollout the simulator rolled back, and the two
// sequences must differ.
func TestSimulatorAndLoopDecideAlike(t *testing.T) {
	short := []simulate.Step{{Weight: 10, Analyze: 3 * time.Minute}, {Weight: 50, Analyze: 3 * time.Minute}}
	healthy, err := simulate.Lookup("healthy-aleph")
	if err != nil {
		t.Fatal(err)
	}
	healthy.Steps = short
	faulty, err := simulate.Lookup("errors-50pct")
	if err != nil {
		t.Fatal(err)
	}
	faulty.Steps = short
	tests := []struct {
		name     string
		scenario simulate.Scenario
		// version labels the traffic of this case in the shared Prometheus.
		version string
		// hideCanaryErrors perturbs the loop's side.
		hideCanaryErrors bool
		wantAlike        bool
		wantEnd          spec.Phase
	}{
		{name: "healthy canary", scenario: healthy, version: "ok", wantAlike: true, wantEnd: spec.PhaseSucceeded},
		{name: "failing canary", scenario: faulty, version: "bad", wantAlike: true, wantEnd: spec.PhaseRolledBack},
		{name: "perturbed: the loop does not see the canary's errors", scenario: faulty, version: "hidden",
			hideCanaryErrors: true, wantAlike: false, wantEnd: spec.PhaseRolledBack},
	}
	traces := make([]*simulate.Trace, len(tests))
	var fams []promtest.Family
	for i, tt := range tests {
		tr, err := simulate.TraceRollout(tt.scenario, judge.Sequential{}, 0, false, 15, 0)
		if err != nil {
			t.Fatal(err)
		}
		if last := tr.Ticks[len(tr.Ticks)-1]; last.Phase != tt.wantEnd {
			t.Fatalf("%s: the simulated rollout ended %s, want %s (ticks %v)", tt.name, last.Phase, tt.wantEnd, tr.Ticks)
		}
		traces[i] = tr
		fams = append(fams, istioFamilies(tr, tt.scenario.SubSteps, tt.version, tt.hideCanaryErrors)...)
	}
	if testing.Short() {
		t.Skip("needs a real Prometheus and git")
	}
	om, err := promtest.OpenMetrics(mergeFamilies(fams))
	if err != nil {
		t.Fatal(err)
	}
	prom := promtest.Start(t, promtest.Options{OpenMetrics: om}).URL()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := traces[i]
			got := replay(t, tr, prom, tt.version)
			alike := slices.Equal(got, tr.Ticks)
			t.Logf("%d decisions, alike %t\n%s", len(got), alike, sideBySide(tr.Ticks, got))
			if alike != tt.wantAlike {
				t.Errorf("alike = %t, want %t\n%s", alike, tt.wantAlike, sideBySide(tr.Ticks, got))
			}
		})
	}
}

// replay runs the loop once per tick of tr, at the tick's time, on a fleet
// repository holding tr's Canary (traffic on the aleph example's Istio
// manifests; versions labelled for this case) and returns its decisions.
func replay(t *testing.T, tr *simulate.Trace, prom, version string) []simulate.Tick {
	t.Helper()
	c := *tr.Canary
	c.Spec.Stable, c.Spec.Canary = "stable-"+version, "canary-"+version
	c.Spec.Traffic = spec.Traffic{Provider: "istio", File: "apps/games/aleph/virtualservice.yaml",
		StableSubset: "production", CanarySubset: "canary"}
	doc, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	for p := range files {
		if strings.HasPrefix(p, ".birdwatch/") {
			delete(files, p) // the example's own Canary
		}
	}
	files[".birdwatch/"+c.Metadata.Name+".yaml"] = string(doc)
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock(tr.Start)
	e := newEngine(t, openRepo(t, f.URL()), prom, clk)
	e.Judges[c.Spec.Analysis.Judge] = judge.Sequential{}
	var got []simulate.Tick
	for _, tick := range tr.Ticks {
		clk.now = tick.At
		o := runOnce(t, e)
		got = append(got, simulate.NewTick(tick.At, o.Decision))
	}
	return got
}

// istioFamilies writes tr's traffic as Istio's destination-reported
// counters, one sample per sub-step from tr.Start: istio_requests_total by
// response code and the latency histogram's count and the bucket at the
// scenario's SLO (what the templates of the simulated spec query).
// Versions are labelled stable-<version> and canary-<version>.
func istioFamilies(tr *simulate.Trace, subSteps int, version string, hideCanaryErrors bool) []promtest.Family {
	sub := tr.Interval / time.Duration(subSteps)
	le := tr.Canary.Spec.Analysis.Metrics[1].Args["le"]
	reqs := promtest.Family{Name: "istio_requests", Type: "counter", Help: "Total requests."}
	hist := promtest.Family{Name: "istio_request_duration_milliseconds", Type: "histogram", Help: "Request duration."}
	for _, side := range []string{"stable", "canary"} {
		labels := func(code string, extra ...promtest.Label) []promtest.Label {
			return append([]promtest.Label{
				{Name: "reporter", Value: "destination"},
				{Name: "destination_service_name", Value: tr.Canary.Spec.Service},
				{Name: "destination_workload_namespace", Value: tr.Canary.Metadata.Namespace},
				{Name: "destination_version", Value: side + "-" + version},
				{Name: "response_code", Value: code},
			}, extra...)
		}
		ok := promtest.Series{Name: "istio_requests_total", Labels: labels("200")}
		bad := promtest.Series{Name: "istio_requests_total", Labels: labels("503")}
		fast := promtest.Series{Name: "istio_request_duration_milliseconds_bucket", Labels: labels("200", promtest.Label{Name: "le", Value: le})}
		all := promtest.Series{Name: "istio_request_duration_milliseconds_bucket", Labels: labels("200", promtest.Label{Name: "le", Value: "+Inf"})}
		sum := promtest.Series{Name: "istio_request_duration_milliseconds_sum", Labels: labels("200")}
		count := promtest.Series{Name: "istio_request_duration_milliseconds_count", Labels: labels("200")}
		var n, e, slow float64
		add := func(at time.Time) {
			for _, s := range []struct {
				s *promtest.Series
				v float64
			}{{&ok, n - e}, {&bad, e}, {&fast, n - slow}, {&all, n}, {&sum, 0}, {&count, n}} {
				s.s.Samples = append(s.s.Samples, promtest.Sample{T: at, V: s.v})
			}
		}
		// Zero counters from an hour before, so that the first window has
		// samples at both ends.
		for at := tr.Start.Add(-time.Hour); !at.After(tr.Start); at = at.Add(sub) {
			add(at)
		}
		at := tr.Start
		for _, iv := range tr.Intervals {
			cnt := iv.Baseline
			if side == "canary" {
				cnt = iv.Canary
			}
			for k := range cnt.Requests {
				errs := cnt.Errors[k]
				if hideCanaryErrors && side == "canary" {
					errs = 0
				}
				n, e, slow = n+cnt.Requests[k], e+errs, slow+cnt.Slow[k]
				at = at.Add(sub)
				add(at)
			}
		}
		reqs.Series = append(reqs.Series, ok, bad)
		hist.Series = append(hist.Series, fast, all, sum, count)
	}
	return []promtest.Family{reqs, hist}
}

// mergeFamilies joins families of the same name (OpenMetrics allows one).
func mergeFamilies(fams []promtest.Family) []promtest.Family {
	var out []promtest.Family
	for _, f := range fams {
		i := slices.IndexFunc(out, func(o promtest.Family) bool { return o.Name == f.Name })
		if i < 0 {
			out = append(out, f)
			continue
		}
		out[i].Series = append(out[i].Series, f.Series...)
	}
	return out
}

// sideBySide prints two tick sequences for a failure message.
func sideBySide(sim, loop []simulate.Tick) string {
	var b strings.Builder
	for i := range max(len(sim), len(loop)) {
		at := func(ts []simulate.Tick) string {
			if i < len(ts) {
				return ts[i].String()
			}
			return "-"
		}
		mark := " "
		if at(sim) != at(loop) {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s %-3s simulator: %-60s loop: %s\n", mark, strconv.Itoa(i), at(sim), at(loop))
	}
	return b.String()
}
