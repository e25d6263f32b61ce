package metrics

import "errors"

// Errors returned by this package; callers branch on them with errors.Is.
// The judge treats every one of them as an inconclusive window, never as a
// pass (see DESIGN.md: "no data is not good data").
var (
	// ErrNoData means the query returned an empty vector: no series matched,
	// for example a version that receives no traffic or is not deployed.
	ErrNoData = errors.New("no data")
	// ErrTooManySeries means the query returned more than one series where
	// exactly one was expected; the query needs an aggregation such as sum().
	ErrTooManySeries = errors.New("too many series")
	// ErrQuery means Prometheus answered but rejected the query (bad PromQL,
	// execution error, any 4xx) or sent an answer that cannot be used
	// (malformed JSON, an unexpected result type). It is not retried.
	ErrQuery = errors.New("query failed")
	// ErrUnavailable means no answer came: connection errors, timeouts and
	// 5xx responses, after the bounded retries. It also wraps the caller's
	// context error when ctx ends first.
	ErrUnavailable = errors.New("metrics provider unavailable")
	// ErrTemplate means a query template is invalid: it does not parse, uses
	// an unknown variable or argument, or puts a string variable outside a
	// double-quoted PromQL string.
	ErrTemplate = errors.New("invalid query template")
	// ErrInvalidValue means a variable used by the template has a value that
	// cannot be rendered safely: an empty or non-UTF-8 string, or a
	// non-positive duration.
	ErrInvalidValue = errors.New("invalid template variable value")
)
