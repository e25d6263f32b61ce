package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// Check run external IDs birdwatch uses, so a re-run can be routed.
const (
	checkCanaryPrefix = "birdwatch:canary:"
	checkValidate     = "birdwatch:validate"
)

// reportHistory is how many history entries a PR report lists.
const reportHistory = 10

// reportMarker identifies the one report comment per canary and PR.
func reportMarker(key string) string { return "<!-- birdwatch:report:" + key + " -->" }

// Reporter posts decisions to the pull request a rollout came from: one
// comment per canary, edited in place (found by a hidden marker), and a
// commit status (or check run) on the pull request's head commit. Its
// fields are set once; it is then safe for concurrent use.
type Reporter struct {
	// Engine reads the canaries (for their spec files and step counts).
	Engine interface {
		Fleet(ctx context.Context) ([]core.Entry, error)
	}
	Repository string
	Branch     string
	// Comments, Pulls and Statuses reach GitHub; nil Comments and Statuses
	// make Report a no-op, nil Pulls limits it to ReportPull.
	Comments Comments
	Pulls    PullRequests
	Statuses Statuses
	// Login is the account birdwatch comments as; see GitHubConfig.Login.
	// Empty asks Comments when it is a LoginResolver.
	Login string
	// CheckRuns reports with check runs instead of commit statuses.
	CheckRuns bool
	// WebURL is GitHub's web address, for commit links.
	WebURL string
	// CommitLink links a commit when set (GitLab's /-/commit/); nil uses
	// WebURL/Repository/commit/HASH.
	CommitLink func(hash string) string
	Log        *slog.Logger

	loginOnce sync.Once
	logins    *loginCache
}

// Report reports every outcome that committed a decision to the pull
// request its canary's rollout came from (see PullRequests.OriginPull);
// outcomes of canaries that did not come from a pull request are skipped.
func (r *Reporter) Report(ctx context.Context, outcomes []core.Outcome) error {
	if !slices.ContainsFunc(outcomes, func(o core.Outcome) bool { return o.Commit != "" }) {
		return nil
	}
	return r.report(ctx, outcomes, nil)
}

// ReportPull reports to pr every outcome whose canary spec pr changed,
// committed or not (so a merged PR shows where its rollout stands), and the
// other committed outcomes like Report.
func (r *Reporter) ReportPull(ctx context.Context, outcomes []core.Outcome, pr PullRequest) error {
	return r.report(ctx, outcomes, &pr)
}

