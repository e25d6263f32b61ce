package chatops

import (
	"context"
	"fmt"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Authorizer decides whether actor ("slack:<user id>") may command canary.
// A nil error allows; a refusal wraps ErrNotAuthorized and says why, for
// the user. Implementations must be safe for concurrent use.
type Authorizer interface {
	Allowed(ctx context.Context, canary *spec.Canary, actor string) error
}

// Access is the Authorizer of Slack commands: functions/auth's Authorizer,
// the one PR comments and merge request notes go through, so an entry of
// spec.access.operators means the same wherever the command comes from.
// "slack:U..." allows that user; "slack:S..." a member of that user group
// when Auth.Slack is set (auth.NewSlack caches each group's members);
// everyone else is denied, as is every actor of a canary with no operators.
type Access struct {
	// Auth decides; nil means &auth.Authorizer{} (user entries only).
	Auth *auth.Authorizer
}

// Allowed implements Authorizer.
func (a Access) Allowed(ctx context.Context, c *spec.Canary, actor string) error {
	authz := a.Auth
	if authz == nil {
		authz = &auth.Authorizer{}
	}
	who := auth.Identity{Provider: auth.ProviderSlack, User: strings.TrimPrefix(actor, auth.ProviderSlack+":")}
	d := authz.Authorize(ctx, c.Key(), c.Spec.Access, who)
	if d.Allowed {
		return nil
	}
	where := "spec.access.operators"
	if c.File != "" {
		where += " in " + c.File
	}
	return fmt.Errorf("%w: %s (%s)", ErrNotAuthorized, d.Reason, where)
}
