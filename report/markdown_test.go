package report

import (
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

var updateMarkdown = flag.Bool("update-markdown", false, "rewrite the Markdown golden files in testdata/ (go test -run Markdown -update-markdown)")

var mdT0 = time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)

func mdPtr[T any](v T) *T { return &v }

// mdAleph is the example canary, parsed from YAML like the loop does.
func mdAleph(t *testing.T, canary string) *spec.Canary {
	t.Helper()
	doc := `apiVersion: birdwatch.dev/v1alpha1
kind: Canary
metadata: {name: aleph, namespace: games}
spec:
  stable: v03
  canary: ` + canary + `
  traffic: {provider: istio, file: apps/games/aleph/virtualservice.yaml, stableSubset: production, canarySubset: canary}
  steps:
    - setWeight: 1
    - analyze: 5m
    - setWeight: 10
    - analyze: 10m
    - setWeight: 50
    - pause: {}
    - setWeight: 100
  analysis:
    metrics:
      - {name: error-rate, template: istio-error-rate, max: 1}
`
	cs, err := spec.ParseCanaries(".birdwatch/aleph.yaml", []byte(doc), spec.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

func mdPassing() *judge.Result {
	return &judge.Result{Judge: "sequential", Verdict: judge.VerdictPass, Score: 100, Metrics: []judge.MetricResult{
		{Name: "error-rate", Unit: "percent", Classification: judge.Pass, Canary: 0.11, Baseline: 0.10, EValue: 1.4, Reason: "within limits"},
		{Name: "latency-p99", Unit: "ms", Classification: judge.Pass, Canary: 212, Baseline: 205.3},
	}}
}

func mdHistory() []spec.HistoryEntry {
	return []spec.HistoryEntry{
		{At: mdT0, Decision: "start", Step: 0, Weight: 0, Trigger: "webhook", Reason: "new canary v04 (stable v03)"},
		{At: mdT0, Decision: "advance", Step: 1, Weight: 1, Trigger: "webhook", Reason: "weight 0 -> 1"},
		{At: mdT0.Add(6 * time.Minute), Decision: "advance", Step: 3, Weight: 10, Trigger: "schedule", Reason: "analysis passed"},
	}
}

func TestDecisionMarkdownGolden(t *testing.T) {
	c := mdAleph(t, "v04")
	start := rollout.Decide(rollout.Input{Canary: c, Now: mdT0, Trigger: "webhook"})
	paused := &spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhasePaused, Step: 5, Weight: 50, History: mdHistory()}
	refused := rollout.Decide(rollout.Input{Canary: c, Status: &spec.Status{Generation: "v04", Stable: "v03",
		Phase: spec.PhaseWaitingForSync, Step: 1, Weight: 1, WeightSetAt: &mdT0}, Now: mdT0.Add(time.Second), ManifestWeight: 1,
		Command: &rollout.Command{Kind: rollout.CmdPromote, Actor: "github:alice", ID: "github-comment-1"}})
	tests := []struct {
		name string
		in   Decision
	}{
		{name: "start", in: Decision{Canary: c.Key(), Steps: len(c.Spec.Steps), Decision: start,
			Commit: "0123456789abcdef0123456789abcdef01234567", CommitURL: "https://github.com/acme/fleet/commit/0123456789abcdef0123456789abcdef01234567", History: 5}},
		{name: "advance", in: Decision{Canary: c.Key(), Steps: 7, Analysis: mdPassing(), Commit: "89abcdef0123456789abcdef0123456789abcdef",
			Decision: rollout.Decision{Action: rollout.ActionAdvance, From: 1, SetWeight: mdPtr(10), Reason: "weight 1 -> 10: analysis passed",
				Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseWaitingForSync, Step: 3, Weight: 10, History: mdHistory()}}, History: 2}},
		{name: "rollback", in: Decision{Canary: c.Key(), Steps: 7, Commit: "fedcba9876543210fedcba9876543210fedcba98",
			Analysis: &judge.Result{Judge: "threshold", Verdict: judge.VerdictFail, Score: 50, Critical: true, Reason: "critical metric failed: error-rate High",
				Metrics: []judge.MetricResult{
					{Name: "error-rate", Unit: "percent", Classification: judge.High, Canary: 50, Baseline: 0.1, Reason: "50% above max 1%", Critical: true},
					{Name: "latency-p99", Unit: "ms", Classification: judge.NoData, Canary: math.NaN(), Baseline: 98.5, Reason: "no data"},
					{Name: "saturation", Classification: judge.Error, Canary: math.NaN(), Baseline: math.NaN(), Reason: "query failed: connection refused"},
				}},
			Decision: rollout.Decision{Action: rollout.ActionRollback, From: 10, SetWeight: mdPtr(0), Reason: "critical metric failed",
				Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseRolledBack, Step: 3, Weight: 0}}}},
		{name: "refused", in: Decision{Canary: c.Key(), Steps: 7, Decision: refused}},
		{name: "paused", in: Decision{Canary: c.Key(), Steps: 7, Decision: rollout.Decision{Action: rollout.ActionWait, Status: *paused}}},
		{name: "error", in: Decision{Canary: c.Key(), Err: errors.New("push rejected: branch moved")}},
		{name: "escaping", in: Decision{Canary: "games/<b>aleph</b>", Steps: 1,
			Analysis: &judge.Result{Judge: "threshold", Verdict: judge.VerdictPass, Score: 100, Metrics: []judge.MetricResult{
				{Name: "a|b <!-- x -->", Classification: judge.Pass, Canary: 1, Baseline: 2, Reason: "line one\nline *two* `x` [l](u)"}}},
			Decision: rollout.Decision{Action: rollout.ActionHold, Reason: "# not a heading",
				Status: spec.Status{Generation: "v`1|2", Phase: spec.PhaseProgressing, Weight: 5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mdGolden(t, "decision-"+tt.name+".md", DecisionMarkdown(tt.in))
		})
	}
}

func TestStatusMarkdownGolden(t *testing.T) {
	c := mdAleph(t, "v04")
	st := &spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseProgressing, Step: 3, Weight: 10,
		WeightSetAt: mdPtr(mdT0.Add(6 * time.Minute)), Message: "analysing at 10%", History: mdHistory(),
		LastAnalysis: &spec.AnalysisRecord{At: mdT0.Add(8 * time.Minute), Judge: "sequential", Verdict: "Pass", Score: 100,
			Metrics: []spec.MetricRecord{{Name: "error-rate", Classification: "Pass", Canary: mdPtr(0.11), Baseline: mdPtr(0.1), Unit: "percent", Reason: "e=1.4"},
				{Name: "latency-p99", Classification: "NoData", Unit: "ms"}}}}
	tests := []struct {
		name    string
		entry   FleetEntry
		history int
	}{
		{name: "not-started", entry: FleetEntry{Canary: mdAleph(t, "v05")}},
		{name: "progressing", entry: FleetEntry{Canary: c, Status: st}, history: 2},
		{name: "bad-input", entry: FleetEntry{Canary: c, Status: badInputStatus(st)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mdGolden(t, "status-"+tt.name+".md", StatusMarkdown(tt.entry, tt.history)) })
	}
}

