package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// ProviderGitLab is the provider of GitLab identities ("gitlab:USER" and
// "gitlab:GROUP" entries).
const ProviderGitLab = "gitlab"

// DeveloperAccess is GitLab's Developer role: the least access that may
// command a rollout (pushing to the project needs as much).
const DeveloperAccess = int(gitlab.DeveloperPermissions)

// GitLab answers the GitLab questions authorization needs, by numeric user
// ID (webhook payloads carry it). Implementations must be safe for
// concurrent use.
type GitLab interface {
	// GroupAccess returns the user's access level in the group (path,
	// subgroups included), inherited membership counted; 0 when the user is
	// not an active member.
	GroupAccess(ctx context.Context, group string, userID int64) (int, error)
	// ProjectAccess returns the user's access level in the project
	// (path_with_namespace), inherited membership counted; 0 when none.
	ProjectAccess(ctx context.Context, project string, userID int64) (int, error)
}

// GitLabAPI implements GitLab with GitLab's official Go client. It is safe
// for concurrent use.
type GitLabAPI struct {
	client *gitlab.Client
}

// NewGitLab returns the GitLab lookups backed by client, which carries the
// token and, for self-managed GitLab or tests, the base URL. The token needs
// read_api.
func NewGitLab(client *gitlab.Client) *GitLabAPI { return &GitLabAPI{client: client} }

// GroupAccess calls GET /groups/:id/members/all/:user_id.
func (g *GitLabAPI) GroupAccess(ctx context.Context, group string, userID int64) (int, error) {
	m, resp, err := g.client.GroupMembers.GetInheritedGroupMember(group, userID, gitlab.WithContext(ctx))
	if gitlabNotFound(resp, err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get member %d of group %s: %w", userID, group, err)
	}
	if m.State != "" && m.State != "active" {
		return 0, nil
	}
	return int(m.AccessLevel), nil
}

// ProjectAccess calls GET /projects/:id/members/all/:user_id.
func (g *GitLabAPI) ProjectAccess(ctx context.Context, project string, userID int64) (int, error) {
	m, resp, err := g.client.ProjectMembers.GetInheritedProjectMember(project, userID, gitlab.WithContext(ctx))
	if gitlabNotFound(resp, err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get member %d of project %s: %w", userID, project, err)
	}
	if m.State != "" && m.State != "active" {
		return 0, nil
	}
	return int(m.AccessLevel), nil
}

func gitlabNotFound(resp *gitlab.Response, err error) bool {
	return err != nil && (errors.Is(err, gitlab.ErrNotFound) || resp != nil && resp.StatusCode == http.StatusNotFound)
}

// matchGitLab reports whether the gitlab: entry subject names who: the
// user by username (case-insensitive), else a group where who has at least
// Developer access. Users and groups share GitLab's namespace, so a path is
// one or the other.
func (a *Authorizer) matchGitLab(ctx context.Context, subject string, who Identity) (ok bool, note string, err error) {
	if strings.EqualFold(subject, who.User) {
		return true, "", nil
	}
	if a.GitLab == nil {
		return false, fmt.Sprintf("group %s cannot be checked: no GitLab API configured", subject), nil
	}
	if who.ID == 0 {
		return false, fmt.Sprintf("group %s cannot be checked: the GitLab user ID of %s is unknown", subject, who.User), nil
	}
	level, err := a.GitLab.GroupAccess(ctx, subject, who.ID)
	if err != nil {
		return false, "", fmt.Errorf("gitlab group %s: %w", subject, err)
	}
	if level > 0 && level < DeveloperAccess {
		return false, fmt.Sprintf("%s is in group %s with less than Developer access", who, subject), nil
	}
	return level >= DeveloperAccess, "", nil
}

// confirmGitLab checks, like write permission on GitHub, that who still has
// Developer access to the GitOps project.
func (a *Authorizer) confirmGitLab(ctx context.Context, entry string, who Identity) Decision {
	if a.GitLab == nil || a.GitLabProject == "" {
		return Decision{Allowed: true, Entry: entry, Reason: fmt.Sprintf("%s is allowed by %s", who, entry)}
	}
	level, err := a.GitLab.ProjectAccess(ctx, a.GitLabProject, who.ID)
	if err != nil {
		return Decision{Reason: fmt.Sprintf("could not check %s's access to %s: %v", who, a.GitLabProject, err),
			Err: fmt.Errorf("%w: access to %s: %w", ErrLookup, a.GitLabProject, err)}
	}
	if level < DeveloperAccess {
		return deny(ErrDenied, "%s matches %s but has less than Developer access to %s", who, entry, a.GitLabProject)
	}
	return Decision{Allowed: true, Entry: entry, Reason: fmt.Sprintf("%s is allowed by %s", who, entry)}
}
