package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/gitops/spectree"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// Revisions reads a commit of the repository; *repo.Repo and
// *repo.GitHubRepo implement it.
type Revisions interface {
	Revision(ctx context.Context, hash string) (*repo.Snapshot, error)
}

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
	var paths []string
	for _, f := range changed {
		if strings.HasPrefix(f.Path, spec.SpecDir+"/") && f.Status != "removed" &&
			(spec.IsSpecPath(f.Path) || !strings.HasPrefix(f.Path, spec.SpecDir+"/status/")) {
			paths = append(paths, f.Path)
		}
	}
	if len(paths) == 0 {
		return ignored("pull request #%d changes no canary spec", pr.Number), nil
	}
	var warnings []string
	files, err := h.validateTree(ctx, pr.HeadSHA, paths)
	if err != nil {
		// The head commit cannot be read whole (a server that does not
		// serve commits by hash): check each spec file alone, and say so.
		warnings = append(warnings, fmt.Sprintf("links, sizes, duplicates and referenced files not checked: %v", err))
		files = nil
		for _, p := range paths {
			if !spec.IsSpecPath(p) {
				continue
			}
			vf, err := h.validateFile(ctx, p, pr.HeadSHA)
			if err != nil {
				return Response{}, err
			}
			files = append(files, vf)
		}
	}
	problems := 0
	for _, vf := range files {
		problems += len(vf.Problems)
		if vf.Err != "" {
			problems++
		}
	}
	resp := Response{Result: "validated", Detail: fmt.Sprintf("%d file(s), %d problem(s)", len(files), problems), Warnings: warnings}
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

// validateTree checks the head commit's .birdwatch/ as the loop and
// validate do (spectree.Load and spectree.References) and returns the
// result for each changed path: its canaries and the problems found in it
// (a duplicate is reported in both files, so a pull request that adds one
// sees it).
func (h *Handler) validateTree(ctx context.Context, head string, paths []string) ([]report.ValidatedFile, error) {
	if h.cfg.Revisions == nil {
		return nil, errors.New("no repository to read the head commit from")
	}
	snap, err := h.cfg.Revisions.Revision(ctx, head)
	if err != nil {
		return nil, err
	}
	tree := spectree.Snapshot{Snapshot: snap}
	cs, err := spectree.Load(tree, h.cfg.Checks)
	var perr *spec.Error
	var problems []spec.Problem
	switch {
	case errors.As(err, &perr):
		problems = perr.Problems
	case err != nil:
		return nil, err
	}
	for _, c := range cs {
		problems = append(problems, spectree.References(tree, c, core.ReadWeights)...)
	}
	files := make([]report.ValidatedFile, 0, len(paths))
	for _, p := range paths {
		vf := report.ValidatedFile{Path: p}
		for _, pr := range problems {
			if pr.File == p {
				vf.Problems = append(vf.Problems, pr)
			}
		}
		for _, c := range cs {
			if c.File == p && !slices.ContainsFunc(vf.Problems, func(pr spec.Problem) bool { return pr.Line == c.Line }) {
				vf.Canaries = append(vf.Canaries, c)
			}
		}
		if len(vf.Problems) > 0 || len(vf.Canaries) > 0 || spec.IsSpecPath(p) {
			files = append(files, vf)
		}
	}
	return files, nil
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
