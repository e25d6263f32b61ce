package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// planKind is what a delivery asks for.
type planKind int

const (
	planIgnore   planKind = iota // nothing to do; answered 200
	planRun                      // run the loop (for one canary, or all)
	planMerged                   // run the loop, report to the merged pull request
	planValidate                 // validate the pull request's specs
	planCommand                  // a /birdwatch command from a PR comment
	planRefuse                   // a command that cannot be taken (answered in the response only)
)

// plan is the I/O-free decision of what a verified delivery asks for.
type plan struct {
	kind   planKind
	reason string // why ignored or refused
	canary string // planRun: "ns/name", or "" for every canary
	pr     PullRequest
	// command fields
	cmd       parsedCommand
	cmdErr    string // the /birdwatch line could not be parsed
	commentID int64
	commentAt time.Time // when the comment was written (signed with the payload)
	actor     auth.Identity
	// source is where the command came from: sourceGitHub or sourceGitLab.
	source string
}

// Sources of commands, also the prefix of their command IDs.
const (
	sourceGitHub = "github"
	sourceGitLab = "gitlab"
)

// describe says what an accepted plan will do, for the 202 response.
func (p plan) describe() string {
	switch p.kind {
	case planRun:
		if p.canary != "" {
			return "running the loop for " + p.canary
		}
		return "running the loop"
	case planMerged:
		return fmt.Sprintf("running the loop for merged pull request #%d", p.pr.Number)
	case planValidate:
		return fmt.Sprintf("validating pull request #%d", p.pr.Number)
	case planCommand:
		return fmt.Sprintf("%s by %s", p.cmd.verb, p.actor)
	}
	return p.reason
}

// execute does the planned work.
func (h *Handler) execute(ctx context.Context, p plan) (Response, error) {
	switch p.kind {
	case planRun:
		return h.run(ctx, core.Request{Canary: p.canary, Trigger: Trigger}, nil, p.source)
	case planMerged:
		return h.run(ctx, core.Request{Trigger: Trigger}, &p.pr, p.source)
	case planValidate:
		return h.validate(ctx, p.pr)
	case planCommand:
		return h.command(ctx, p)
	case planRefuse:
		return Response{Result: "refused", Detail: p.reason}, nil
	}
	return ignored("%s", p.reason), nil
}

// run runs the loop and reports; pr, when set, is the merged pull request
// (or merge request, when source is sourceGitLab).
// Invalid specs on the branch are a result (nothing was committed), not a
// server error: a redelivery would not fix them.
func (h *Handler) run(ctx context.Context, req core.Request, pr *PullRequest, source string) (Response, error) {
	outcomes, err := h.cfg.Engine.Run(ctx, req)
	switch {
	case errors.Is(err, spec.ErrInvalid), errors.Is(err, core.ErrUnknownCanary):
		return Response{Result: "failed", Detail: err.Error()}, nil
	case err != nil:
		return Response{}, fmt.Errorf("run the loop: %w", err)
	}
	resp := Response{Result: "done", Outcomes: summarize(outcomes)}
	var rerr error
	if pr != nil {
		rerr = h.forge(source).ReportPull(ctx, outcomes, *pr)
	} else {
		rerr = h.Report(ctx, outcomes)
	}
	if rerr != nil {
		resp.Warnings = append(resp.Warnings, rerr.Error())
	}
	return resp, nil
}
