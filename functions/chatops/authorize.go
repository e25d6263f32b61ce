package chatops

import (
	"context"
	"fmt"
	"slices"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// Authorizer decides whether actor ("slack:<user id>") may command canary.
// A nil error allows; a refusal wraps ErrNotAuthorized and says why, for
// the user. Implementations must be safe for concurrent use.
type Authorizer interface {
	Allowed(ctx context.Context, canary *spec.Canary, actor string) error
}

// Operators is the default Authorizer: it allows exactly the actors listed
// in the canary's spec.access.operators (a "slack:U024BE7LH" entry allows
// that Slack user) and denies everyone else, including every actor of a
// canary that lists no operators. Slack user-group entries and GitHub
// entries are not resolved here (functions/auth does that).
type Operators struct{}

// Allowed implements Authorizer.
func (Operators) Allowed(_ context.Context, c *spec.Canary, actor string) error {
	if slices.Contains(c.Spec.Access.Operators, actor) {
		return nil
	}
	where := "spec.access.operators"
	if c.File != "" {
		where += " in " + c.File
	}
	if len(c.Spec.Access.Operators) == 0 {
		return fmt.Errorf("%w: %s lists no operators (%s), so nobody may command it", ErrNotAuthorized, c.Key(), where)
	}
	return fmt.Errorf("%w: %s is not one of the operators of %s (%s)", ErrNotAuthorized, actor, c.Key(), where)
}
