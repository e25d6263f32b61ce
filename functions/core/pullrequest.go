package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/pullrequest"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
	"github.com/birdwatch-gitops/birdwatch/rollout/step"
)

// modePullRequest is the spec.git.mode that proposes decisions in pull requests.
const modePullRequest = "pullRequest"

// declinedLabel marks a birdwatch pull request closed without merging once
// birdwatch has said so on it, so the note is written once.
const declinedLabel = "birdwatch-declined"

// ErrNoPullRequests is returned for a canary in pull-request mode when the
// Engine has no PullRequests (or its Repo cannot push branches).
var ErrNoPullRequests = errors.New("spec.git.mode pullRequest needs a GitHub repository configured")

// PullRequests is the forge side of pull-request mode; *pullrequest.GitHub
// implements it.
type PullRequests interface {
	// Find returns the newest pull request whose branch starts with prefix:
	// the open one, else the last closed; nil when none.
	Find(ctx context.Context, prefix string) (*pullrequest.PR, error)
	// Propose opens a pull request, or updates pr (open, same branch).
	Propose(ctx context.Context, p pullrequest.Proposal, pr *pullrequest.PR) (*pullrequest.PR, error)
	// Note comments on pr and labels it, once per label.
	Note(ctx context.Context, pr *pullrequest.PR, label, comment string) error
	// Close comments on pr and closes it unmerged.
	Close(ctx context.Context, pr *pullrequest.PR, comment string) error
}

// BranchRepository is what pull-request mode needs of the Repo besides
// Repository: a commit on the fetched branch head, pushed to another
// branch. *repo.Repo implements it.
type BranchRepository interface {
	Commit(ctx context.Context, parent *repo.Snapshot, c repo.Change) (*repo.Snapshot, error)
	PushBranch(ctx context.Context, commit *repo.Snapshot, branch string) error
}

// decideOptions are what pull-request mode adds to a decision.
type decideOptions struct {
	// merged is the canary's last merged pull request, if its marker is the
	// status now on the branch: the weight reached the branch when it was
	// merged, not when birdwatch proposed it, so the applyDelay and
	// spec.sync.timeout clocks start there.
	merged *pullrequest.PR
}

// landed returns st with WeightSetAt moved to the merge time of the pull
// request that brought st's weight to the branch; st itself otherwise.
func (o decideOptions) landed(st *spec.Status) *spec.Status {
	pr := o.merged
	if st == nil || st.WeightSetAt == nil || !pr.Merged() || !pr.MergedAt.After(*st.WeightSetAt) ||
		pr.Marker.Generation != st.Generation || pr.Marker.Step != st.Step || pr.Marker.Weight != st.Weight {
		return st
	}
	cp := *st
	at := pr.MergedAt.UTC().Truncate(time.Millisecond)
	cp.WeightSetAt = &at
	return &cp
}

// runPullRequest is Run for a canary in pull-request mode. The branch the
// Repo reads stays the truth: a decision is computed on it as in push mode,
// but pushed to "birdwatch/<ns>-<name>/<step>" and proposed in one pull
// request per rollout, and nothing moves until that is merged. Whether to
// propose, wait for the open pull request, close it or hold on a declined
// one is the state machine's (rollout.PullRequest, Decision.PullRequest);
// this carries it out.
func (e *Engine) runPullRequest(ctx context.Context, snap *repo.Snapshot, c *spec.Canary, req Request) Outcome {
	o := Outcome{Canary: c.Key(), Attempts: 1}
	br, ok := e.Repo.(BranchRepository)
	if e.PullRequests == nil || !ok {
		o.Err = fmt.Errorf("%s: %w", c.Key(), ErrNoPullRequests)
		return o
	}
	if err := e.pullRequestStep(ctx, br, snap, c, req, &o); err != nil {
		o.Err = fmt.Errorf("%s: %w", c.Key(), err)
	}
	return o
}

