package webhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
)

func (e *env) statusesFor(sha, context string) []fakeStatus {
	e.gh.mu.Lock()
	defer e.gh.mu.Unlock()
	var out []fakeStatus
	for _, s := range e.gh.statuses {
		if s.SHA == sha && s.Context == context {
			out = append(out, s)
		}
	}
	return out
}

func TestPullRequestValidation(t *testing.T) {
	e := newEnv(t)
	v05 := strings.Replace(testSpec, "canary: v04", "canary: v05", 1)
	head, base := e.openPull(7, "aleph-v05", "", v05)
	p := defaults()
	p.Action, p.HeadSHA, p.BaseSHA = "opened", head, base
	r := decode(t, e.github("pull_request", render(t, "github/pull_request", p)))
	if r.Result != "validated" || r.Detail != "1 file(s), 0 problem(s)" {
		t.Fatalf("opened: %+v", r)
	}
	bot := e.gh.botComments(7)
	if len(bot) != 1 || !strings.HasPrefix(bot[0].Body, validationMarker) ||
		!strings.Contains(bot[0].Body, "| `.birdwatch/aleph.yaml` | games/aleph | `v03` → `v05` | ✅ valid |") {
		t.Fatalf("comments %+v", bot)
	}
	if st := e.statusesFor(head, "birdwatch/validate"); len(st) != 1 || st[0].State != "success" || !strings.Contains(st[0].TargetURL, "#issuecomment-") {
		t.Errorf("statuses %+v", st)
	}

	// A new push to the branch breaks the spec: the same comment is edited.
	bad := strings.Replace(v05, "    - setWeight: 50", "    - setWeight: 5", 1)
	e.dev("checkout", "--quiet", "aleph-v05")
	head2 := commitFile(e, specPath, bad, "aleph: oops")
	e.dev("push", "--quiet", "origin", "aleph-v05")
	e.dev("checkout", "--quiet", "main")
	p.Action, p.HeadSHA = "synchronize", head2
	r = decode(t, e.github("pull_request", render(t, "github/pull_request", p)))
	if r.Result != "validated" || r.Detail != "1 file(s), 1 problem(s)" {
		t.Fatalf("synchronize: %+v", r)
	}
	bot = e.gh.botComments(7)
	if len(bot) != 1 || !strings.Contains(bot[0].Body, "❌ Canary specs: 1 problem") ||
		!strings.Contains(bot[0].Body, "`.birdwatch/aleph.yaml:17` `spec.steps[2].setWeight`: weights must increase: 5 follows 10") {
		t.Errorf("comments %+v", bot)
	}
	if st := e.statusesFor(head2, "birdwatch/validate"); len(st) != 1 || st[0].State != "failure" {
		t.Errorf("statuses %+v", st)
	}
	if s := e.subjects(); len(s) != 1 {
		t.Errorf("validation changed main: %q", s)
	}

	// A pull request that touches no spec gets nothing.
	head3, base3 := e.openPull(9, "docs", "README.md", "# fleet\n")
	p.Number, p.Action, p.HeadSHA, p.BaseSHA, p.HeadRef = 9, "opened", head3, base3, "docs"
	if r := decode(t, e.github("pull_request", render(t, "github/pull_request", p))); r.Result != "ignored" || !strings.Contains(r.Detail, "changes no canary spec") {
		t.Errorf("docs PR: %+v", r)
	}
	if n := len(e.gh.botComments(9)); n != 0 {
		t.Errorf("%d comments on a PR without specs", n)
	}
}

