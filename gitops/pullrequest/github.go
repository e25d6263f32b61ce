package pullrequest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v84/github"
)

// GitHubConfig configures GitHub.
type GitHubConfig struct {
	// Owner and Repo name the repository ("acme", "fleet").
	Owner, Repo string
	// Token authenticates (a PAT or an App installation token); never logged.
	Token string
	// BaseURL is the REST API root; "" means https://api.github.com/. For
	// GitHub Enterprise Server give "https://HOST/api/v3/".
	BaseURL string
	// HTTPClient is used for every call; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AutoMerge asks GitHub to merge each pull request once its branch
	// protection allows (see GitHub.Propose).
	AutoMerge bool
	// MergeMethod is merge (default: birdwatch's commit, with its trailers,
	// lands unchanged), squash or rebase.
	MergeMethod string
}

// GitHub finds, opens, updates, comments on and closes birdwatch's pull
// requests through the GitHub REST API (go-github) and, for auto-merge, the
// GraphQL API. It is safe for concurrent use.
type GitHub struct {
	client      *github.Client
	owner, repo string
	autoMerge   bool
	method      string
	graphqlURL  string
}

// NewGitHub checks cfg and builds the client. It does not call GitHub.
func NewGitHub(cfg GitHubConfig) (*GitHub, error) {
	if cfg.Owner == "" || cfg.Repo == "" {
		return nil, fmt.Errorf("%w: GitHub owner and repository are required", ErrConfig)
	}
	method := cfg.MergeMethod
	if method == "" {
		method = "merge"
	}
	if method != "merge" && method != "squash" && method != "rebase" {
		return nil, fmt.Errorf("%w: merge method %q is not merge, squash or rebase", ErrConfig, method)
	}
	c := github.NewClient(cfg.HTTPClient)
	if cfg.Token != "" {
		c = c.WithAuthToken(cfg.Token)
	}
	if cfg.BaseURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(cfg.BaseURL, cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("%w: base URL: %v", ErrConfig, err)
		}
	}
	return &GitHub{client: c, owner: cfg.Owner, repo: cfg.Repo, autoMerge: cfg.AutoMerge, method: method,
		graphqlURL: graphqlURL(c.BaseURL)}, nil
}

