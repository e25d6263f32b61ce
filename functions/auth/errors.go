package auth

import "errors"

// Sentinel errors wrapped by Decision.Err; test with errors.Is.
var (
	// ErrDenied is wrapped by every refusal: the identity is not allowed to
	// command the canary. Decision.Reason says why in words.
	ErrDenied = errors.New("not authorized")

	// ErrLookup means a membership or permission lookup failed (network,
	// rate limit, bad token); the command is refused, since deny is the default.
	ErrLookup = errors.New("authorization lookup failed")
)