// TestPullRequestCheckReadsTheTreeLikeTheLoop: the PR check reads the
// head commit's .birdwatch/ with the loop's and validate's checks
// (gitops/spectree): a spec that is a link to /etc/passwd, a 2 MiB spec and
// a second definition of games/aleph are each refused by name; the link's
// target is never read.
func TestPullRequestCheckReadsTheTreeLikeTheLoop(t *testing.T) {
	e := newEnv(t)
	e.dev("pull", "--quiet", "--rebase", "origin", "main")
	base := e.dev("rev-parse", "HEAD")
	e.dev("checkout", "--quiet", "-b", "hostile")
	if err := os.Symlink("/etc/passwd", filepath.Join(e.fleet.Work, ".birdwatch", "passwd.yaml")); err != nil {
		t.Fatal(err)
	}
	big := "# " + strings.Repeat("x", 2<<20) + "\n" + strings.Replace(testSpec, "name: aleph", "name: gimel", 1)
	for name, content := range map[string]string{"big.yaml": big, "beth.yaml": testSpec} {
		if err := os.WriteFile(filepath.Join(e.fleet.Work, ".birdwatch", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.dev("add", "-A")
	e.dev("commit", "--quiet", "-m", "hostile specs")
	e.dev("push", "--quiet", "origin", "hostile")
	e.dev("checkout", "--quiet", "main")
	head := e.dev("rev-parse", "hostile")
	e.gh.mu.Lock()
	e.gh.pulls[11] = &fakePull{Number: 11, HeadRef: "hostile", BaseSHA: base}
	e.gh.mu.Unlock()
	p := defaults()
	p.Number, p.Action, p.HeadSHA, p.BaseSHA, p.HeadRef = 11, "opened", head, base, "hostile"
	r := decode(t, e.github("pull_request", render(t, "github/pull_request", p)))
	if r.Result != "validated" || len(r.Warnings) != 0 {
		t.Fatalf("got %+v", r)
	}
	bot := e.gh.botComments(11)
	if len(bot) != 1 {
		t.Fatalf("%d comments", len(bot))
	}
	for _, want := range []string{
		"`.birdwatch/passwd.yaml`", "is a symbolic link",
		"`.birdwatch/big.yaml`", "over the 1048576-byte (1 MiB) limit",
		"`.birdwatch/beth.yaml:", "canary games/aleph is defined 2 times",
	} {
		if !strings.Contains(bot[0].Body, want) {
			t.Errorf("the check lacks %q:\n%s", want, bot[0].Body)
		}
	}
	if strings.Contains(bot[0].Body, "root:") {
		t.Errorf("the link's target was read:\n%s", bot[0].Body)
	}
	if st := e.statusesFor(head, "birdwatch/validate"); len(st) != 1 || st[0].State != "failure" {
		t.Errorf("statuses %+v", st)
	}
}

func TestValidationRerunWithCheckRuns(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.GitHub.CheckRuns = true })
	head, base := e.openPull(7, "aleph-v05", "", strings.Replace(testSpec, "canary: v04", "canary: v05", 1))
	p := defaults()
	p.Action, p.ExternalID, p.HeadSHA, p.BaseSHA = "rerequested", checkValidate, head, base
	r := decode(t, e.github("check_run", render(t, "github/check_run", p)))
	if r.Result != "validated" {
		t.Fatalf("got %+v", r)
	}
	e.gh.mu.Lock()
	defer e.gh.mu.Unlock()
	if len(e.gh.checks) != 1 || e.gh.checks[0]["head_sha"] != head || e.gh.checks[0]["conclusion"] != "success" ||
		e.gh.checks[0]["external_id"] != checkValidate || e.gh.checks[0]["completed_at"] == nil {
		t.Errorf("check runs %v", e.gh.checks)
	}
	if len(e.gh.statuses) != 0 {
		t.Errorf("statuses made in check-run mode: %v", e.gh.statuses)
	}
}

// TestMergedPullRequestIsReported merges a PR that ships v05 and follows
// the rollout: the merge runs the loop and reports on the PR, a scheduled
// decision later finds the PR through the API and edits the same comment,
// and a command on the PR updates it again.
func TestMergedPullRequestIsReported(t *testing.T) {
	e := newEnv(t)
	head, base := e.openPull(7, "aleph-v05", "", strings.Replace(testSpec, "canary: v04", "canary: v05", 1))
	merge := e.mergePull(7)
	p := defaults()
	p.Action, p.State, p.Merged, p.HeadSHA, p.BaseSHA, p.MergeSHA = "closed", "closed", true, head, base, merge
	r := decode(t, e.github("pull_request", render(t, "github/pull_request", p)))
	if r.Result != "done" || len(r.Outcomes) != 1 || r.Outcomes[0].Commit == "" || len(r.Warnings) != 0 {
		t.Fatalf("merged: %+v", r)
	}
	report := func() fakeComment {
		t.Helper()
		var found []fakeComment
		for _, c := range e.gh.botComments(7) {
			if strings.HasPrefix(c.Body, reportMarker("games/aleph")) {
				found = append(found, c)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d report comments", len(found))
		}
		return found[0]
	}
	first := report()
	if !strings.Contains(first.Body, "games/aleph `v05`: advance") || !strings.Contains(first.Body, "weight **0% → 10%**") {
		t.Errorf("report:\n%s", first.Body)
	}
	st := e.statusesFor(head, "birdwatch/games/aleph")
	if len(st) != 1 || st[0].State != "pending" || !strings.Contains(st[0].Description, "v05: advance, weight 10%") {
		t.Errorf("statuses %+v", st)
	}

	// The schedule's next run decides (synced, paused); the reporter finds PR #7.
	outcomes, err := e.engine.Run(t.Context(), core.Request{Trigger: "schedule"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.h.Reporter().Report(t.Context(), outcomes); err != nil {
		t.Fatal(err)
	}
	second := report()
	if second.ID != first.ID || !strings.Contains(second.Body, "`v05`: pause") || !strings.Contains(second.Body, "schedule") {
		t.Errorf("report after the scheduled decision:\n%s", second.Body)
	}

	// A command on the PR is answered and updates the report.
	if r := e.comment(9001, "alice", "/birdwatch promote"); r.Result != "done" {
		t.Fatalf("promote: %+v", r)
	}
	if third := report(); !strings.Contains(third.Body, "weight **10% → 50%**") {
		t.Errorf("report after promote:\n%s", third.Body)
	}
	if n := len(e.statusesFor(head, "birdwatch/games/aleph")); n != 3 {
		t.Errorf("%d statuses, want one per decision", n)
	}
}

// commitFile writes a file in the developer clone and commits it, returning the new head.
func commitFile(e *env, file, content, message string) string {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.fleet.Work, file), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.dev("add", "-A")
	e.dev("commit", "--quiet", "-m", message)
	return e.dev("rev-parse", "HEAD")
}
