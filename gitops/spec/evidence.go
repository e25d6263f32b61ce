package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Evidence is one metric's carried-over sequential test state. In memory
// it is the judge's State (Kind and a flat list of numbers, whose layout
// belongs to the judge); in the status file each kind birdwatch knows is
// written with named fields, so the Git history reads as evidence, not as
// a list of positions. A kind spec does not know is written as its list.
type Evidence struct {
	Kind   string    `json:"kind"`
	Values []float64 `json:"values"`
	// Skips is the data of this metric the rollout's looks did not take
	// as evidence, and why; nil when none.
	Skips *Skips `json:"skips,omitempty"`
}

// Skips adds up what a metric's looks left out of the evidence (see
// MetricRecord.LeftOut): bad input is skipped and counted, never evidence.
type Skips struct {
	// Windows counts the looks in which a version's counts (or one of
	// its per-step samples) were skipped whole.
	Windows int `yaml:"windows,omitempty" json:"windows,omitempty"`
	// Pods counts the pods left out of a look's counts, over all looks.
	Pods int `yaml:"pods,omitempty" json:"pods,omitempty"`
	// Last are the most recent reasons, oldest first, each after its
	// look's time; at most SkipReasonsLimit.
	Last []string `yaml:"last,omitempty" json:"last,omitempty"`
}

// SkipReasonsLimit caps Skips.Last.
const SkipReasonsLimit = 5

// Add counts one look's left-out data (MetricRecord.LeftOut) at time at
// into s, which may be nil, and returns the sum; nil when both are empty.
func (s *Skips) Add(at time.Time, leftOut []string) *Skips {
	if len(leftOut) == 0 {
		return s
	}
	var out Skips
	if s != nil {
		out = Skips{Windows: s.Windows, Pods: s.Pods, Last: slices.Clone(s.Last)}
	}
	window := false
	for _, why := range leftOut {
		if strings.Contains(why, " window skipped: ") {
			window = true
		} else {
			out.Pods++
		}
		out.Last = append(out.Last, at.UTC().Format(time.RFC3339)+" "+why)
	}
	if window {
		out.Windows++
	}
	out.Last = out.Last[max(0, len(out.Last)-SkipReasonsLimit):]
	return &out
}

// CountsKind is the sequential judge's evidence for counts (errors of
// requests): the layout of judge.packCountState.
const CountsKind = "counts/v1"

// CountEvidence is CountsKind's evidence with its fields named: the
// tolerance tested, the looks counted and skipped, the cumulative counts
// of both versions, and the e-process' running products (one per tested
// direction, and the futility ones).
type CountEvidence struct {
	Tolerance     float64   `yaml:"tolerance"`
	Intervals     int       `yaml:"intervals"`
	Skipped       int       `yaml:"skipped"`
	CanaryBad     float64   `yaml:"canaryBad"`
	CanaryTotal   float64   `yaml:"canaryTotal"`
	BaselineBad   float64   `yaml:"baselineBad"`
	BaselineTotal float64   `yaml:"baselineTotal"`
	Up            []float64 `yaml:"up,flow,omitempty"`
	Down          []float64 `yaml:"down,flow,omitempty"`
	UpFutility    []float64 `yaml:"upFutility,flow,omitempty"`
	DownFutility  []float64 `yaml:"downFutility,flow,omitempty"`
}

// evidenceFile is Evidence as the status file holds it: exactly one of
// Counts (kind counts/v1, written since the named schema) and Values (any
// other kind, and every kind in status files written before it).
type evidenceFile struct {
	Kind   string         `yaml:"kind"`
	Counts *CountEvidence `yaml:"counts,omitempty"`
	Values []float64      `yaml:"values,flow,omitempty"`
	Skips  *Skips         `yaml:"skips,omitempty"`
}

// MarshalYAML writes the named form.
func (e Evidence) MarshalYAML() (any, error) {
	if e.Kind == CountsKind {
		if c, err := unpackCounts(e.Values); err == nil {
			return evidenceFile{Kind: e.Kind, Counts: &c, Skips: e.Skips}, nil
		}
	}
	return evidenceFile{Kind: e.Kind, Values: e.Values, Skips: e.Skips}, nil
}

// UnmarshalYAML reads the named form, and the positional list of status
// files written before it (read old, write new).
func (e *Evidence) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, "kind", "counts", "values", "skips"); err != nil {
		return err
	}
	var f evidenceFile
	if err := n.Decode(&f); err != nil {
		return err
	}
	switch {
	case f.Counts != nil && f.Values != nil:
		return fmt.Errorf("line %d: evidence has both counts and values", n.Line)
	case f.Counts != nil && f.Kind != CountsKind:
		return fmt.Errorf("line %d: evidence of kind %q cannot hold counts", n.Line, f.Kind)
	case f.Counts != nil:
		*e = Evidence{Kind: f.Kind, Values: packCounts(*f.Counts), Skips: f.Skips}
	default:
		*e = Evidence{Kind: f.Kind, Values: f.Values, Skips: f.Skips}
	}
	return nil
}

// knownKeys refuses a mapping key not in keys, naming its line, as the
// strict status decoder does elsewhere (it does not reach custom
// unmarshalers); a "counts" mapping is checked against CountEvidence.
func knownKeys(n *yaml.Node, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: field %s not found in type spec.Evidence", k.Line, k.Value)
		}
		if k.Value == "counts" {
			if err := knownKeys(n.Content[i+1], "tolerance", "intervals", "skipped", "canaryBad", "canaryTotal",
				"baselineBad", "baselineTotal", "up", "down", "upFutility", "downFutility"); err != nil {
				return err
			}
		}
		if k.Value == "skips" {
			if err := knownKeys(n.Content[i+1], "windows", "pods", "last"); err != nil {
				return err
			}
		}
	}
	return nil
}

// packCounts flattens c in the judge's order.
func packCounts(c CountEvidence) []float64 {
	v := []float64{c.Tolerance, float64(c.Intervals), float64(c.Skipped), c.CanaryBad, c.CanaryTotal, c.BaselineBad, c.BaselineTotal}
	for _, p := range [][]float64{c.Up, c.Down, c.UpFutility, c.DownFutility} {
		v = append(v, float64(len(p)))
		v = append(v, p...)
	}
	return v
}

// unpackCounts reverses packCounts; a list that is not one is an error
// (and is then written as a list, never lost).
func unpackCounts(v []float64) (CountEvidence, error) {
	var c CountEvidence
	if len(v) < 11 {
		return c, fmt.Errorf("%d numbers, want at least 11", len(v))
	}
	c.Tolerance, c.Intervals, c.Skipped = v[0], int(v[1]), int(v[2])
	c.CanaryBad, c.CanaryTotal, c.BaselineBad, c.BaselineTotal = v[3], v[4], v[5], v[6]
	rest := v[7:]
	for _, dst := range []*[]float64{&c.Up, &c.Down, &c.UpFutility, &c.DownFutility} {
		if len(rest) == 0 {
			return c, fmt.Errorf("truncated")
		}
		n := int(rest[0])
		if n < 0 || n > len(rest)-1 {
			return c, fmt.Errorf("a list of %v numbers but only %d follow", rest[0], len(rest)-1)
		}
		if n > 0 {
			*dst = append([]float64(nil), rest[1:1+n]...)
		}
		rest = rest[1+n:]
	}
	if len(rest) != 0 {
		return c, fmt.Errorf("%d numbers too many", len(rest))
	}
	return c, nil
}
