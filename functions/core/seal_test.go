package core

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest/githubtest"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo/gitlabtest"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/statusseal"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

const statusFile = ".birdwatch/status/games/aleph.yaml"

var statusKey = []byte("birdwatch-status-key-for-tests")

// forgedStatus is the hostile status from issue 18: the last step reached,
// no look ever made.
const forgedStatus = `generation: v05
stable: v03
baseline: v03
phase: Progressing
step: 7
weight: 50
`

// head is the fleet's main commit hash.
func head(t *testing.T, f *fleet.Repo) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "git", "-C", f.Bare, "rev-parse", "main").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func productionVersion(t *testing.T, f *fleet.Repo) string {
	t.Helper()
	dr, err := f.Show(t.Context(), "main", "apps/games/aleph/destinationrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(dr, "name: production")
	j := strings.Index(dr[i:], "version: ")
	return strings.Fields(dr[i+j+len("version: "):])[0]
}

// TestForgedStatusDoesNotPromote is the hostile case of issue 18 on a real
// Git repository: a new canary pushed together with a status at
// {phase: Progressing, step: 7}. With a status key, birdwatch freezes it,
// weights held, naming the commit; it neither promotes nor moves the
// production subset.
func TestForgedStatusDoesNotPromote(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
	}{{"with a status key", statusKey}, {"without a key the status is trusted", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, withCanary("v03"))
			c := newClock(dataEnd.Add(-time.Hour))
			e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
			e.StatusKey = tc.key
			if err := f.Commit(t.Context(), "aleph: v05", map[string]fleet.Edit{
				".birdwatch/aleph.yaml": fleet.Put(withCanary("v05")),
				statusFile:              fleet.Put(forgedStatus),
			}); err != nil {
				t.Fatal(err)
			}
			forged := head(t, f)
			o := runOnce(t, e)
			if tc.key == nil {
				// The documented price of running without a key.
				if o.Decision.Action != rollout.ActionPromote || productionVersion(t, f) != "v05" {
					t.Fatalf("without a key: %s %q, production %s", o.Decision.Action, o.Decision.Reason, productionVersion(t, f))
				}
				return
			}
			if o.Decision.Action != rollout.ActionFreeze || o.Commit == "" {
				t.Fatalf("forged status: %s %q", o.Decision.Action, o.Decision.Reason)
			}
			st := statusAt(t, f, "main")
			if st.Phase != spec.PhaseFrozen || st.Generation != "v05" || !strings.Contains(st.Message, "changed by commit "+forged[:12]) {
				t.Errorf("status %s %s %q", st.Generation, st.Phase, st.Message)
			}
			if got := weightsAt(t, f, "main"); got != "100/0" {
				t.Errorf("weights %s, want 100/0 (held)", got)
			}
			if v := productionVersion(t, f); v != "v03" {
				t.Errorf("production subset runs %s", v)
			}
			msg, err := f.Message(t.Context(), "main")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, statusseal.Trailer+": games/aleph ") {
				t.Errorf("the freeze is not sealed:\n%s", msg)
			}
			// The freeze is birdwatch's: the next run does not freeze again.
			c.advance(time.Minute)
			before := len(subjects(t, f))
			if o := runOnce(t, e); o.Commit != "" || len(subjects(t, f)) != before {
				t.Errorf("committed again on its own freeze: %s %q", o.Decision.Action, o.Decision.Reason)
			}
		})
	}
}

