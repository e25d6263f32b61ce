package webhook

import (
	"context"
	"errors"
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// validationMarker identifies the one validation comment per pull request.
const validationMarker = "<!-- birdwatch:validation -->"

// validate parses every Canary spec file the pull request adds or changes,
// at its head commit, with the same checks as the loop, and reports the
// result as a comment (edited in place) and a commit status.
func (h *Handler) validate(ctx context.Context, pr PullRequest) (Response, error) {
	gh := h.cfg.GitHub
	if gh.Pulls == nil {
		return ignored("no GitHub API configured: pull request #%d not validated", pr.Number), nil
	}
	if pr.HeadSHA == "" {
		full, err := gh.Pulls.PullRequest(ctx, gh.Repository, pr.Number)
		if err != nil {
			return Response{}, err
		}
		pr = full
	}
	changed, err := gh.Pulls.ChangedFiles(ctx, gh.Repository, pr.Number)
	if err != nil {
		return Response{}, err
	}
	var files []report.ValidatedFile
	problems := 0
	for _, f := range changed {
		if !spec.IsSpecPath(f.Path) || f.Status == "removed" {
			continue
		}
		vf, err := h.validateFile(ctx, f.Path, pr.HeadSHA)
		if err != nil {
			return Response{}, err
		}
		problems += len(vf.Problems)
		if vf.Err != "" {
			problems++
		}
		files = append(files, vf)
	}
	if len(files) == 0 {
		return ignored("pull request #%d changes no canary spec", pr.Number), nil
	}
	resp := Response{Result: "validated", Detail: fmt.Sprintf("%d file(s), %d problem(s)", len(files), problems)}
	body := validationMarker + "\n" + report.ValidationMarkdown(files)
	var link string
	if gh.Comments != nil {
		login, err := h.reporter.login(ctx)
		c := Comment{}
		if err == nil {
			c, err = upsertComment(ctx, gh.Comments, gh.Repository, pr.Number, login, validationMarker, body)
		}
		if err != nil {
			resp.Warnings = append(resp.Warnings, err.Error())
		}
		link = c.HTMLURL
	}
	if err := h.validationStatus(ctx, pr, problems, body, link); err != nil {
		resp.Warnings = append(resp.Warnings, err.Error())
	}
	return resp, nil
}

// validateFile reads and parses one spec file at ref. A missing file or a
// parse problem is a result; other read errors are returned.
func (h *Handler) validateFile(ctx context.Context, path, ref string) (report.ValidatedFile, error) {
	vf := report.ValidatedFile{Path: path}
	data, err := h.cfg.GitHub.Pulls.FileAt(ctx, h.cfg.GitHub.Repository, path, ref)
	if errors.Is(err, ErrNotFound) {
		vf.Err = "not found at the head commit"
		return vf, nil
	}
	if err != nil {
		return vf, err
	}
	cs, err := spec.ParseCanaries(path, data, h.cfg.Checks)
	var perr *spec.Error
	switch {
	case errors.As(err, &perr):
		vf.Problems = perr.Problems
	case err != nil:
		vf.Err = err.Error()
	default:
		vf.Canaries = cs
	}
	return vf, nil
}

func (h *Handler) validationStatus(ctx context.Context, pr PullRequest, problems int, body, link string) error {
	gh := h.cfg.GitHub
	if gh.Statuses == nil {
		return nil
	}
	state, conclusion, desc := "success", "success", "canary specs are valid"
	if problems > 0 {
		state, conclusion, desc = "failure", "failure", fmt.Sprintf("%d problem(s) in canary specs", problems)
	}
	if gh.CheckRuns {
		return gh.Statuses.CreateCheckRun(ctx, gh.Repository, pr.HeadSHA, CheckRun{Name: "birdwatch validate",
			ExternalID: checkValidate, Status: "completed", Conclusion: conclusion, Title: desc, Summary: body, DetailsURL: link})
	}
	return gh.Statuses.SetStatus(ctx, gh.Repository, pr.HeadSHA, CommitStatus{State: state, Context: "birdwatch/validate",
		Description: desc, TargetURL: link})
}
