package judge

import (
	"fmt"

	"github.com/birdwatch-gitops/birdwatch/analyzer/stats"
)

// countStateKind names the layout of a CountState packed into a State;
// countStateKindV1 is the layout before the dispersion statistics, still
// read (its dispersion statistics start at zero).
const (
	countStateKind   = "counts/v2"
	countStateKindV1 = "counts/v1"
)

// packCountState flattens s into one list of numbers, so the status file
// stores it on one line:
//
//	tolerance, intervals, skipped, canaryBad, canaryTotal, baselineBad, baselineTotal,
//	mhNum, mhDen, informative, residualExcess, residualInfo, residualInfoSq,
//	len(up), up..., len(down), down..., len(upFutility), ..., len(downFutility), ...
//	[upProfile, downProfile, len(history), history...]
//
// the last group only for the profile e-value (stats.CountTest Profile).
func packCountState(s stats.CountState) *State {
	v := []float64{s.Tolerance, float64(s.Intervals), float64(s.Skipped),
		s.CanaryBad, s.CanaryTotal, s.BaselineBad, s.BaselineTotal,
		s.MHNum, s.MHDen, float64(s.Informative), s.ResidualExcess, s.ResidualInfo, s.ResidualInfoSq}
	for _, p := range [][]float64{s.Up, s.Down, s.UpFutility, s.DownFutility} {
		v = append(v, float64(len(p)))
		v = append(v, p...)
	}
	if len(s.History) > 0 || s.UpProfile != 0 || s.DownProfile != 0 {
		v = append(v, s.UpProfile, s.DownProfile, float64(len(s.History)))
		v = append(v, s.History...)
	}
	return &State{Kind: countStateKind, Values: v}
}

// unpackCountState reverses packCountState (or reads a counts/v1 state);
// nil gives the zero state.
func unpackCountState(st *State) (stats.CountState, error) {
	var s stats.CountState
	if st == nil {
		return s, nil
	}
	head := 13
	switch st.Kind {
	case countStateKind:
	case countStateKindV1:
		head = 7
	default:
		return s, fmt.Errorf("evidence of kind %q, want %q", st.Kind, countStateKind)
	}
	v := st.Values
	if len(v) < head+4 {
		return s, fmt.Errorf("evidence has %d numbers, want at least %d", len(v), head+4)
	}
	s.Tolerance, s.Intervals, s.Skipped = v[0], int(v[1]), int(v[2])
	s.CanaryBad, s.CanaryTotal, s.BaselineBad, s.BaselineTotal = v[3], v[4], v[5], v[6]
	if head == 13 {
		s.MHNum, s.MHDen, s.Informative = v[7], v[8], int(v[9])
		s.ResidualExcess, s.ResidualInfo, s.ResidualInfoSq = v[10], v[11], v[12]
	}
	rest := v[head:]
	for _, dst := range []*[]float64{&s.Up, &s.Down, &s.UpFutility, &s.DownFutility} {
		if len(rest) == 0 {
			return s, fmt.Errorf("evidence is truncated")
		}
		n := int(rest[0])
		if n < 0 || n > len(rest)-1 {
			return s, fmt.Errorf("evidence holds a list of %v numbers but only %d follow", rest[0], len(rest)-1)
		}
		if n > 0 {
			*dst = append([]float64(nil), rest[1:1+n]...)
		}
		rest = rest[1+n:]
	}
	if len(rest) >= 3 && head == 13 {
		n := int(rest[2])
		if n < 0 || n != len(rest)-3 {
			return s, fmt.Errorf("evidence holds a history of %v numbers but %d follow", rest[2], len(rest)-3)
		}
		s.UpProfile, s.DownProfile = rest[0], rest[1]
		if n > 0 {
			s.History = append([]float64(nil), rest[3:]...)
		}
		rest = nil
	}
	if len(rest) != 0 {
		return s, fmt.Errorf("evidence has %d numbers too many", len(rest))
	}
	return s, nil
}
