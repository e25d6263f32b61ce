// Package auth decides whether a person may command a canary, from the
// canary's spec.access.operators list. Entries are "github:ORG/TEAM" (an
// active member of the team), "github:USER", "gitlab:USER", "gitlab:GROUP"
// (a member with at least Developer access) and "slack:ID" (a Slack user
// ID, or a Slack user group ID starting with S). An empty list means nobody may
// command; anything not allowed by an entry is denied, and the Decision says
// why.
//
// Team membership, repository permission and Slack group membership are
// looked up through small interfaces (GitHub, SlackGroups); NewGitHub backs
// the first with go-github. Lookups happen only when an entry needs them.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Providers of identities.
const (
	ProviderGitHub = "github"
	ProviderSlack  = "slack"
)

// Identity is who gives a command: a GitHub login, a GitLab username or a
// Slack user ID.
type Identity struct {
	// Provider is ProviderGitHub, ProviderGitLab or ProviderSlack.
	Provider string
	// User is the GitHub login or GitLab username (case-insensitive), or the Slack user ID.
	User string
	// ID is the numeric GitLab user ID (membership lookups need it); 0 elsewhere.
	ID int64
}

// String renders "provider:user", the form used as a command's actor.
func (i Identity) String() string { return i.Provider + ":" + i.User }

// GitHub answers the GitHub questions authorization needs. Implementations
// must be safe for concurrent use.
type GitHub interface {
	// TeamMember reports whether user is an active member of the team with
	// slug team in org (a pending invitation is not membership).
	TeamMember(ctx context.Context, org, team, user string) (bool, error)
	// Permission returns user's permission on the repository owner/name:
	// "admin", "maintain", "write", "triage", "read" or "none".
	Permission(ctx context.Context, owner, name, user string) (string, error)
}

// SlackGroups answers whether a Slack user belongs to a user group.
type SlackGroups interface {
	GroupMember(ctx context.Context, group, user string) (bool, error)
}

// Authorizer checks commands against spec.access. The zero value checks
// plain user entries only: team and group entries then deny, saying that no
// API is configured. Its fields are set once; it is then safe for concurrent use.
type Authorizer struct {
	// GitHub looks up team membership and repository permission; nil
	// means team entries cannot match.
	GitHub GitHub
	// Slack looks up user group membership; nil means group entries cannot match.
	Slack SlackGroups
	// Repository is the GitOps repository as "owner/name". When set (and
	// GitHub is set), a GitHub identity must also have write permission on
	// it, so someone who lost access cannot command through a stale entry.
	Repository string
	// GitLab looks up group and project membership; nil means group
	// entries cannot match.
	GitLab GitLab
	// GitLabProject is the GitOps project's path_with_namespace. When set
	// (and GitLab is set), a GitLab identity must also have Developer
	// access to it.
	GitLabProject string
}

// Decision is the answer to one authorization question.
type Decision struct {
	// Allowed is true only when an entry matched and every check passed.
	Allowed bool
	// Entry is the spec.access.operators entry that allowed the command.
	Entry string
	// Reason says why, in words fit for a PR comment or chat reply.
	Reason string
	// Err wraps ErrDenied or ErrLookup when Allowed is false.
	Err error
}

