// Package verdict holds the outcome of one analysis as a whole. It is a
// leaf: the state machine (package rollout) reads verdicts without pulling
// in the judges and their numerical dependencies (gonum).
package verdict

// Verdict is the outcome of one analysis as a whole.
type Verdict string

// Verdicts. Inconclusive is never a reason to advance.
const (
	Pass         Verdict = "Pass"
	Fail         Verdict = "Fail"
	Inconclusive Verdict = "Inconclusive"
)
