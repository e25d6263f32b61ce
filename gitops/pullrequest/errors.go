package pullrequest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v84/github"
)

// Sentinel errors returned (wrapped, test with errors.Is) by this package.
var (
	// ErrConfig means the GitHub settings are incomplete (no owner or
	// repository, an unknown merge method, a malformed base URL).
	ErrConfig = errors.New("bad pull request configuration")

	// ErrBranchTaken means an open pull request already uses the branch but
	// is not the one being updated.
	ErrBranchTaken = errors.New("branch has another open pull request")
)

// restError keeps GitHub's answer out of a REST error's text: go-github's
// errors print the response's message and field errors, server text that
// then reaches logs and comments (issue 18, item 10). The error names the
// status; errors.As still finds go-github's error with all of it.
func restError(err error) error {
	var resp *http.Response
	var e *github.ErrorResponse
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &e):
		resp = e.Response
	case errors.As(err, &rl):
		resp = rl.Response
	case errors.As(err, &abuse):
		resp = abuse.Response
	}
	if resp == nil {
		return err
	}
	return &statusError{code: resp.StatusCode, err: err}
}

// statusError is a GitHub REST error shown by its status only.
type statusError struct {
	code int
	err  error
}

func (s *statusError) Error() string {
	return fmt.Sprintf("GitHub answered %d %s", s.code, http.StatusText(s.code))
}

func (s *statusError) Unwrap() error { return s.err }
