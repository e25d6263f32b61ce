package chatops

import "errors"

// Errors the handler and the runner branch on.
var (
	// ErrBadSignature: the request's Slack v0 signature is missing, wrong or
	// too old (more than five minutes); the handler answers 401 and does nothing.
	ErrBadSignature = errors.New("invalid Slack request signature")
	// ErrTooLarge: the request body exceeds Handler.MaxBody; the handler answers 413.
	ErrTooLarge = errors.New("request body too large")
	// ErrBadRequest: a signed request that is not a slash command or an interaction.
	ErrBadRequest = errors.New("bad Slack request")
	// ErrUsage: the command text is not a birdwatch command; the user gets the usage.
	ErrUsage = errors.New("not a birdwatch command")
	// ErrBadJob: a job that cannot be run or answered (no user, trigger or response URL).
	ErrBadJob = errors.New("bad chat-ops job")
	// ErrNotAuthorized: the actor is not among the canary's operators.
	ErrNotAuthorized = errors.New("not authorized")
	// ErrAmbiguousCanary: the reference matches several canaries (a bare name in several namespaces, or one key in several repositories).
	ErrAmbiguousCanary = errors.New("the name matches more than one canary (give namespace/name)")
	// ErrQueueFull: the in-process queue has no room; the user is asked to retry.
	ErrQueueFull = errors.New("chat-ops queue is full")
	// ErrQueueClosed: the in-process queue is shutting down.
	ErrQueueClosed = errors.New("chat-ops queue is closed")
)
