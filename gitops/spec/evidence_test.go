package spec

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// oldStatus is a status file as birdwatch wrote it before the named
// schema: no baseline (promotion made the canary stable, so only the
// start decision's reason names it) and the sequential evidence as a
// positional list.
const oldStatus = `# Written by birdwatch; do not edit. Delete this file to restart the rollout.
generation: v04
stable: v04
phase: Succeeded
step: 4
weight: 0
failures: 0
inconclusives: 0
evidence:
  error-rate:
    kind: counts/v1
    values: [0.25, 3, 1, 2, 900, 5, 9100, 2, 1.5, 2.25, 0, 1, 0.5, 0]
  latency:
    kind: samples/v9
    values: [1, 2, 3]
history:
  - at: 2026-11-26T14:00:00Z
    decision: start
    step: 0
    weight: 0
    reason: new canary v04 (stable v03)
`

// TestOldStatusReadsAndWritesNew: an old status file keeps working; it is
// written back with an explicit baseline and named evidence fields, and
// that form reads back to the same status.
func TestOldStatusReadsAndWritesNew(t *testing.T) {
	st, err := ParseStatus("s.yaml", []byte(oldStatus))
	if err != nil {
		t.Fatal(err)
	}
	if st.Baseline != "v03" {
		t.Errorf("baseline %q, want v03 from the start decision", st.Baseline)
	}
	want := []float64{0.25, 3, 1, 2, 900, 5, 9100, 2, 1.5, 2.25, 0, 1, 0.5, 0}
	if ev := st.Evidence["error-rate"]; ev.Kind != CountsKind || !slices.Equal(ev.Values, want) {
		t.Errorf("evidence %+v", ev)
	}
	b, err := MarshalStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"baseline: v03", "counts:", "tolerance: 0.25", "intervals: 3", "skipped: 1",
		"canaryBad: 2", "canaryTotal: 900", "baselineBad: 5", "baselineTotal: 9100", "up: [1.5, 2.25]",
		"upFutility: [0.5]", "kind: samples/v9", "values: [1, 2, 3]"} {
		if !strings.Contains(string(b), line) {
			t.Errorf("new form lacks %q:\n%s", line, b)
		}
	}
	if strings.Contains(string(b), "values: [0.25") {
		t.Errorf("counts still positional:\n%s", b)
	}
	again, err := ParseStatus("s.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := MarshalStatus(again)
	if string(b) != string(b2) || !slices.Equal(again.Evidence["error-rate"].Values, want) {
		t.Errorf("new form does not round-trip:\n%s\n---\n%s", b, b2)
	}
}

// TestBadEvidenceNamesTheLine: evidence in an unknown form is an error
// naming file and line, never read as something else.
func TestBadEvidenceNamesTheLine(t *testing.T) {
	tests := []struct{ name, evidence, want string }{
		{"counts and values", "    kind: counts/v1\n    counts: {tolerance: 1}\n    values: [1]\n", "s.yaml:4: evidence has both counts and values"},
		{"counts of another kind", "    kind: other\n    counts: {tolerance: 1}\n", `s.yaml:4: evidence of kind "other" cannot hold counts`},
		{"unknown count field", "    kind: counts/v1\n    counts: {tolerence: 1}\n", "s.yaml:5: tolerence: unknown field"},
		{"unknown skips field", "    kind: counts/v1\n    values: [1]\n    skips: {window: 1}\n", "s.yaml:6: window: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatus("s.yaml", []byte("generation: v04\nevidence:\n  error-rate:\n"+tt.evidence))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSkipsAddUp: each look's left-out data is counted (a look with a
// window skipped once, each pod), its reasons kept newest last and capped,
// and the sum survives the status file.
func TestSkipsAddUp(t *testing.T) {
	at := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	var s *Skips
	if s.Add(at, nil) != nil {
		t.Fatal("nothing left out must stay nil")
	}
	looks := [][]string{
		{`canary {pod="a"}: appeared mid-window`},
		{"canary window skipped: requests: every pod with samples in the window was left out", `canary {pod="a"}: counter reset`},
		nil,
		{"baseline window skipped: x", "canary window skipped: y", `baseline {pod="b"}: vanished`, `baseline {pod="c"}: vanished`},
	}
	for i, l := range looks {
		s = s.Add(at.Add(time.Duration(i)*time.Minute), l)
	}
	if s.Windows != 2 || s.Pods != 4 || len(s.Last) != SkipReasonsLimit ||
		s.Last[SkipReasonsLimit-1] != `2026-12-08T03:03:00Z baseline {pod="c"}: vanished` ||
		s.Last[0] != `2026-12-08T03:01:00Z canary {pod="a"}: counter reset` {
		t.Fatalf("got %+v", s)
	}
	st := &Status{Generation: "v04", Evidence: map[string]Evidence{"error-rate": {Kind: CountsKind,
		Values: []float64{0.25, 3, 1, 2, 900, 5, 9100, 0, 0, 0, 0}, Skips: s}}}
	b, err := MarshalStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseStatus("s.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Evidence["error-rate"].Skips; got == nil || got.Windows != 2 || !slices.Equal(got.Last, s.Last) {
		t.Errorf("skips do not round-trip: %+v\n%s", got, b)
	}
}
