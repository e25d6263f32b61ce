package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

const vsPath = "apps/games/aleph/virtualservice.yaml"

func withCanary(v string) string { return strings.Replace(testSpec, "canary: v04", "canary: "+v, 1) }

// slowApply is testSpec with an applier that takes 30s to apply a weight.
var slowApply = testSpec + "  sync: {engine: none, applyDelay: 30s}\n"

// weightsAt reads the VirtualService weights at rev with the real git CLI.
func weightsAt(t *testing.T, f *fleet.Repo, rev string) string {
	t.Helper()
	vs, err := f.Show(t.Context(), rev, vsPath)
	if err != nil {
		t.Fatal(err)
	}
	var w []string
	for i := range 2 {
		v, err := yamledit.Get([]byte(vs), fmt.Sprintf("spec.http[0].route[%d].weight", i))
		if err != nil {
			t.Fatal(err)
		}
		w = append(w, v)
	}
	return strings.Join(w, "/")
}

func statusAt(t *testing.T, f *fleet.Repo, rev string) *spec.Status {
	t.Helper()
	b, err := f.Show(t.Context(), rev, ".birdwatch/status/games/aleph.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := spec.ParseStatus("status", []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func subjects(t *testing.T, f *fleet.Repo) []string {
	t.Helper()
	s, err := f.Subjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoopRollsBackAFailingCanary(t *testing.T) {
	prom := startPrometheus(t)
	f := newFleet(t, testSpec)
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), prom, c)

	if o := runOnce(t, e); o.Decision.Action != rollout.ActionAdvance || o.Commit == "" {
		t.Fatalf("first run: %+v", o.Decision)
	}
	if got := weightsAt(t, f, "main"); got != "90/10" {
		t.Errorf("weights after the first step %s, want 90/10", got)
	}
	runOnce(t, e) // the weight counts as applied (applyDelay 0)
	c.advance(time.Minute)
	o := runOnce(t, e)
	if o.Decision.Action != rollout.ActionRollback || o.Analysis == nil {
		t.Fatalf("after one minute of 50%% errors: %s (%s)", o.Decision.Action, o.Decision.Reason)
	}
	if got := weightsAt(t, f, "main"); got != "100/0" {
		t.Errorf("weights after rollback %s, want 100/0", got)
	}
	st := statusAt(t, f, "main")
	if st.Phase != spec.PhaseRolledBack || !strings.Contains(st.Message, "critical metric failed: error-rate High") {
		t.Errorf("status %s %q", st.Phase, st.Message)
	}
	msg, err := f.Message(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"birdwatch: games/aleph v04 rollback, weight 10 -> 0 (step 1/4)", "error-rate   High",
		"Birdwatch-Canary: games/aleph", "Birdwatch-Decision: rollback", "Birdwatch-Trigger: test"} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	// The measured error rate is the backfilled one, not a constant.
	if m := o.Analysis.Metrics[0]; m.Canary < 40 || m.Canary > 60 || m.Baseline > 1 {
		t.Errorf("error-rate canary %.2f baseline %.2f, want about 50 and 0.1", m.Canary, m.Baseline)
	}
	// The inline query works like a template: about 20 rps x 60 s of canary requests.
	if m := o.Analysis.Metrics[2]; m.Classification != "Pass" || m.Canary < 1000 || m.Canary > 1400 || m.Unit != "requests" {
		t.Errorf("inline requests metric %+v", m)
	}
	// Nothing more happens to a rolled-back generation.
	c.advance(time.Minute)
	before := len(subjects(t, f))
	if o := runOnce(t, e); o.Commit != "" || len(subjects(t, f)) != before {
		t.Errorf("a rolled-back canary was committed again: %+v", o.Decision)
	}
}