// TestTamperedStatusFreezesFromTheLastSealed: during a rollout, a status
// edited by hand (to the last step) and a status reverted to an older one
// birdwatch wrote are both caught at the next decision. The canary freezes
// from the last sealed status (weight held), naming the commit; an
// operator's resume, the documented command, goes on and is trusted again.
func TestTamperedStatusFreezesFromTheLastSealed(t *testing.T) {
	f := newFleet(t, withCanary("v05")+"  sync: {engine: none, applyDelay: 30s}\n")
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
	e.StatusKey = statusKey
	if o := runOnce(t, e); o.Decision.Action != rollout.ActionAdvance {
		t.Fatalf("start: %s %q", o.Decision.Action, o.Decision.Reason)
	}
	started, err := f.Show(t.Context(), "main", statusFile)
	if err != nil {
		t.Fatal(err)
	}
	c.advance(31 * time.Second)
	if o := runOnce(t, e); o.Decision.Action != rollout.ActionSynced {
		t.Fatalf("synced: %s %q", o.Decision.Action, o.Decision.Reason)
	}
	synced := statusAt(t, f, "main")
	last := *synced
	last.Phase, last.Step, last.Weight = spec.PhaseProgressing, 7, 50
	forged, err := spec.MarshalStatus(&last)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		status string
	}{
		{"forged", string(forged)},
		{"reverted", started},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An unrelated human commit first, then the tampering, then
			// another: the cache is depth 1, so the check fetches deeper.
			if err := f.Commit(t.Context(), "apps: unrelated", map[string]fleet.Edit{"apps/notes.txt": fleet.Put(tc.name + "\n")}); err != nil {
				t.Fatal(err)
			}
			if err := f.Commit(t.Context(), "aleph: status by hand", map[string]fleet.Edit{statusFile: fleet.Put(tc.status)}); err != nil {
				t.Fatal(err)
			}
			tampering := head(t, f)
			if err := f.Commit(t.Context(), "apps: unrelated 2", map[string]fleet.Edit{"apps/notes.txt": fleet.Put(tc.name + " 2\n")}); err != nil {
				t.Fatal(err)
			}
			c.advance(2 * time.Minute)
			o := runOnce(t, e)
			if o.Decision.Action != rollout.ActionFreeze || o.Commit == "" || !strings.Contains(o.Decision.Reason, tampering[:12]) {
				t.Fatalf("%s status: %s %q", tc.name, o.Decision.Action, o.Decision.Reason)
			}
			st := statusAt(t, f, "main")
			if st.Phase != spec.PhaseFrozen || st.Step != synced.Step || st.Weight != synced.Weight || len(st.History) <= len(synced.History) {
				t.Errorf("frozen from %+v, want from the last sealed status (step %d, weight %d)", st, synced.Step, synced.Weight)
			}
			if got := weightsAt(t, f, "main"); got != "90/10" {
				t.Errorf("weights %s, want 90/10 (held)", got)
			}

			// The operator resumes with the documented command.
			out, err := e.Run(t.Context(), Request{Canary: "games/aleph", Trigger: "test",
				Command: &rollout.Command{Kind: rollout.CmdResume, Actor: "github:alice", ID: "resume-" + tc.name}})
			if err != nil || out[0].Err != nil || out[0].Decision.Action != rollout.ActionResume || out[0].Commit == "" {
				t.Fatalf("resume: %+v %v", out, err)
			}
			// The next decision (a look: metrics are down here) acts on the
			// resumed status: no freeze.
			c.advance(2 * time.Minute)
			if o := runOnce(t, e); o.Decision.Action == rollout.ActionFreeze {
				t.Fatalf("after the resume: %s %q", o.Decision.Action, o.Decision.Reason)
			}
			synced = statusAt(t, f, "main")
		})
	}
}

// TestSealsInAPIModes: commits made through GitHub's API
// (createCommitOnBranch) and GitLab's (repository/commits) carry the seal,
// a status forged between them is found by reading commits through the
// API, and the freeze is sealed too.
func TestSealsInAPIModes(t *testing.T) {
	for _, mode := range []string{"github", "gitlab"} {
		t.Run(mode, func(t *testing.T) {
			f := newFleet(t, withCanary("v05")+"  sync: {engine: none, applyDelay: 30s}\n")
			var r Repository
			switch mode {
			case "github":
				srv := githubtest.New(t, f.Bare, "acme", "gitops", nil)
				g, err := repo.OpenGitHub(repo.GitHubOptions{Owner: "acme", Name: "gitops", Token: "ghs_test", APIURL: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				r = g
			case "gitlab":
				srv := gitlabtest.New(t, f.Bare, "acme/gitops", "glpat-test")
				g, err := repo.OpenGitLab(repo.GitLabOptions{Project: "acme/gitops", Token: "glpat-test", APIURL: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				r = g
			}
			c := newClock(dataEnd.Add(-time.Hour))
			e := newEngine(t, r, "http://127.0.0.1:1", c)
			if o := runOnce(t, e); o.Decision.Action != rollout.ActionAdvance || o.Commit == "" {
				t.Fatalf("start: %s %q", o.Decision.Action, o.Decision.Reason)
			}
			msg, err := f.Message(t.Context(), "main")
			if err != nil || !strings.Contains(msg, statusseal.Trailer+": games/aleph ") {
				t.Fatalf("API-mode commit not sealed (%v):\n%s", err, msg)
			}
			c.advance(31 * time.Second)
			if o := runOnce(t, e); o.Decision.Action != rollout.ActionSynced {
				t.Fatalf("synced: %s %q", o.Decision.Action, o.Decision.Reason)
			}
			if err := f.Commit(t.Context(), "aleph: ship it", map[string]fleet.Edit{statusFile: fleet.Put(forgedStatus)}); err != nil {
				t.Fatal(err)
			}
			forged := head(t, f)
			c.advance(2 * time.Minute)
			o := runOnce(t, e)
			if o.Decision.Action != rollout.ActionFreeze || !strings.Contains(o.Decision.Reason, forged[:12]) {
				t.Fatalf("forged status in API mode: %s %q", o.Decision.Action, o.Decision.Reason)
			}
			if got := weightsAt(t, f, "main"); got != "90/10" {
				t.Errorf("weights %s, want 90/10 (held)", got)
			}
			c.advance(time.Minute)
			if o := runOnce(t, e); o.Commit != "" {
				t.Errorf("committed again on its own freeze: %s %q", o.Decision.Action, o.Decision.Reason)
			}
		})
	}
}
