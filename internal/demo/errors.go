package demo

import "errors"

// errNotReached is returned when a scenario does not end as expected in time.
var errNotReached = errors.New("rollout did not reach the expected phase")

// errNoSteps is returned by replaceSteps for a spec without a steps block.
var errNoSteps = errors.New("replace steps: no spec.steps block")
