package core

import (
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
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
