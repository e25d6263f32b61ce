package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v84/github"
)

// GitHubAPI implements GitHub with go-github. It is safe for concurrent use.
type GitHubAPI struct {
	client *github.Client
}

// NewGitHub returns the GitHub lookups backed by client, which carries the
// token (client.WithAuthToken) and, for GitHub Enterprise or tests, the base
// URL. The token needs read access to the organization's teams (members:read)
// and to the repository's collaborators.
func NewGitHub(client *github.Client) *GitHubAPI { return &GitHubAPI{client: client} }

// TeamMember calls GET /orgs/{org}/teams/{team}/memberships/{user}: 200 with
// state "active" is membership; 404 is not; a pending invitation is not.
func (g *GitHubAPI) TeamMember(ctx context.Context, org, team, user string) (bool, error) {
	m, resp, err := g.client.Teams.GetTeamMembershipBySlug(ctx, org, team, user)
	if isNotFound(resp, err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get membership of %s in %s/%s: %w", user, org, team, err)
	}
	return m.GetState() == "active", nil
}

// Permission calls GET /repos/{owner}/{name}/collaborators/{user}/permission
// and returns the role name when GitHub gives one (admin, maintain, write,
// triage, read), else the permission (admin, write, read, none). A user who
// is not a collaborator (404) has "none".
func (g *GitHubAPI) Permission(ctx context.Context, owner, name, user string) (string, error) {
	p, resp, err := g.client.Repositories.GetPermissionLevel(ctx, owner, name, user)
	if isNotFound(resp, err) {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("get permission of %s on %s/%s: %w", user, owner, name, err)
	}
	if r := p.GetRoleName(); r != "" {
		return r, nil
	}
	return p.GetPermission(), nil
}

// isNotFound reports whether a go-github call failed with 404.
func isNotFound(resp *github.Response, err error) bool {
	if err == nil {
		return false
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode == http.StatusNotFound
	}
	return resp != nil && resp.StatusCode == http.StatusNotFound
}
