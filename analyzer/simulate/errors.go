package simulate

import "errors"

var (
	// ErrUnknownScenario is returned when a scenario name is not in Scenarios.
	ErrUnknownScenario = errors.New("unknown scenario")
	// ErrInvalidConfig is returned for a configuration Run cannot use
	// (no judge, no runs, alpha outside (0, 1), a malformed scenario).
	ErrInvalidConfig = errors.New("invalid simulation config")
)
