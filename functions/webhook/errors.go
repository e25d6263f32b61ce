package webhook

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrSignature means a delivery's signature or token is missing or wrong.
	ErrSignature = errors.New("invalid signature")
	// ErrReplay means a delivery ID that was already handled came again.
	ErrReplay = errors.New("delivery already handled")
	// ErrTooLarge means a request body is over Config.MaxBodyBytes.
	ErrTooLarge = errors.New("request body too large")
	// ErrPayload means a signed payload could not be decoded.
	ErrPayload = errors.New("malformed payload")
	// ErrNotFound means the GitHub API has no such file, comment or pull request.
	ErrNotFound = errors.New("not found")
	// ErrBusy means the work queue is full; the sender should retry later.
	ErrBusy = errors.New("too many deliveries in progress")
)