// Authorize decides whether who may command the canary key ("ns/name")
// whose access list is access. It denies by default: an empty list, an
// unknown provider, a lookup error, or no matching entry.
func (a *Authorizer) Authorize(ctx context.Context, key string, access spec.AccessSpec, who Identity) Decision {
	if who.User == "" || (who.Provider != ProviderGitHub && who.Provider != ProviderGitLab && who.Provider != ProviderSlack) {
		return deny(ErrDenied, "unknown identity %q", who.String())
	}
	if len(access.Operators) == 0 {
		return deny(ErrDenied, "nobody may command %s: its spec.access.operators is empty", key)
	}
	var lookupErrs []error
	var notes []string
	for _, entry := range access.Operators {
		ok, note, err := a.match(ctx, entry, who)
		if err != nil {
			lookupErrs = append(lookupErrs, err)
			continue
		}
		if note != "" {
			notes = append(notes, note)
		}
		if ok {
			return a.confirm(ctx, entry, who)
		}
	}
	if len(lookupErrs) > 0 {
		err := errors.Join(lookupErrs...)
		return Decision{Reason: fmt.Sprintf("could not check %s's access to %s: %v", who, key, err),
			Err: fmt.Errorf("%w: %w", ErrLookup, err)}
	}
	reason := fmt.Sprintf("%s is not among the operators of %s (%s)", who, key, strings.Join(access.Operators, ", "))
	if len(notes) > 0 {
		reason += "; " + strings.Join(notes, "; ")
	}
	return Decision{Reason: reason, Err: ErrDenied}
}

// match reports whether entry names who. note explains an entry that could
// not be checked (no API configured); err is a failed lookup.
func (a *Authorizer) match(ctx context.Context, entry string, who Identity) (ok bool, note string, err error) {
	provider, subject, found := strings.Cut(entry, ":")
	if !found || subject == "" || provider != who.Provider {
		return false, "", nil
	}
	switch provider {
	case ProviderGitHub:
		org, team, isTeam := strings.Cut(subject, "/")
		if !isTeam {
			return strings.EqualFold(subject, who.User), "", nil
		}
		if a.GitHub == nil {
			return false, fmt.Sprintf("team %s cannot be checked: no GitHub API configured", subject), nil
		}
		member, err := a.GitHub.TeamMember(ctx, org, team, who.User)
		if err != nil {
			return false, "", fmt.Errorf("team %s: %w", subject, err)
		}
		return member, "", nil
	case ProviderGitLab:
		return a.matchGitLab(ctx, subject, who)
	case ProviderSlack:
		if subject == who.User {
			return true, "", nil
		}
		if !strings.HasPrefix(subject, "S") {
			return false, "", nil
		}
		if a.Slack == nil {
			return false, fmt.Sprintf("Slack group %s cannot be checked: no Slack API configured", subject), nil
		}
		member, err := a.Slack.GroupMember(ctx, subject, who.User)
		if err != nil {
			return false, "", fmt.Errorf("slack group %s: %w", subject, err)
		}
		return member, "", nil
	}
	return false, "", nil
}

// writeRoles are the repository permissions that may command.
var writeRoles = []string{"admin", "maintain", "write"}

// confirm checks, for a GitHub identity, write permission on the repository.
func (a *Authorizer) confirm(ctx context.Context, entry string, who Identity) Decision {
	if who.Provider == ProviderGitLab {
		return a.confirmGitLab(ctx, entry, who)
	}
	if who.Provider != ProviderGitHub || a.GitHub == nil || a.Repository == "" {
		return Decision{Allowed: true, Entry: entry, Reason: fmt.Sprintf("%s is allowed by %s", who, entry)}
	}
	owner, name, ok := strings.Cut(a.Repository, "/")
	if !ok {
		return deny(ErrLookup, "bad repository %q: want owner/name", a.Repository)
	}
	perm, err := a.GitHub.Permission(ctx, owner, name, who.User)
	if err != nil {
		return Decision{Reason: fmt.Sprintf("could not check %s's permission on %s: %v", who, a.Repository, err),
			Err: fmt.Errorf("%w: permission on %s: %w", ErrLookup, a.Repository, err)}
	}
	if !slices.Contains(writeRoles, perm) {
		return deny(ErrDenied, "%s matches %s but has %q permission on %s (write needed)", who, entry, perm, a.Repository)
	}
	return Decision{Allowed: true, Entry: entry, Reason: fmt.Sprintf("%s is allowed by %s", who, entry)}
}

func deny(err error, format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...), Err: err}
}
