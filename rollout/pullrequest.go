package rollout

import "fmt"

// PRState is the state of a canary's pull request in pull-request mode.
type PRState string

// Pull request states.
const (
	PRNoneYet  PRState = "none"     // birdwatch has not proposed anything for this canary
	PROpen     PRState = "open"     // waiting for review
	PRMerged   PRState = "merged"   // merged: its decision is on the branch
	PRDeclined PRState = "declined" // closed without merging
)

// PullRequest is the canary's newest pull request in pull-request mode (the
// open one, else the last closed), as Decide needs it. In pull-request mode
// the branch stays the truth: a decision is made on it as in push mode and
// then proposed, and nothing moves until the proposal is merged.
type PullRequest struct {
	State PRState
	// Number and Title name it in reasons.
	Number int
	Title  string
	// Generation, Action, Step and Weight are the decision it proposes.
	Generation string
	Action     Action
	Step       int
	Weight     int
	// SameBase is true when it was proposed on the branch head this
	// decision is made on.
	SameBase bool
}

// PRAction is what pull-request mode does with a decision
// (Decision.PullRequest).
type PRAction string

// Pull request actions. Only PRPropose leaves the decision committing: the
// others make it a wait.
const (
	PRNone    PRAction = ""        // push mode, or nothing to propose
	PRPropose PRAction = "propose" // propose it: open a pull request, or update or replace the open one
	PRWait    PRAction = "wait"    // the open pull request stands: wait for its merge
	PRClose   PRAction = "close"   // close the open one: the branch moved and nothing is left to propose
	PRHold    PRAction = "hold"    // this very decision was declined: say so once on it and hold
)

// proposes reports whether pr proposes the decision d.
func (pr *PullRequest) proposes(d Decision) bool {
	return pr.Generation == d.Status.Generation && pr.Action == d.Action && pr.Step == d.Status.Step &&
		pr.Weight == d.Status.Weight
}

// pullRequestPolicy is pull-request mode's hold, decline and supersede
// policy applied to the decision d made on the branch:
//   - an open pull request for the same decision on the same base commit
//     is waited for; a different decision replaces it only if it rolls
//     back or freezes, or comes from a command; when the base branch
//     moved, the new decision replaces it, or it is closed when nothing is
//     left to propose;
//   - a pull request closed without merging declines its decision: the
//     same decision is not proposed again (no loop of pull requests); it
//     is held until a command, a different decision (a rollback) or the
//     pull request is reopened.
func pullRequestPolicy(in Input, d Decision) Decision {
	pr := in.PullRequest
	same := d.Commit && pr.proposes(d)
	urgent := d.Action == ActionRollback || d.Action == ActionFreeze || in.Command != nil
	wait := func(a PRAction, reason string) Decision {
		d.Action, d.Commit, d.Reason, d.PullRequest = ActionWait, false, reason, a
		d.SetWeight, d.Routes, d.Promote = nil, nil, false
		if in.Status != nil {
			d.Status = *in.Status // nothing is committed: the status stays
		}
		return d
	}
	switch {
	case pr.State == PROpen && !d.Commit && !pr.SameBase:
		return wait(PRClose, fmt.Sprintf("closed pull request #%d: the branch moved and nothing is left to propose", pr.Number))
	case pr.State == PROpen && (!d.Commit || pr.SameBase && (same || !urgent)):
		return wait(PRWait, fmt.Sprintf("waiting for pull request #%d (%s) to be merged", pr.Number, pr.Title))
	case pr.State == PRDeclined && same && in.Command == nil:
		weight := 0
		if in.Status != nil {
			weight = in.Status.Weight
		}
		return wait(PRHold, fmt.Sprintf("pull request #%d (%s) was closed without merging: holding %s at weight %d "+
			"until it is reopened or a command (resume, promote, abort) is given", pr.Number, pr.Title, in.Canary.Key(), weight))
	case !d.Commit:
		return d
	}
	d.PullRequest = PRPropose
	return d
}
