package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// errKilled stands for the process being killed at that point.
var errKilled = errors.New("killed")

// crashingRepo decides and commits into the shared cache like the real loop,
// then dies at the chosen point: before the commit or after it, before the push.
type crashingRepo struct {
	*repo.Repo
	afterCommit bool
}

func (r *crashingRepo) Commit(ctx context.Context, parent *repo.Snapshot, c repo.Change) (*repo.Snapshot, error) {
	if !r.afterCommit {
		return nil, errKilled
	}
	return r.Repo.Commit(ctx, parent, c)
}

func (r *crashingRepo) Push(ctx context.Context, commit, parent *repo.Snapshot) error {
	return errKilled
}

// failingNotifier dies after the push, before the report.
type failingNotifier struct{ calls int }

func (n *failingNotifier) Notify(context.Context, *spec.Canary, Outcome) error {
	n.calls++
	return errKilled
}

// TestKilledMidCycleConverges kills a run at each point of a decision and
// reruns with a fresh process on the same cache dir: the decision lands
// exactly once, and nothing half-done is left behind.
func TestKilledMidCycleConverges(t *testing.T) {
	tests := []struct {
		name       string
		crash      func(t *testing.T, url, cache string, c *clock) // the killed run
		wantBefore int                                             // commits after the killed run
	}{
		{"killed before the commit", func(t *testing.T, url, cache string, c *clock) {
			e := newEngine(t, &crashingRepo{Repo: openRepoIn(t, url, cache)}, "http://127.0.0.1:1", c)
			out, _ := e.Run(t.Context(), Request{Trigger: "test"})
			if len(out) != 1 || !errors.Is(out[0].Err, errKilled) {
				t.Fatalf("the killed run: %+v", out)
			}
		}, 1},
		{"killed after the commit, before the push", func(t *testing.T, url, cache string, c *clock) {
			e := newEngine(t, &crashingRepo{Repo: openRepoIn(t, url, cache), afterCommit: true}, "http://127.0.0.1:1", c)
			out, _ := e.Run(t.Context(), Request{Trigger: "test"})
			if len(out) != 1 || !errors.Is(out[0].Err, errKilled) {
				t.Fatalf("the killed run: %+v", out)
			}
		}, 1},
		{"killed after the push, before the report", func(t *testing.T, url, cache string, c *clock) {
			n := &failingNotifier{}
			e := newEngine(t, openRepoIn(t, url, cache), "http://127.0.0.1:1", c)
			e.Notifiers = []Notifier{n}
			out, err := e.Run(t.Context(), Request{Trigger: "test"})
			if err != nil || out[0].Commit == "" || n.calls != 1 {
				t.Fatalf("the run that lost its report: %+v %v (notify calls %d)", out, err, n.calls)
			}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, slowApply)
			cache := filepath.Join(t.TempDir(), "shared")
			c := newClock(dataEnd.Add(-time.Hour))
			tt.crash(t, f.URL(), cache, c)
			if n := len(subjects(t, f)); n != tt.wantBefore {
				t.Fatalf("%d commits after the killed run, want %d", n, tt.wantBefore)
			}
			// The rerun, a new process on the same cache, converges: the
			// advance lands once (or is already there), then nothing more.
			for range 2 {
				runOnce(t, newEngine(t, openRepoIn(t, f.URL(), cache), "http://127.0.0.1:1", c))
			}
			got := subjects(t, f)
			if len(got) != 2 || !strings.Contains(got[0], "advance, weight 0 -> 10") {
				t.Errorf("history after the rerun %q", got)
			}
			if st := statusAt(t, f, "main"); st.Phase != spec.PhaseWaitingForSync || st.Weight != 10 {
				t.Errorf("status %s weight %d", st.Phase, st.Weight)
			}
			if w := weightsAt(t, f, "main"); w != "90/10" {
				t.Errorf("weights %s: a half-edited manifest?", w)
			}
		})
	}
}
