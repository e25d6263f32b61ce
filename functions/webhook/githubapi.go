package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"
)

// PullRequest names a pull request and the commit its checks attach to.
type PullRequest struct {
	Number  int
	HeadSHA string
	HTMLURL string
}

// ChangedFile is one file a pull request changes; Status is GitHub's
// (added, modified, removed, renamed, copied, changed, unchanged).
type ChangedFile struct {
	Path, Status string
}

// Comment is an issue or pull request comment; Author is its user's login.
type Comment struct {
	ID      int64
	Body    string
	HTMLURL string
	Author  string
}

// CommitStatus is a commit status: State is pending, success, failure or error.
type CommitStatus struct {
	State, Context, Description, TargetURL string
}

// CheckRun is a completed or in-progress check run; Conclusion is empty
// while Status is in_progress. Summary is Markdown.
type CheckRun struct {
	Name, ExternalID, Status, Conclusion, Title, Summary, DetailsURL string
}

// Comments reads and writes pull request comments. repo is "owner/name".
type Comments interface {
	ListComments(ctx context.Context, repo string, number int) ([]Comment, error)
	CreateComment(ctx context.Context, repo string, number int, body string) (Comment, error)
	// EditComment replaces the body of comment id on pull request number
	// (GitLab addresses notes through their merge request).
	EditComment(ctx context.Context, repo string, number int, id int64, body string) (Comment, error)
}

// PullRequests reads pull requests and their files. repo is "owner/name".
type PullRequests interface {
	PullRequest(ctx context.Context, repo string, number int) (PullRequest, error)
	ChangedFiles(ctx context.Context, repo string, number int) ([]ChangedFile, error)
	// FileAt returns a file's content at ref; ErrNotFound when absent.
	FileAt(ctx context.Context, repo, path, ref string) ([]byte, error)
	// OriginPull returns the merged pull request that made the newest human
	// change to file on branch (birdwatch's own commits are skipped), or nil.
	OriginPull(ctx context.Context, repo, branch, file string) (*PullRequest, error)
}

// Statuses attaches results to commits. repo is "owner/name".
type Statuses interface {
	SetStatus(ctx context.Context, repo, sha string, s CommitStatus) error
	CreateCheckRun(ctx context.Context, repo, sha string, c CheckRun) error
}

// Page limits for listings (100 items a page).
const (
	maxCommentPages = 20 // 2,000 comments
	maxFilePages    = 30 // GitHub lists at most 3,000 files of a pull request
)

// GitHubAPI implements Comments, PullRequests and Statuses with go-github.
// It is safe for concurrent use.
type GitHubAPI struct {
	client *github.Client
}

// NewGitHubAPI wraps client, which carries the token (WithAuthToken) and,
// for GitHub Enterprise or tests, the base URL. The token needs pull
// requests, issues and statuses (or checks) write access and contents read.
func NewGitHubAPI(client *github.Client) *GitHubAPI { return &GitHubAPI{client: client} }

func split(repo string) (string, string) {
	owner, name, _ := strings.Cut(repo, "/")
	return owner, name
}