func (r *Reporter) report(ctx context.Context, outcomes []core.Outcome, pr *PullRequest) error {
	if (r.Comments == nil && r.Statuses == nil) || len(outcomes) == 0 {
		return nil
	}
	var changed []ChangedFile
	if pr != nil && r.Pulls != nil {
		var err error
		if changed, err = r.Pulls.ChangedFiles(ctx, r.Repository, pr.Number); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	entries, err := r.Engine.Fleet(ctx)
	if err != nil {
		return fmt.Errorf("report: read canaries: %w", err)
	}
	var errs []error
	for _, o := range outcomes {
		i := slices.IndexFunc(entries, func(e core.Entry) bool { return e.Canary.Key() == o.Canary })
		if i < 0 {
			continue
		}
		e := entries[i]
		target, err := r.target(ctx, e.Canary, o, pr, changed)
		if err != nil {
			errs = append(errs, fmt.Errorf("report %s: %w", o.Canary, err))
			continue
		}
		if target != nil {
			if err := r.post(ctx, *target, e, o); err != nil {
				errs = append(errs, fmt.Errorf("report %s to #%d: %w", o.Canary, target.Number, err))
			}
		}
	}
	return errors.Join(errs...)
}

// target picks the pull request to report an outcome to, or nil.
func (r *Reporter) target(ctx context.Context, c *spec.Canary, o core.Outcome, pr *PullRequest, changed []ChangedFile) (*PullRequest, error) {
	if pr != nil && slices.ContainsFunc(changed, func(f ChangedFile) bool { return f.Path == c.File }) {
		return pr, nil
	}
	if o.Commit == "" || r.Pulls == nil {
		return nil, nil
	}
	return r.Pulls.OriginPull(ctx, r.Repository, r.Branch, c.File)
}

// post writes the report comment and the status of one canary on pr.
func (r *Reporter) post(ctx context.Context, pr PullRequest, e core.Entry, o core.Outcome) error {
	key := e.Canary.Key()
	body := reportMarker(key) + "\n" + report.DecisionMarkdown(report.Decision{Canary: key, Steps: len(e.Canary.Spec.Steps),
		Decision: o.Decision, Analysis: o.Analysis, Commit: o.Commit, CommitURL: r.commitURL(o.Commit), Err: o.Err,
		History: reportHistory}) + fmt.Sprintf("\n<sub>Commands: `%s %s`</sub>\n", commandPrefix, strings.Join(verbs(), "|")+" "+key)
	var link string
	if r.Comments != nil {
		login, err := r.login(ctx)
		if err != nil {
			return err
		}
		c, err := upsertComment(ctx, r.Comments, r.Repository, pr.Number, login, reportMarker(key), body)
		if err != nil {
			return err
		}
		link = c.HTMLURL
		if link == "" && pr.HTMLURL != "" && c.ID != 0 {
			link = fmt.Sprintf("%s#note_%d", pr.HTMLURL, c.ID) // GitLab's notes carry no web URL
		}
	}
	if r.Statuses == nil || pr.HeadSHA == "" {
		return nil
	}
	st := o.Decision.Status
	desc := fmt.Sprintf("%s %s: %s, weight %d%%, phase %s", key, st.Generation, o.Decision.Action, st.Weight, st.Phase)
	if o.Err != nil {
		desc = fmt.Sprintf("%s: error", key)
	}
	if r.CheckRuns {
		status, conclusion := checkState(st.Phase, o.Err)
		return r.Statuses.CreateCheckRun(ctx, r.Repository, pr.HeadSHA, CheckRun{Name: "birdwatch " + key,
			ExternalID: checkCanaryPrefix + key, Status: status, Conclusion: conclusion, Title: desc, Summary: body, DetailsURL: link})
	}
	return r.Statuses.SetStatus(ctx, r.Repository, pr.HeadSHA, CommitStatus{State: statusState(st.Phase, o.Err),
		Context: "birdwatch/" + key, Description: truncate(desc, 140), TargetURL: link})
}

// commitURL links a commit on the web; "" for no commit.
func (r *Reporter) commitURL(hash string) string {
	if hash == "" || r.Repository == "" {
		return ""
	}
	if r.CommitLink != nil {
		return r.CommitLink(hash)
	}
	return strings.TrimSuffix(r.WebURL, "/") + "/" + r.Repository + "/commit/" + hash
}

// ours reports whether c is birdwatch's comment with marker: the body
// starts with the marker and login wrote it.
// An unknown login ("") trusts no comment: anyone can paste a marker.
func ours(c Comment, login, marker string) bool {
	return login != "" && strings.HasPrefix(c.Body, marker) && strings.EqualFold(c.Author, login)
}

// login is Login, or the Comments account once resolved.
func (r *Reporter) login(ctx context.Context) (string, error) {
	r.loginOnce.Do(func() {
		if r.logins == nil {
			r.logins = newLoginCache(r.Login, r.Comments)
		}
	})
	return r.logins.get(ctx)
}

// upsertComment edits birdwatch's comment holding marker, or creates one.
func upsertComment(ctx context.Context, cs Comments, repo string, number int, login, marker, body string) (Comment, error) {
	list, err := cs.ListComments(ctx, repo, number)
	if err != nil {
		return Comment{}, err
	}
	for _, c := range list {
		if ours(c, login, marker) {
			if c.Body == body {
				return c, nil
			}
			return cs.EditComment(ctx, repo, number, c.ID, body)
		}
	}
	return cs.CreateComment(ctx, repo, number, body)
}

// statusState maps a phase to a commit status state.
func statusState(p spec.Phase, err error) string {
	switch {
	case err != nil, p == spec.PhaseFrozen:
		return "error"
	case p == spec.PhaseSucceeded:
		return "success"
	case p == spec.PhaseRolledBack, p == spec.PhaseFailed:
		return "failure"
	}
	return "pending"
}

// checkState maps a phase to a check run status and conclusion.
func checkState(p spec.Phase, err error) (status, conclusion string) {
	switch {
	case err != nil:
		return "completed", "neutral"
	case p == spec.PhaseSucceeded:
		return "completed", "success"
	case p == spec.PhaseRolledBack, p == spec.PhaseFailed:
		return "completed", "failure"
	case p == spec.PhaseFrozen:
		return "completed", "action_required"
	}
	return "in_progress", ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
