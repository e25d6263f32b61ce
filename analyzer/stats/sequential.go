package stats

import (
	"fmt"
	"math"
)

// Direction says which change of a metric is bad and so which alternative a
// sequential test looks for. The zero value is Increase.
type Direction int

const (
	// Increase: the canary is bad when its metric is higher than the
	// baseline's by more than the tolerance (errors, latency).
	Increase Direction = iota
	// Decrease: the canary is bad when its metric is lower than the
	// baseline's by more than the tolerance (throughput, success counts).
	Decrease
	// Either: both changes are bad; alpha is split evenly between the two
	// one-sided tests.
	Either
)

// String returns "increase", "decrease" or "either", as in the Canary spec.
func (d Direction) String() string {
	switch d {
	case Increase:
		return "increase"
	case Decrease:
		return "decrease"
	case Either:
		return "either"
	default:
		return fmt.Sprintf("Direction(%d)", int(d))
	}
}

// MarshalText encodes d as its spec name, so a Direction reads well in JSON
// and YAML. It fails for an unknown Direction.
func (d Direction) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("marshal direction %d: %w", int(d), ErrInvalidTest)
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes a spec name ("increase", "decrease", "either").
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "increase":
		*d = Increase
	case "decrease":
		*d = Decrease
	case "either":
		*d = Either
	default:
		return fmt.Errorf("unmarshal direction %q: %w", b, ErrInvalidTest)
	}
	return nil
}

func (d Direction) valid() bool { return d == Increase || d == Decrease || d == Either }

// up reports whether d tests for an increase.
func (d Direction) up() bool { return d == Increase || d == Either }

// down reports whether d tests for a decrease.
func (d Direction) down() bool { return d == Decrease || d == Either }

// SeqDecision is the verdict of a sequential test after the latest look.
// The zero value is Continue.
type SeqDecision int

const (
	// Continue: not enough evidence either way yet; look again later.
	Continue SeqDecision = iota
	// Reject: the null hypothesis "canary no worse than the baseline by
	// more than the tolerance" is rejected: the canary is bad. The
	// probability of ever returning Reject for a canary within tolerance,
	// over all looks, is at most Alpha (exactly for CountTest,
	// asymptotically for MeanTest).
	Reject
	// Accept: the early "canary is fine" stop (futility). Only CountTest
	// with FutilityAlpha > 0 returns it.
	Accept
)

// String returns "continue", "reject" or "accept".
func (d SeqDecision) String() string {
	switch d {
	case Continue:
		return "continue"
	case Reject:
		return "reject"
	case Accept:
		return "accept"
	default:
		return fmt.Sprintf("SeqDecision(%d)", int(d))
	}
}

// seqValidate checks the settings shared by CountTest and MeanTest.
func seqValidate(tolerance, alpha float64, dir Direction) error {
	switch {
	case !dir.valid():
		return fmt.Errorf("direction %d: %w", int(dir), ErrInvalidTest)
	case !(alpha > 0 && alpha < 1):
		return fmt.Errorf("alpha %v not in (0, 1): %w", alpha, ErrInvalidTest)
	case !(tolerance >= 0) || math.IsInf(tolerance, 0):
		return fmt.Errorf("tolerance %v not a finite value >= 0: %w", tolerance, ErrInvalidTest)
	case dir.down() && tolerance >= 1:
		return fmt.Errorf("tolerance %v >= 1 leaves no decrease to detect: %w", tolerance, ErrInvalidTest)
	}
	return nil
}

// seqSideAlpha is the level of each one-sided test: alpha, or alpha/2 for Either.
func seqSideAlpha(alpha float64, dir Direction) float64 {
	if dir == Either {
		return alpha / 2
	}
	return alpha
}

// seqFinite reports whether every value is neither NaN nor infinite.
func seqFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