func (e *Engine) pullRequestStep(ctx context.Context, br BranchRepository, snap *repo.Snapshot, c *spec.Canary, req Request, o *Outcome) error {
	pr, err := e.PullRequests.Find(ctx, pullrequest.BranchPrefix(c.Metadata.Namespace, c.Metadata.Name))
	if err != nil {
		return err
	}
	o.PullRequest = pr
	opts := decideOptions{}
	if pr.Merged() {
		opts.merged = pr
	}
	d, err := e.decidePR(ctx, snap, c, req, opts.landed, machinePR(pr, snap))
	if err != nil {
		return err
	}
	o.Decision, o.Analysis, o.Message = d.Decision, d.Analysis, d.Effects.Message.String()
	switch d.Decision.PullRequest {
	case rollout.PRClose:
		return e.PullRequests.Close(ctx, pr, fmt.Sprintf("birdwatch: superseded. The branch moved to %s and the "+
			"decision this pull request proposed no longer applies; nothing else is proposed now.", short(snap.Commit())))
	case rollout.PRHold:
		return e.PullRequests.Note(ctx, pr, declinedLabel, fmt.Sprintf("birdwatch: this pull request was closed without "+
			"merging, so %s holds where the branch says it is. birdwatch will not propose the same decision again. "+
			"Reopen this pull request to go on with it, comment `/birdwatch resume` to have it proposed afresh, or "+
			"`/birdwatch abort` to roll back.", c.Key()))
	case rollout.PRPropose:
		st := d.Decision.Status
		marker := pullrequest.Marker{Canary: c.Key(), Parent: snap.Commit(), Generation: st.Generation,
			Action: string(d.Decision.Action), Step: st.Step, Weight: st.Weight}
		var open *pullrequest.PR
		if pr != nil && pr.Open {
			open = pr
		}
		return e.propose(ctx, br, snap, c, d, marker, open, o)
	}
	return nil // nothing to propose, or waiting for the open pull request
}

// machinePR is what the state machine needs of the canary's pull request.
func machinePR(pr *pullrequest.PR, snap *repo.Snapshot) *rollout.PullRequest {
	if pr == nil {
		return &rollout.PullRequest{State: rollout.PRNoneYet}
	}
	state := rollout.PRDeclined
	switch {
	case pr.Open:
		state = rollout.PROpen
	case pr.Merged():
		state = rollout.PRMerged
	}
	m := pr.Marker
	return &rollout.PullRequest{State: state, Number: pr.Number, Title: pr.Title, Generation: m.Generation,
		Action: rollout.Action(m.Action), Step: m.Step, Weight: m.Weight, SameBase: m.Parent == snap.Commit()}
}

// propose commits the decision on snap, pushes it to its branch and opens
// or updates the pull request (closing pr first when the branch changed).
func (e *Engine) propose(ctx context.Context, br BranchRepository, snap *repo.Snapshot, c *spec.Canary,
	d *step.Result, marker pullrequest.Marker, pr *pullrequest.PR, o *Outcome) error {
	branch := pullrequest.Branch(c.Metadata.Namespace, c.Metadata.Name, d.Decision.Status.Step)
	commit, err := br.Commit(ctx, snap, e.change(snap, d))
	if errors.Is(err, repo.ErrNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := br.PushBranch(ctx, commit, branch); err != nil {
		return err
	}
	o.Commit = commit.Commit()
	if pr != nil && pr.Open && pr.Branch != branch {
		if err := e.PullRequests.Close(ctx, pr, fmt.Sprintf("birdwatch: superseded by a new decision on `%s`.", branch)); err != nil {
			return err
		}
		pr = nil
	}
	base := c.Spec.Git.Branch
	if base == "" {
		base = repo.DefaultBranch
	}
	body := d.Effects.Message.Body
	if body == "" {
		body = d.Decision.Reason
	}
	got, err := e.PullRequests.Propose(ctx, pullrequest.Proposal{Branch: branch, Base: base, Title: d.Effects.Message.Subject,
		Body: body, Marker: marker, Labels: []string{"birdwatch"}}, pr)
	if err != nil {
		return err
	}
	o.PullRequest = got
	return nil
}

func short(h string) string { return h[:min(len(h), 8)] }
