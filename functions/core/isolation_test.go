package core

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// manyFleet is a fleet of n aleph copies (aleph-0000 ...) plus extra files.
func manyFleet(t *testing.T, n int, extra map[string]string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("needs git")
	}
	files, err := fleet.ManyFiles(testSpec, n)
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range extra {
		files[p] = c
	}
	r, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// byCanary indexes outcomes by canary.
func byCanary(out []Outcome) map[string]Outcome {
	m := map[string]Outcome{}
	for _, o := range out {
		m[o.Canary] = o
	}
	return m
}

// TestOneBadSpecStopsOnlyItself: a typo in one team's file (an unknown
// field) and a namespace/name defined twice are reported, with file, line
// and field, and every other canary is decided in the same run, on one
// fetch, one commit each.
func TestOneBadSpecStopsOnlyItself(t *testing.T) {
	typo := strings.Replace(strings.ReplaceAll(testSpec, "aleph", "typo"), "  stable: v03", "  stabel: v03", 1)
	dup := strings.ReplaceAll(testSpec, "aleph", "aleph-0003")
	f := manyFleet(t, 5, map[string]string{".birdwatch/typo.yaml": typo, ".birdwatch/zz-copy.yaml": dup})
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", newClock(dataEnd))
	out, err := e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	got := byCanary(out)
	for i := range 5 {
		key := fmt.Sprintf("games/aleph-%04d", i)
		o := got[key]
		if i == 3 {
			continue
		}
		if o.Err != nil || o.Decision.Status.Generation != "v04" || o.Decision.Status.Weight != 10 || o.Commit == "" {
			t.Errorf("%s: %s commit %q err %v", key, o.Decision.Action, o.Commit, o.Err)
		}
	}
	if o := got["games/typo"]; o.Err == nil || !strings.Contains(o.Err.Error(), ".birdwatch/typo.yaml:7: spec.stabel: unknown field") {
		t.Errorf("typo: %v", o.Err)
	}
	var dups int
	for _, o := range out {
		if o.Canary == "games/aleph-0003" {
			dups++
			if o.Err == nil || o.Commit != "" || !strings.Contains(o.Err.Error(), "is defined 2 times") {
				t.Errorf("duplicate acted or was not reported: %+v", o)
			}
		}
	}
	if dups != 2 {
		t.Errorf("%d outcomes for the duplicated canary, want both files", dups)
	}
	if n := len(subjects(t, f)); n != 1+4 {
		t.Errorf("%d commits, want the initial one and 4 starts:\n%s", n, strings.Join(subjects(t, f), "\n"))
	}
}

// TestSpecInvalidMidRolloutFreezesOnce: a canary whose own spec stops
// validating in the middle of a rollout is frozen, weight held, with the
// problem (file, line, field) in its status, once.
func TestSpecInvalidMidRolloutFreezesOnce(t *testing.T) {
	f := newFleet(t, testSpec)
	c := newClock(dataEnd)
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
	runOnce(t, e) // start: weight 10
	broken := strings.Replace(testSpec, "    - setWeight: 50", "    - setWeight: 5", 1)
	if err := f.Commit(t.Context(), "human: a bad edit", map[string]fleet.Edit{".birdwatch/aleph.yaml": fleet.Put(broken)}); err != nil {
		t.Fatal(err)
	}
	before := len(subjects(t, f))
	c.advance(time.Minute)
	out, err := e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil || len(out) != 1 || out[0].Decision.Action != rollout.ActionFreeze || out[0].Commit == "" {
		t.Fatalf("first run on the invalid spec: %+v %v", out, err)
	}
	st := statusAt(t, f, "main")
	want := ".birdwatch/aleph.yaml:17: spec.steps[2].setWeight: weights must increase: 5 follows 10"
	if st.Phase != spec.PhaseFrozen || st.Weight != 10 || !strings.Contains(st.Message, want) {
		t.Errorf("status %s weight %d %q", st.Phase, st.Weight, st.Message)
	}
	if w := weightsAt(t, f, "main"); w != "90/10" {
		t.Errorf("weights %s, want held at 90/10", w)
	}
	c.advance(time.Minute)
	out, err = e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil || out[0].Err == nil || out[0].Commit != "" || len(subjects(t, f)) != before+1 {
		t.Fatalf("second run committed again or hid the problem: %+v %v", out, err)
	}
}

// updateOnly hides Commit and Push, as a Repository that commits through
// an API (repo.GitHubRepo) does: each decision lands with its own Update.
type updateOnly struct{ r *repo.Repo }

func (u updateOnly) Fetch(ctx context.Context) (*repo.Snapshot, error) { return u.r.Fetch(ctx) }
func (u updateOnly) Update(ctx context.Context, decide func(*repo.Snapshot) (*repo.Change, error)) (repo.UpdateResult, error) {
	return u.r.Update(ctx, decide)
}

// TestUpdatePathDecidesEveryCanaryOnce: without a Chainer, every canary
// of the tick still gets its one commit, each on top of the last.
func TestUpdatePathDecidesEveryCanaryOnce(t *testing.T) {
	f := manyFleet(t, 3, nil)
	e := newEngine(t, updateOnly{openRepo(t, f.URL())}, "http://127.0.0.1:1", newClock(dataEnd))
	out, err := e.Run(t.Context(), Request{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil || o.Commit == "" || o.Decision.Status.Weight != 10 {
			t.Errorf("%s: commit %q err %v", o.Canary, o.Commit, o.Err)
		}
	}
	if n := len(subjects(t, f)); len(out) != 3 || n != 4 {
		t.Errorf("%d outcomes, %d commits", len(out), n)
	}
}