// graphqlURL derives the GraphQL endpoint from the REST root:
// https://api.github.com/graphql, or https://HOST/api/graphql on GHES.
func graphqlURL(rest *url.URL) string {
	u := *rest
	if p, ok := strings.CutSuffix(u.Path, "/v3/"); ok {
		u.Path = p + "/graphql"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	return u.String()
}

// maxClosedPages bounds Find's walk through closed pull requests (newest
// updated first, 100 a page): a rollout's latest one is near the top.
const maxClosedPages = 3

// Find returns the newest birdwatch pull request whose head branch starts
// with prefix: the open one if any (the newest, should there be several),
// else the most recently closed one; nil when there is none.
func (g *GitHub) Find(ctx context.Context, prefix string) (*PR, error) {
	open, err := g.list(ctx, "open", prefix, 10)
	if err != nil {
		return nil, err
	}
	if pr := newest(open); pr != nil {
		return pr, nil
	}
	closed, err := g.list(ctx, "closed", prefix, maxClosedPages)
	if err != nil {
		return nil, err
	}
	return newest(closed), nil
}

func (g *GitHub) list(ctx context.Context, state, prefix string, pages int) ([]*PR, error) {
	opts := &github.PullRequestListOptions{State: state, Sort: "updated", Direction: "desc",
		ListOptions: github.ListOptions{PerPage: 100}}
	var out []*PR
	for range pages {
		prs, resp, err := g.client.PullRequests.List(ctx, g.owner, g.repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s pull requests of %s/%s: %w", state, g.owner, g.repo, restError(err))
		}
		for _, p := range prs {
			if strings.HasPrefix(p.GetHead().GetRef(), prefix) {
				out = append(out, fromGitHub(p))
			}
		}
		if len(out) > 0 || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// newest is the pull request closed last, or, for open ones, numbered last.
func newest(prs []*PR) *PR {
	var best *PR
	for _, p := range prs {
		switch {
		case best == nil:
			best = p
		case p.ClosedAt != nil && best.ClosedAt != nil && p.ClosedAt.After(*best.ClosedAt):
			best = p
		case p.ClosedAt == nil && best.ClosedAt == nil && p.Number > best.Number:
			best = p
		}
	}
	return best
}

// Propose opens a pull request for p, or updates pr (open, same branch) to
// p's title and body. Then, with AutoMerge, it asks GitHub to merge: first
// GraphQL enablePullRequestAutoMerge, which merges once branch protection
// (reviews, checks) allows; when GitHub answers that the pull request can
// be merged right now ("clean status") or that the repository does not
// allow auto-merge, the REST merge (with the head commit as a guard). A
// merge GitHub refuses (reviews required, a conflict) is no error: the pull
// request stays open for humans and PR.AutoMerge says why.
func (g *GitHub) Propose(ctx context.Context, p Proposal, pr *PR) (*PR, error) {
	body := strings.TrimRight(p.Body, "\n") + "\n\n" + p.Marker.String() + "\n"
	var out *PR
	if pr != nil && pr.Open {
		if pr.Branch != p.Branch {
			return nil, fmt.Errorf("update pull request #%d: %w: it is from %s, not %s", pr.Number, ErrBranchTaken, pr.Branch, p.Branch)
		}
		got, _, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, pr.Number,
			&github.PullRequest{Title: github.Ptr(p.Title), Body: github.Ptr(body)})
		if err != nil {
			return nil, fmt.Errorf("update pull request #%d: %w", pr.Number, restError(err))
		}
		out = fromGitHub(got)
	} else {
		got, _, err := g.client.PullRequests.Create(ctx, g.owner, g.repo, &github.NewPullRequest{
			Title: github.Ptr(p.Title), Head: github.Ptr(p.Branch), Base: github.Ptr(p.Base), Body: github.Ptr(body),
			MaintainerCanModify: github.Ptr(false)})
		if err != nil {
			return nil, fmt.Errorf("open pull request from %s: %w", p.Branch, restError(err))
		}
		out = fromGitHub(got)
		if len(p.Labels) > 0 {
			if _, _, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, out.Number, p.Labels); err != nil {
				return nil, fmt.Errorf("label pull request #%d: %w", out.Number, restError(err))
			}
			out.Labels = append(out.Labels, p.Labels...)
		}
	}
	if g.autoMerge {
		if err := g.merge(ctx, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Note comments on pr and adds label, once: a pull request that already
// has the label is left alone, so a note is not repeated on every run.
func (g *GitHub) Note(ctx context.Context, pr *PR, label, comment string) error {
	if pr.HasLabel(label) {
		return nil
	}
	if _, _, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, pr.Number, &github.IssueComment{Body: github.Ptr(comment)}); err != nil {
		return fmt.Errorf("comment on pull request #%d: %w", pr.Number, restError(err))
	}
	if _, _, err := g.client.Issues.AddLabelsToIssue(ctx, g.owner, g.repo, pr.Number, []string{label}); err != nil {
		return fmt.Errorf("label pull request #%d: %w", pr.Number, restError(err))
	}
	pr.Labels = append(pr.Labels, label)
	return nil
}

// Close comments on pr, then closes it without merging.
func (g *GitHub) Close(ctx context.Context, pr *PR, comment string) error {
	if _, _, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, pr.Number, &github.IssueComment{Body: github.Ptr(comment)}); err != nil {
		return fmt.Errorf("comment on pull request #%d: %w", pr.Number, restError(err))
	}
	if _, _, err := g.client.PullRequests.Edit(ctx, g.owner, g.repo, pr.Number, &github.PullRequest{State: github.Ptr("closed")}); err != nil {
		return fmt.Errorf("close pull request #%d: %w", pr.Number, restError(err))
	}
	pr.Open = false
	return nil
}

// merge asks for auto-merge, falling back to merging now (see Propose).
func (g *GitHub) merge(ctx context.Context, pr *PR) error {
	err := g.enableAutoMerge(ctx, pr)
	var gqlErr *graphQLError
	switch {
	case err == nil:
		pr.AutoMerge = "enabled"
		return nil
	case !errors.As(err, &gqlErr):
		return err
	case !gqlErr.mergeableNow():
		pr.AutoMerge = "not merged: " + gqlErr.Error()
		return nil
	}
	_, _, err = g.client.PullRequests.Merge(ctx, g.owner, g.repo, pr.Number, "",
		&github.PullRequestOptions{MergeMethod: g.method, SHA: pr.HeadSHA})
	var ghErr *github.ErrorResponse
	switch {
	case errors.As(err, &ghErr) && (ghErr.Response.StatusCode == http.StatusMethodNotAllowed || ghErr.Response.StatusCode == http.StatusConflict):
		pr.AutoMerge = "not merged: " + ghErr.Message
		return nil
	case err != nil:
		return fmt.Errorf("merge pull request #%d: %w", pr.Number, restError(err))
	}
	pr.AutoMerge, pr.Open = "merged", false
	return nil
}
