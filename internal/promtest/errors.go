package promtest

import "errors"

// ErrMissingBinary reports that the prometheus or promtool executable is not
// installed (not found in PATH or at the configured path). Start turns it into
// a test skip.
var ErrMissingBinary = errors.New("binary not installed")