// badInputStatus is st after a look that left a canary pod out and
// earlier looks that skipped a window: the last look's leftOut and the
// evidence's skips, as the status file carries them.
func badInputStatus(st *spec.Status) *spec.Status {
	c := *st
	la := *st.LastAnalysis
	la.Metrics = slices.Clone(la.Metrics)
	la.Metrics[0].LeftOut = []string{`canary {pod="aleph-v04-7c9"}: appeared mid-window: no sample in the 2 scrape intervals (30s) before the window, first at 2026-11-20T11:07:42Z`}
	c.LastAnalysis = &la
	var sk *spec.Skips
	sk = sk.Add(mdT0.Add(5*time.Minute), []string{"baseline window skipped: requests: every pod with samples in the window was left out",
		`baseline {pod="aleph-v03-1"}: series istio_requests_total{response_code="200"}: counter reset`})
	sk = sk.Add(mdT0.Add(8*time.Minute), la.Metrics[0].LeftOut)
	c.Evidence = map[string]spec.Evidence{"error-rate": {Kind: spec.CountsKind, Values: []float64{0.25, 3, 1}, Skips: sk}}
	return &c
}

func TestValidationMarkdownGolden(t *testing.T) {
	_, err := spec.ParseCanaries(".birdwatch/beth.yaml", []byte("apiVersion: birdwatch.dev/v1alpha1\nkind: Canary\nmetadata: {name: beth}\nspec:\n  stable: v1\n  canary: v2\n  colour: red\n"), spec.Checks{})
	var perr *spec.Error
	if !errors.As(err, &perr) {
		t.Fatalf("want problems, got %v", err)
	}
	tests := []struct {
		name  string
		files []ValidatedFile
	}{
		{name: "valid", files: []ValidatedFile{{Path: ".birdwatch/aleph.yaml", Canaries: []*spec.Canary{mdAleph(t, "v05")}}}},
		{name: "invalid", files: []ValidatedFile{
			{Path: ".birdwatch/aleph.yaml", Canaries: []*spec.Canary{mdAleph(t, "v05")}},
			{Path: ".birdwatch/beth.yaml", Problems: perr.Problems},
			{Path: ".birdwatch/gone.yaml", Err: "file not found"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mdGolden(t, "validation-"+tt.name+".md", ValidationMarkdown(tt.files)) })
	}
}

func TestEscapingKeepsTablesWhole(t *testing.T) {
	md := DecisionMarkdown(Decision{Canary: "a/b", Analysis: &judge.Result{Metrics: []judge.MetricResult{
		{Name: "x|y", Classification: judge.Pass, Reason: "p|q\nr"}}}})
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| x") {
			if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 6 {
				t.Errorf("row has %d cell separators: %q", n, line)
			}
		}
	}
	if strings.Contains(md, "<!--") {
		t.Error("an HTML comment got through")
	}
}

// mdGolden compares got with testdata/markdown/name, or rewrites it with -update-markdown.
func mdGolden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "markdown", name)
	if *updateMarkdown {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update-markdown to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; got:\n%s", p, got)
	}
}
