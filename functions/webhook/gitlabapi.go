package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// GitLabAPI implements Comments, PullRequests, Statuses and LoginResolver
// for GitLab with its official Go client: merge requests are pull requests
// (number is the IID, repo the project's path_with_namespace), notes are
// comments, commit statuses are statuses. It is safe for concurrent use.
type GitLabAPI struct {
	client *gitlab.Client
}

// NewGitLabAPI wraps client, which carries the token and, for self-managed
// GitLab or tests, the base URL. The token needs the api scope (notes,
// commit statuses) and Developer access to the project.
func NewGitLabAPI(client *gitlab.Client) *GitLabAPI { return &GitLabAPI{client: client} }

// Login returns the username of the token's account (GET /user).
func (g *GitLabAPI) Login(ctx context.Context) (string, error) {
	u, _, err := g.client.Users.CurrentUser(gitlab.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("get the GitLab token's user: %w", err)
	}
	return u.Username, nil
}

// ListComments lists a merge request's notes, oldest first, system notes
// ("added 1 commit") left out.
func (g *GitLabAPI) ListComments(ctx context.Context, repo string, number int) ([]Comment, error) {
	opts := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: 100},
		OrderBy: gitlab.Ptr("created_at"), Sort: gitlab.Ptr("asc")}
	var out []Comment
	for range maxCommentPages {
		notes, resp, err := g.client.Notes.ListMergeRequestNotes(repo, int64(number), opts, gitlab.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list notes of %s!%d: %w", repo, number, err)
		}
		for _, n := range notes {
			if !n.System {
				out = append(out, toNote(n))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// CreateComment adds a note to a merge request.
func (g *GitLabAPI) CreateComment(ctx context.Context, repo string, number int, body string) (Comment, error) {
	n, _, err := g.client.Notes.CreateMergeRequestNote(repo, int64(number), &gitlab.CreateMergeRequestNoteOptions{Body: &body}, gitlab.WithContext(ctx))
	if err != nil {
		return Comment{}, fmt.Errorf("note on %s!%d: %w", repo, number, err)
	}
	return toNote(n), nil
}

// EditComment replaces a note's body.
func (g *GitLabAPI) EditComment(ctx context.Context, repo string, number int, id int64, body string) (Comment, error) {
	n, _, err := g.client.Notes.UpdateMergeRequestNote(repo, int64(number), id, &gitlab.UpdateMergeRequestNoteOptions{Body: &body}, gitlab.WithContext(ctx))
	if err != nil {
		return Comment{}, fmt.Errorf("edit note %d on %s!%d: %w", id, repo, number, err)
	}
	return toNote(n), nil
}

func toNote(n *gitlab.Note) Comment {
	return Comment{ID: n.ID, Body: n.Body, Author: n.Author.Username}
}

// PullRequest reads one merge request.
func (g *GitLabAPI) PullRequest(ctx context.Context, repo string, number int) (PullRequest, error) {
	mr, resp, err := g.client.MergeRequests.GetMergeRequest(repo, int64(number), nil, gitlab.WithContext(ctx))
	if gitlabNotFound(resp, err) {
		return PullRequest{}, fmt.Errorf("merge request %s!%d: %w", repo, number, ErrNotFound)
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("get merge request %s!%d: %w", repo, number, err)
	}
	return PullRequest{Number: int(mr.IID), HeadSHA: mr.SHA, HTMLURL: mr.WebURL}, nil
}

// ChangedFiles lists the files a merge request changes.
func (g *GitLabAPI) ChangedFiles(ctx context.Context, repo string, number int) ([]ChangedFile, error) {
	opts := &gitlab.ListMergeRequestDiffsOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}
	var out []ChangedFile
	for range maxFilePages {
		diffs, resp, err := g.client.MergeRequests.ListMergeRequestDiffs(repo, int64(number), opts, gitlab.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list diffs of %s!%d: %w", repo, number, err)
		}
		for _, d := range diffs {
			out = append(out, ChangedFile{Path: d.NewPath, Status: diffStatus(d)})
			if d.RenamedFile && d.OldPath != d.NewPath {
				out = append(out, ChangedFile{Path: d.OldPath, Status: "removed"})
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// diffStatus names a GitLab diff the way GitHub names file changes.
func diffStatus(d *gitlab.MergeRequestDiff) string {
	switch {
	case d.NewFile:
		return "added"
	case d.DeletedFile:
		return "removed"
	case d.RenamedFile:
		return "renamed"
	}
	return "modified"
}

// FileAt reads a file at ref (GET /projects/:id/repository/files/:path/raw).
func (g *GitLabAPI) FileAt(ctx context.Context, repo, path, ref string) ([]byte, error) {
	b, resp, err := g.client.RepositoryFiles.GetRawFile(repo, path, &gitlab.GetRawFileOptions{Ref: &ref}, gitlab.WithContext(ctx))
	if gitlabNotFound(resp, err) {
		return nil, fmt.Errorf("%s at %s: %w", path, ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s at %s: %w", path, ref, err)
	}
	return b, nil
}

// OriginPull lists the commits that touched file on branch, newest first,
// skips birdwatch's decisions, and asks GitLab which merged merge request
// brought the newest other commit into branch.
func (g *GitLabAPI) OriginPull(ctx context.Context, repo, branch, file string) (*PullRequest, error) {
	commits, _, err := g.client.Commits.ListCommits(repo, &gitlab.ListCommitsOptions{RefName: &branch, Path: &file,
		ListOptions: gitlab.ListOptions{PerPage: originCommits}}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list commits of %s on %s: %w", file, branch, err)
	}
	for _, c := range commits {
		if isBirdwatchCommit(c.Message) {
			continue
		}
		mrs, _, err := g.client.Commits.ListMergeRequestsByCommit(repo, c.ID, gitlab.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("merge requests of commit %s: %w", c.ID, err)
		}
		for _, mr := range mrs {
			if mr.TargetBranch == branch && mr.State == "merged" {
				return &PullRequest{Number: int(mr.IID), HeadSHA: mr.SHA, HTMLURL: mr.WebURL}, nil
			}
		}
		return nil, nil
	}
	return nil, nil
}

// gitlabStates maps commit status states as birdwatch words them (GitHub's)
// to GitLab's.
var gitlabStates = map[string]gitlab.BuildStateValue{
	"pending": gitlab.Pending, "success": gitlab.Success, "failure": gitlab.Failed, "error": gitlab.Failed,
}

// SetStatus sets a commit status; its context is the status name.
func (g *GitLabAPI) SetStatus(ctx context.Context, repo, sha string, s CommitStatus) error {
	state, ok := gitlabStates[s.State]
	if !ok {
		return fmt.Errorf("set status %s on %s: unknown state %q", s.Context, sha, s.State)
	}
	opts := &gitlab.SetCommitStatusOptions{State: state, Name: &s.Context, Description: &s.Description}
	if s.TargetURL != "" {
		opts.TargetURL = &s.TargetURL
	}
	if _, _, err := g.client.Commits.SetCommitStatus(repo, sha, opts, gitlab.WithContext(ctx)); err != nil {
		return fmt.Errorf("set status %s on %s: %w", s.Context, sha, err)
	}
	return nil
}

// CreateCheckRun is GitHub's; GitLab has commit statuses only.
func (g *GitLabAPI) CreateCheckRun(context.Context, string, string, CheckRun) error {
	return errors.New("GitLab has no check runs: report with commit statuses")
}

func gitlabNotFound(resp *gitlab.Response, err error) bool {
	return err != nil && (errors.Is(err, gitlab.ErrNotFound) || resp != nil && resp.StatusCode == http.StatusNotFound)
}

// gitlabCommitURL links a commit on GitLab's web pages.
func gitlabCommitURL(webURL, project, hash string) string {
	return strings.TrimSuffix(webURL, "/") + "/" + project + "/-/commit/" + hash
}