// ListComments lists a pull request's conversation comments, oldest first.
func (g *GitHubAPI) ListComments(ctx context.Context, repo string, number int) ([]Comment, error) {
	owner, name := split(repo)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var out []Comment
	for range maxCommentPages {
		cs, resp, err := g.client.Issues.ListComments(ctx, owner, name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", repo, number, err)
		}
		for _, c := range cs {
			out = append(out, toComment(c))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// CreateComment adds a comment to a pull request.
func (g *GitHubAPI) CreateComment(ctx context.Context, repo string, number int, body string) (Comment, error) {
	owner, name := split(repo)
	c, _, err := g.client.Issues.CreateComment(ctx, owner, name, number, &github.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, fmt.Errorf("comment on %s#%d: %w", repo, number, err)
	}
	return toComment(c), nil
}

// EditComment replaces a comment's body.
func (g *GitHubAPI) EditComment(ctx context.Context, repo string, _ int, id int64, body string) (Comment, error) {
	owner, name := split(repo)
	c, _, err := g.client.Issues.EditComment(ctx, owner, name, id, &github.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, fmt.Errorf("edit comment %d in %s: %w", id, repo, err)
	}
	return toComment(c), nil
}

func toComment(c *github.IssueComment) Comment {
	return Comment{ID: c.GetID(), Body: c.GetBody(), HTMLURL: c.GetHTMLURL(), Author: c.GetUser().GetLogin()}
}

// PullRequest reads one pull request.
func (g *GitHubAPI) PullRequest(ctx context.Context, repo string, number int) (PullRequest, error) {
	owner, name := split(repo)
	pr, resp, err := g.client.PullRequests.Get(ctx, owner, name, number)
	if notFound(resp, err) {
		return PullRequest{}, fmt.Errorf("pull request %s#%d: %w", repo, number, ErrNotFound)
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("get pull request %s#%d: %w", repo, number, err)
	}
	return PullRequest{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), HTMLURL: pr.GetHTMLURL()}, nil
}

// ChangedFiles lists the files a pull request changes.
func (g *GitHubAPI) ChangedFiles(ctx context.Context, repo string, number int) ([]ChangedFile, error) {
	owner, name := split(repo)
	opts := &github.ListOptions{PerPage: 100}
	var out []ChangedFile
	for range maxFilePages {
		fs, resp, err := g.client.PullRequests.ListFiles(ctx, owner, name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list files of %s#%d: %w", repo, number, err)
		}
		for _, f := range fs {
			out = append(out, ChangedFile{Path: f.GetFilename(), Status: f.GetStatus()})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// FileAt reads a file at ref through the contents API (which also serves
// the head commits of pull requests from forks).
func (g *GitHubAPI) FileAt(ctx context.Context, repo, path, ref string) ([]byte, error) {
	owner, name := split(repo)
	fc, _, resp, err := g.client.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if notFound(resp, err) {
		return nil, fmt.Errorf("%s at %s: %w", path, ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s at %s: %w", path, ref, err)
	}
	if fc == nil {
		return nil, fmt.Errorf("%s at %s is a directory: %w", path, ref, ErrNotFound)
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("decode %s at %s: %w", path, ref, err)
	}
	return []byte(s), nil
}

// originCommits is how many recent commits to file are searched for a human one.
const originCommits = 20

// OriginPull lists the commits that touched file on branch, newest first,
// skips birdwatch's decisions, and asks GitHub which merged pull request
// brought the newest other commit into branch.
func (g *GitHubAPI) OriginPull(ctx context.Context, repo, branch, file string) (*PullRequest, error) {
	owner, name := split(repo)
	commits, _, err := g.client.Repositories.ListCommits(ctx, owner, name, &github.CommitsListOptions{
		SHA: branch, Path: file, ListOptions: github.ListOptions{PerPage: originCommits}})
	if err != nil {
		return nil, fmt.Errorf("list commits of %s on %s: %w", file, branch, err)
	}
	for _, c := range commits {
		if isBirdwatchCommit(c.GetCommit().GetMessage()) {
			continue
		}
		prs, _, err := g.client.PullRequests.ListPullRequestsWithCommit(ctx, owner, name, c.GetSHA(), nil)
		if err != nil {
			return nil, fmt.Errorf("pull requests of commit %s: %w", c.GetSHA(), err)
		}
		for _, pr := range prs {
			if pr.GetBase().GetRef() == branch && pr.MergedAt != nil {
				return &PullRequest{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), HTMLURL: pr.GetHTMLURL()}, nil
			}
		}
		return nil, nil
	}
	return nil, nil
}

// SetStatus creates a commit status.
func (g *GitHubAPI) SetStatus(ctx context.Context, repo, sha string, s CommitStatus) error {
	owner, name := split(repo)
	st := github.RepoStatus{State: &s.State, Context: &s.Context, Description: &s.Description}
	if s.TargetURL != "" {
		st.TargetURL = &s.TargetURL
	}
	if _, _, err := g.client.Repositories.CreateStatus(ctx, owner, name, sha, st); err != nil {
		return fmt.Errorf("set status %s on %s: %w", s.Context, sha, err)
	}
	return nil
}

// CreateCheckRun creates a check run (GitHub App tokens only).
func (g *GitHubAPI) CreateCheckRun(ctx context.Context, repo, sha string, c CheckRun) error {
	owner, name := split(repo)
	opts := github.CreateCheckRunOptions{Name: c.Name, HeadSHA: sha, ExternalID: &c.ExternalID, Status: &c.Status,
		Output: &github.CheckRunOutput{Title: &c.Title, Summary: &c.Summary}}
	if c.Conclusion != "" {
		opts.Conclusion = &c.Conclusion
		opts.CompletedAt = &github.Timestamp{Time: time.Now()}
	}
	if c.DetailsURL != "" {
		opts.DetailsURL = &c.DetailsURL
	}
	if _, _, err := g.client.Checks.CreateCheckRun(ctx, owner, name, opts); err != nil {
		return fmt.Errorf("create check run %s on %s: %w", c.Name, sha, err)
	}
	return nil
}

// notFound reports whether a go-github call failed with 404.
func notFound(resp *github.Response, err error) bool {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode == http.StatusNotFound
	}
	return err != nil && resp != nil && resp.StatusCode == http.StatusNotFound
}