func TestLoopPromotesAHealthyCanary(t *testing.T) {
	prom := startPrometheus(t)
	f := newFleet(t, withCanary("v05"))
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), prom, c)
	for i := 0; i < 20; i++ {
		o := runOnce(t, e)
		if o.Decision.Status.Phase == spec.PhaseSucceeded {
			break
		}
		if o.Decision.Action == rollout.ActionRollback {
			t.Fatalf("healthy canary rolled back: %s", o.Decision.Reason)
		}
		c.advance(time.Minute)
	}
	got := subjects(t, f)
	want := []string{
		"birdwatch: games/aleph v05 promoted, weight 50 -> 0, stable v05",
		"birdwatch: games/aleph v05 synced at weight 50 (step 3/4)",
		"birdwatch: games/aleph v05 advance, weight 10 -> 50 (step 3/4)",
		"birdwatch: games/aleph v05 synced at weight 10 (step 1/4)",
		"birdwatch: games/aleph v05 advance, weight 0 -> 10 (step 1/4)",
		"fleet: initial",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := weightsAt(t, f, "main"); w != "100/0" {
		t.Errorf("weights after promotion %s", w)
	}
	dr, _ := f.Show(t.Context(), "main", "apps/games/aleph/destinationrule.yaml")
	if v, _ := yamledit.Get([]byte(dr), "spec.subsets[name=production].labels.version"); v != "v05" {
		t.Errorf("production subset runs %q after promotion, want v05", v)
	}
	// The spec now says stable: v05 and nothing else changed in it.
	specNow, _ := f.Show(t.Context(), "main", ".birdwatch/aleph.yaml")
	if want := strings.Replace(withCanary("v05"), "stable: v03", "stable: v05", 1); specNow != want {
		t.Errorf("spec after promotion:\n%s", specNow)
	}
	if st := statusAt(t, f, "main"); st.Stable != "v05" || st.Phase != spec.PhaseSucceeded {
		t.Errorf("status %+v", st)
	}
}

func TestMetricsOutageNeverAdvances(t *testing.T) {
	f := newFleet(t, withCanary("v05"))
	c := newClock(dataEnd.Add(-time.Hour))
	// Nothing listens on port 1: every query fails.
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
	runOnce(t, e)
	runOnce(t, e)
	var last Outcome
	for range 6 {
		c.advance(time.Minute)
		last = runOnce(t, e)
		if w := last.Decision.Status.Weight; w > 10 {
			t.Fatalf("weight raised to %d during a metrics outage", w)
		}
		if last.Analysis != nil && last.Analysis.Metrics[0].Classification != "Error" {
			t.Errorf("classification %s during an outage", last.Analysis.Metrics[0].Classification)
		}
		if last.Decision.Status.Phase.Terminal() {
			break
		}
	}
	// inconclusiveLimit 2: the third inconclusive look applies onFailure.
	if last.Decision.Action != rollout.ActionRollback || !strings.Contains(last.Decision.Reason, "inconclusive (3 of 2 tolerated)") {
		t.Errorf("last decision %s: %s", last.Decision.Action, last.Decision.Reason)
	}
	if w := weightsAt(t, f, "main"); w != "100/0" {
		t.Errorf("weights %s", w)
	}
}

func TestMalformedSpecCommitsNothing(t *testing.T) {
	bad := strings.Replace(testSpec, "    - setWeight: 50", "    - setWeight: 5", 1)
	f := newFleet(t, bad)
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", newClock(dataEnd))
	out, err := e.Run(t.Context(), Request{})
	if err != nil || len(out) != 1 {
		t.Fatalf("run: %v %+v", err, out)
	}
	var perr *spec.Error
	if err := out[0].Err; !errors.As(err, &perr) || !strings.Contains(err.Error(), ".birdwatch/aleph.yaml:17: spec.steps[2].setWeight: weights must increase: 5 follows 10") {
		t.Fatalf("error %v", err)
	}
	if s := subjects(t, f); len(s) != 1 {
		t.Errorf("commits after a bad spec: %v", s)
	}
}

