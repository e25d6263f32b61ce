package core

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// planOnce plans one canary and fails the test on any error.
func planOnce(t *testing.T, e *Engine, req Request) Planned {
	t.Helper()
	plans, err := e.Plan(t.Context(), req)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(plans) != 1 || plans[0].Err != nil {
		t.Fatalf("plans: %+v", plans)
	}
	return plans[0]
}

// assertCommitted checks that the commit at main changed exactly the
// planned files, to the planned content, with the planned message.
func assertCommitted(t *testing.T, f *fleet.Repo, p Planned) {
	t.Helper()
	for _, pf := range p.Files {
		got, err := f.Show(t.Context(), "main", pf.Path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(pf.New) {
			t.Errorf("%s at main differs from the plan:\n%s\nplanned:\n%s", pf.Path, got, pf.New)
		}
		if prev, err := f.Show(t.Context(), "main~1", pf.Path); (err == nil) != (pf.Old != nil) || prev != string(pf.Old) {
			t.Errorf("%s before the commit differs from the plan's old content (%v)", pf.Path, err)
		}
	}
	out, err := exec.CommandContext(t.Context(), "git", "--git-dir", f.Bare, "diff-tree", "--no-commit-id", "--name-only", "-r", "main").Output()
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Fields(string(out))
	var planned []string
	for _, pf := range p.Files {
		planned = append(planned, pf.Path)
	}
	if strings.Join(changed, "\n") != strings.Join(planned, "\n") {
		t.Errorf("the commit changed %q, the plan %q", changed, planned)
	}
	if msg, err := f.Message(t.Context(), "main"); err != nil || strings.TrimSpace(msg) != strings.TrimSpace(p.Message) {
		t.Errorf("commit message (%v):\n%s\nplanned:\n%s", err, msg, p.Message)
	}
}

// TestPlanIsWhatRunCommits plans each decision of a failing canary's
// rollout, checks that planning commits nothing, then runs the loop and
// checks that it commits exactly the plan: the advance, and after a real
// Prometheus analysis, the rollback (which changes the weights only).
func TestPlanIsWhatRunCommits(t *testing.T) {
	prom := startPrometheus(t)
	f := newFleet(t, testSpec)
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), prom, c)
	req := Request{Trigger: "test"}

	steps := []struct {
		name   string
		action rollout.Action
		files  []string
	}{
		{name: "advance", action: rollout.ActionAdvance, files: []string{".birdwatch/status/games/aleph.yaml", vsPath}},
		{name: "synced", action: rollout.ActionSynced, files: []string{".birdwatch/status/games/aleph.yaml"}},
		{name: "rollback", action: rollout.ActionRollback, files: []string{".birdwatch/status/games/aleph.yaml", vsPath}},
	}
	for _, st := range steps {
		before := subjects(t, f)
		p := planOnce(t, e, req)
		if p.Decision.Action != st.action {
			t.Fatalf("%s: planned %s (%s)", st.name, p.Decision.Action, p.Decision.Reason)
		}
		var paths []string
		for _, pf := range p.Files {
			paths = append(paths, pf.Path)
		}
		if strings.Join(paths, " ") != strings.Join(st.files, " ") {
			t.Errorf("%s: planned files %v, want %v", st.name, paths, st.files)
		}
		if after := subjects(t, f); len(after) != len(before) {
			t.Fatalf("%s: Plan committed: %v", st.name, after)
		}
		if st.action == rollout.ActionRollback && p.Analysis == nil {
			t.Errorf("rollback planned without an analysis")
		}
		o := runOnce(t, e)
		if o.Decision.Action != st.action || o.Commit == "" {
			t.Fatalf("%s: Run did %s, commit %q", st.name, o.Decision.Action, o.Commit)
		}
		assertCommitted(t, f, p)
		if st.name == "synced" {
			c.advance(time.Minute)
		}
	}
	if got := weightsAt(t, f, "main"); got != "100/0" {
		t.Errorf("weights after the rollback %s, want 100/0", got)
	}
}

func TestPlanErrors(t *testing.T) {
	const deadProm = "http://127.0.0.1:1" // no decision here measures
	tests := []struct {
		name string
		spec string
		req  Request
		// planErr is the error of Plan itself; canaryErr what the planned freeze names.
		planErr   error
		canaryErr string
	}{
		{name: "unknown canary", spec: testSpec, req: Request{Canary: "games/beta"}, planErr: ErrUnknownCanary},
		{name: "command without a canary", spec: testSpec, req: Request{Command: &rollout.Command{Kind: rollout.CmdAbort}}},
		{name: "traffic file missing", spec: strings.Replace(testSpec, "file: apps/games/aleph/virtualservice.yaml", "file: apps/games/aleph/missing.yaml", 1),
			canaryErr: "apps/games/aleph/missing.yaml"},
		{name: "route missing", spec: strings.Replace(testSpec, "    stableSubset: production\n", "    route: nope\n    stableSubset: production\n", 1),
			canaryErr: `no route named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, tt.spec)
			e := newEngine(t, openRepo(t, f.URL()), deadProm, newClock(dataEnd))
			plans, err := e.Plan(t.Context(), tt.req)
			if tt.canaryErr == "" {
				if err == nil || (tt.planErr != nil && !errors.Is(err, tt.planErr)) {
					t.Fatalf("Plan = %v, %v; want error %v", plans, err, tt.planErr)
				}
				return
			}
			// A manifest birdwatch cannot read is bad input: the plan is the
			// freeze the loop would commit, naming the file and the path.
			if err != nil || len(plans) != 1 || plans[0].Err != nil || plans[0].Decision.Action != rollout.ActionFreeze ||
				!strings.Contains(plans[0].Decision.Status.Message, tt.canaryErr) {
				t.Fatalf("Plan = %+v, %v; want a freeze naming %q", plans, err, tt.canaryErr)
			}
			if got := subjects(t, f); len(got) != 1 {
				t.Errorf("history %v, want only the initial commit", got)
			}
		})
	}
}
