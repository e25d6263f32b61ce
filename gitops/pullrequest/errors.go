package pullrequest

import "errors"

// Sentinel errors returned (wrapped, test with errors.Is) by this package.
var (
	// ErrConfig means the GitHub settings are incomplete (no owner or
	// repository, an unknown merge method, a malformed base URL).
	ErrConfig = errors.New("bad pull request configuration")

	// ErrBranchTaken means an open pull request already uses the branch but
	// is not the one being updated.
	ErrBranchTaken = errors.New("branch has another open pull request")
)
