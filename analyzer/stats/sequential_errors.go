package stats

import "errors"

// Sentinel errors of the sequential tests (CountTest, MeanTest). Callers
// branch on them with errors.Is; the wrapping error carries the detail.
var (
	// ErrInvalidTest means the test configuration is unusable: Alpha outside
	// (0, 1), a negative or non-finite Tolerance, a Tolerance of 1 or more
	// with a Decrease or Either direction, or an unknown Direction.
	ErrInvalidTest = errors.New("invalid sequential test")

	// ErrInvalidState means a stored state does not belong to the test: it
	// was computed with another Tolerance or Direction, or it holds
	// non-finite or out-of-range numbers. The state cannot be continued;
	// the caller starts again from the zero value.
	ErrInvalidState = errors.New("sequential state does not match the test")

	// ErrSkipped means an observation was not used as evidence: a NaN or
	// infinite value, a negative count (a counter reset), or more bad events
	// than requests. The returned state counts the skip and is the one to
	// keep; the interval is inconclusive, never evidence.
	ErrSkipped = errors.New("observation skipped")
)
