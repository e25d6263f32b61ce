package worker

import "errors"

// ErrUnknownRepo is returned for a message naming a repository the worker
// is not configured for; such a message is dropped, never retried.
var ErrUnknownRepo = errors.New("repository is not configured")

// ErrBadMessage is returned for a message body that is not a birdwatch message.
var ErrBadMessage = errors.New("bad message")

// PermanentError marks an error that retrying cannot fix: the worker logs
// it and deletes the message instead of reporting a batch item failure.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the worker does not retry it; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