func TestConcurrentRunsMakeOneCommitPerDecision(t *testing.T) {
	prom := startPrometheus(t)
	f := newFleet(t, slowApply)
	c := newClock(dataEnd.Add(-time.Hour))
	shared := t.TempDir()
	var engines []*Engine
	for i := range 10 {
		cache := t.TempDir()
		if i >= 5 { // half of them share one cache dir
			cache = shared
		}
		engines = append(engines, newEngine(t, openRepoIn(t, f.URL(), cache), prom, c))
	}
	// Three decisions: advance, synced, rollback; each by ten invocations at once.
	for round, step := range []time.Duration{0, 30 * time.Second, time.Minute} {
		c.advance(step)
		var wg gosync.WaitGroup
		errs := make(chan error, len(engines))
		for _, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := e.Run(context.Background(), Request{Trigger: "test"})
				if err == nil && out[0].Err != nil {
					err = out[0].Err
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if n := len(subjects(t, f)); n != round+2 {
			t.Fatalf("after round %d: %d commits, want %d:\n%s", round, n, round+2, strings.Join(subjects(t, f), "\n"))
		}
	}
	if s := subjects(t, f)[0]; !strings.Contains(s, "rollback") {
		t.Errorf("last decision %q", s)
	}
}

// racingRepo pushes a human commit the first time birdwatch decides, so
// birdwatch's push is rejected and it must fetch, re-decide and retry.
type racingRepo struct {
	*repo.Repo
	human func() error
	once  gosync.Once
}

func (r *racingRepo) Push(ctx context.Context, commit, parent *repo.Snapshot) error {
	var err error
	r.once.Do(func() { err = r.human() })
	if err != nil {
		return err
	}
	return r.Repo.Push(ctx, commit, parent)
}

func TestHumanPushDuringADecisionIsKept(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]fleet.Edit
	}{
		{"unrelated file", map[string]fleet.Edit{"apps/other/app.yaml": fleet.Put("kind: ConfigMap\n")}},
		{"same manifest, other line", map[string]fleet.Edit{vsPath: func(b []byte) ([]byte, error) {
			return []byte(strings.Replace(string(b), "# aleph's traffic split.", "# aleph's traffic split (owned by games).", 1)), nil
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, testSpec)
			r := &racingRepo{Repo: openRepo(t, f.URL()), human: func() error {
				return f.Commit(t.Context(), "human: "+tt.name, tt.edits)
			}}
			e := newEngine(t, r, "http://127.0.0.1:1", newClock(dataEnd))
			o := runOnce(t, e)
			if o.Attempts < 2 || o.Commit == "" {
				t.Fatalf("attempts %d commit %q", o.Attempts, o.Commit)
			}
			got := subjects(t, f)
			if len(got) != 3 || got[1] != "human: "+tt.name || !strings.HasPrefix(got[0], "birdwatch: games/aleph v04 advance") {
				t.Errorf("history %q", got)
			}
			if w := weightsAt(t, f, "main"); w != "90/10" {
				t.Errorf("weights %s", w)
			}
			if tt.name != "unrelated file" {
				if vs, _ := f.Show(t.Context(), "main", vsPath); !strings.Contains(vs, "(owned by games)") {
					t.Errorf("human edit lost:\n%s", vs)
				}
			}
		})
	}
}

func TestCommandsAreCommittedAndRefusalsAreNot(t *testing.T) {
	f := newFleet(t, slowApply)
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", newClock(dataEnd))
	runOnce(t, e)
	out, err := e.Run(t.Context(), Request{Canary: "games/aleph", Command: &rollout.Command{Kind: rollout.CmdPromote, Actor: "github:alice"}})
	if err != nil || out[0].Decision.Refused == "" || out[0].Commit != "" {
		t.Fatalf("promote while waiting for sync: %+v %v", out, err)
	}
	out, err = e.Run(t.Context(), Request{Canary: "games/aleph", Command: &rollout.Command{Kind: rollout.CmdAbort, Actor: "github:alice"}})
	if err != nil || out[0].Decision.Action != rollout.ActionRollback || out[0].Commit == "" {
		t.Fatalf("abort: %+v %v", out, err)
	}
	if st := statusAt(t, f, "main"); st.Message != "abort by github:alice" {
		t.Errorf("message %q", st.Message)
	}
	if _, err := e.Run(t.Context(), Request{Canary: "games/nope"}); !errors.Is(err, ErrUnknownCanary) {
		t.Errorf("unknown canary: %v", err)
	}
}
