package repo

import "errors"

// Sentinel errors returned (wrapped, test with errors.Is) by this package.
var (
	// ErrNotFound means the snapshot has no file at the requested path (it is
	// absent, a directory, or a submodule).
	ErrNotFound = errors.New("file not found")

	// ErrInvalidPath means a path is absolute, empty, has "", "." or ".."
	// segments, contains a NUL byte, or lies under a ".git" directory.
	ErrInvalidPath = errors.New("invalid path")

	// ErrNoChange means a Change would not alter any file: every file already
	// has the requested content. Nothing was written.
	ErrNoChange = errors.New("no change")

	// ErrInvalidMessage means a commit Message cannot be rendered safely: an
	// empty or multi-line subject, or a malformed trailer.
	ErrInvalidMessage = errors.New("invalid commit message")

	// ErrRejected means a push was refused because the remote branch is no
	// longer at the parent commit that was read (the compare-and-swap failed).
	// The caller should fetch again, re-decide and retry; Update does that.
	ErrRejected = errors.New("push rejected: branch moved")

	// ErrBranchNotFound means the remote has no such branch (or is empty).
	ErrBranchNotFound = errors.New("branch not found")

	// ErrAuth means the remote refused the credentials (or required some and
	// none were given). The message never contains the secret.
	ErrAuth = errors.New("authentication failed")

	// ErrInvalidRevision means a commit hash is not 40 hex digits.
	ErrInvalidRevision = errors.New("invalid revision")

	// ErrRevisionNotFound means the remote has no such commit, or does not
	// allow fetching a commit that is not a branch tip.
	ErrRevisionNotFound = errors.New("revision not found")

	// ErrInvalidBranch means a branch name is not a valid Git ref name.
	ErrInvalidBranch = errors.New("invalid branch name")
)
