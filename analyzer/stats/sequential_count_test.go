package stats

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// seqStateAfter runs obs through test from the zero state, failing on errors.
func seqStateAfter(t *testing.T, test CountTest, obs ...CountObservation) CountState {
	t.Helper()
	var s CountState
	for i, o := range obs {
		var err error
		if s, err = test.Update(s, o); err != nil {
			t.Fatalf("observation %d %+v: %v", i, o, err)
		}
	}
	return s
}

func TestCountTestUpdate(t *testing.T) {
	inc := CountTest{Tolerance: 0.25, Alpha: 0.01}
	either := CountTest{Tolerance: 0.25, Alpha: 0.01, Direction: Either, FutilityAlpha: 0.05}
	bad := CountObservation{CanaryBad: 5, CanaryTotal: 10, BaselineBad: 1, BaselineTotal: 990}
	started := seqStateAfter(t, inc, bad)

	skipped := func(t *testing.T, got CountState, err error) {
		t.Helper()
		if !errors.Is(err, ErrSkipped) {
			t.Fatalf("error %v, want ErrSkipped", err)
		}
		if got.Skipped != 1 || got.Intervals != 0 || len(got.Up) != 0 {
			t.Errorf("state %+v, want only Skipped=1", got)
		}
	}
	noEvidence := func(t *testing.T, got CountState, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("error %v", err)
		}
		if got.Intervals != 1 || len(got.Up) != gridSize {
			t.Errorf("state %+v, want 1 interval and %d ratios", got, gridSize)
		}
		if e := inc.EValue(got); e != 1 {
			t.Errorf("e-value %v, want 1 (no evidence)", e)
		}
	}
	wantErr := func(target error) func(*testing.T, CountState, error) {
		return func(t *testing.T, got CountState, err error) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("error %v, want %v", err, target)
			}
		}
	}
	nan := math.NaN()
	cases := []struct {
		name       string
		test       CountTest
		state      CountState
		obs        CountObservation
		assertions func(t *testing.T, got CountState, err error)
	}{
		{"evidence", inc, CountState{}, bad, func(t *testing.T, got CountState, err error) {
			if err != nil || got.Intervals != 1 || got.Tolerance != 0.25 || got.CanaryBad != 5 || got.BaselineTotal != 990 {
				t.Fatalf("state %+v, error %v", got, err)
			}
			if e := inc.EValue(got); !(e > 100) || inc.Decide(got) != Reject {
				t.Errorf("e-value %v decision %v, want > 100 and reject", e, inc.Decide(got))
			}
			if len(got.Down)+len(got.UpFutility)+len(got.DownFutility) != 0 {
				t.Errorf("unused processes kept: %+v", got)
			}
		}},
		{"NaN count", inc, CountState{}, CountObservation{nan, 10, 0, 10}, skipped},
		{"infinite total", inc, CountState{}, CountObservation{1, math.Inf(1), 0, 10}, skipped},
		{"counter reset", inc, CountState{}, CountObservation{3, -20, 1, 100}, skipped},
		{"negative bad", inc, CountState{}, CountObservation{0, 20, -1, 100}, skipped},
		{"more bad than total", inc, CountState{}, CountObservation{11, 10, 1, 100}, skipped},
		{"skip keeps evidence", inc, started, CountObservation{nan, 1, 1, 1}, func(t *testing.T, got CountState, err error) {
			if !errors.Is(err, ErrSkipped) || got.Skipped != 1 || got.Intervals != 1 {
				t.Fatalf("state %+v, error %v", got, err)
			}
			if inc.EValue(got) != inc.EValue(started) {
				t.Errorf("skip changed the e-value")
			}
		}},
		{"no bad events", inc, CountState{}, CountObservation{0, 10, 0, 990}, noEvidence},
		{"canary without requests", inc, CountState{}, CountObservation{0, 0, 7, 990}, noEvidence},
		{"baseline without requests", inc, CountState{}, CountObservation{4, 10, 0, 0}, noEvidence},
		{"baseline without errors", CountTest{Alpha: 0.01}, CountState{}, CountObservation{2, 10, 0, 990}, func(t *testing.T, got CountState, err error) {
			if err != nil || !(CountTest{Alpha: 0.01}.EValue(got) > 1) {
				t.Errorf("e-value %v error %v, want evidence > 1", CountTest{Alpha: 0.01}.EValue(got), err)
			}
		}},
		{"baseline total near zero", inc, CountState{}, CountObservation{3, 50, 1e-300, 1e-300}, func(t *testing.T, got CountState, err error) {
			if err != nil || !seqFinite(got.Up...) || inc.EValue(got) != 1 {
				t.Errorf("e-value %v err %v, want 1: every event is the canary's whatever d", inc.EValue(got), err)
			}
		}},
		{"astronomical counts", inc, started, CountObservation{1e308, 1e308, 1e308, 1e308}, func(t *testing.T, got CountState, err error) {
			if !errors.Is(err, ErrSkipped) || got.Skipped != 1 || got.Intervals != 1 || inc.EValue(got) != inc.EValue(started) {
				t.Errorf("state %+v err %v, want the skip counted and the evidence kept", got, err)
			}
		}},
		{"either starts all processes", either, CountState{}, bad, func(t *testing.T, got CountState, err error) {
			for name, llr := range map[string][]float64{"up": got.Up, "down": got.Down, "upFutility": got.UpFutility, "downFutility": got.DownFutility} {
				if len(llr) != gridSize {
					t.Errorf("%s has %d ratios, want %d", name, len(llr), gridSize)
				}
			}
		}},
		{"direction widened later", either, started, bad, func(t *testing.T, got CountState, err error) {
			if err != nil || got.Intervals != 2 || len(got.Down) != gridSize {
				t.Errorf("state %+v error %v, want a fresh decrease process", got, err)
			}
		}},
		{"alpha zero", CountTest{Tolerance: 0.25}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"alpha one", CountTest{Alpha: 1}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"alpha NaN", CountTest{Alpha: nan}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"negative tolerance", CountTest{Tolerance: -0.1, Alpha: 0.01}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"infinite tolerance", CountTest{Tolerance: math.Inf(1), Alpha: 0.01}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"decrease tolerance 1", CountTest{Tolerance: 1, Alpha: 0.01, Direction: Decrease}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"unknown direction", CountTest{Alpha: 0.01, Direction: 7}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"futility alpha 1", CountTest{Alpha: 0.01, FutilityAlpha: 1}, CountState{}, bad, wantErr(ErrInvalidTest)},
		{"other tolerance", CountTest{Tolerance: 0.5, Alpha: 0.01}, started, bad, wantErr(ErrInvalidState)},
		{"short ratios", inc, CountState{Tolerance: 0.25, Up: []float64{1, 2}}, bad, wantErr(ErrInvalidState)},
		{"NaN ratio", inc, CountState{Tolerance: 0.25, Up: append(make([]float64, gridSize-1), nan)}, bad, wantErr(ErrInvalidState)},
		{"negative intervals", inc, CountState{Intervals: -1}, bad, wantErr(ErrInvalidState)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.test.Update(c.state, c.obs)
			c.assertions(t, got, err)
		})
	}
}

// TestCountTestUpdateKeepsInput checks that Update copies: the caller's
// state (and its slices) stays valid after an update.
func TestCountTestUpdateKeepsInput(t *testing.T) {
	test := CountTest{Tolerance: 0.1, Alpha: 0.05, Direction: Either, FutilityAlpha: 0.1}
	obs := CountObservation{CanaryBad: 3, CanaryTotal: 100, BaselineBad: 1, BaselineTotal: 100}
	s1 := seqStateAfter(t, test, obs)
	before := test.EValue(s1)
	saved := append([]float64(nil), s1.Up...)
	if _, err := test.Update(s1, obs); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(saved, s1.Up) || test.EValue(s1) != before {
		t.Errorf("Update modified its input state")
	}
}

// TestCountStateRoundTrip stores a state as JSON and YAML (as the status file
// does), reads it back, and checks the e-value and later updates are identical.
func TestCountStateRoundTrip(t *testing.T) {
	test := CountTest{Tolerance: 0.2, Alpha: 0.01, Direction: Either, FutilityAlpha: 0.05}
	obs := []CountObservation{{3, 61.3, 2, 540.7}, {0, 0, 0, 0}, {9, 120, 4, 1000}}
	s := seqStateAfter(t, test, obs...)
	s.Skipped = 2
	codecs := []struct {
		name      string
		marshal   func(any) ([]byte, error)
		unmarshal func([]byte, any) error
	}{
		{"json", json.Marshal, json.Unmarshal},
		{"yaml", yaml.Marshal, yaml.Unmarshal},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back CountState
			if err := c.unmarshal(b, &back); err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Fatalf("round trip changed the state:\n%s", b)
			}
			next := CountObservation{5, 100, 1, 900}
			a, errA := test.Update(s, next)
			z, errB := test.Update(back, next)
			if errA != nil || errB != nil || test.EValue(a) != test.EValue(z) {
				t.Errorf("continued e-values %v vs %v (%v, %v)", test.EValue(a), test.EValue(z), errA, errB)
			}
		})
	}
	var zero CountState
	b, err := yaml.Marshal(zero)
	if err != nil || string(b) != "tolerance: 0\n" {
		t.Errorf("zero state YAML %q (%v), want only the tolerance", b, err)
	}
}

func TestCountTestOverflowRejects(t *testing.T) {
	test := CountTest{Tolerance: 0, Alpha: 0.01}
	s := seqStateAfter(t, test, CountObservation{CanaryBad: 5000, CanaryTotal: 5000, BaselineBad: 10, BaselineTotal: 1e6})
	if e := test.EValue(s); !math.IsInf(e, 1) || test.Decide(s) != Reject {
		t.Errorf("e-value %v decision %v, want +Inf and reject", e, test.Decide(s))
	}
}

func TestCountTestInvalidGivesNoDecision(t *testing.T) {
	cases := []struct {
		name  string
		test  CountTest
		state CountState
	}{
		{"invalid test", CountTest{Alpha: 2}, CountState{}},
		{"state for another tolerance", CountTest{Alpha: 0.01}, CountState{Tolerance: 0.5, Up: make([]float64, gridSize)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if e := c.test.EValue(c.state); !math.IsNaN(e) {
				t.Errorf("e-value %v, want NaN", e)
			}
			if d := c.test.Decide(c.state); d != Continue {
				t.Errorf("decision %v, want continue", d)
			}
		})
	}
}

func TestDirectionText(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		want    Direction
		wantErr bool
	}{
		{"increase", "increase", Increase, false},
		{"decrease", "decrease", Decrease, false},
		{"either", "either", Either, false},
		{"unknown", "up", 0, true},
		{"case matters", "Increase", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Direction
			err := d.UnmarshalText([]byte(c.text))
			if (err != nil) != c.wantErr || (err == nil && d != c.want) {
				t.Fatalf("UnmarshalText(%q) = %v, %v", c.text, d, err)
			}
			if c.wantErr {
				return
			}
			b, err := d.MarshalText()
			if err != nil || string(b) != c.text {
				t.Errorf("MarshalText = %q, %v", b, err)
			}
		})
	}
	if _, err := Direction(9).MarshalText(); !errors.Is(err, ErrInvalidTest) {
		t.Errorf("MarshalText of Direction(9): %v, want ErrInvalidTest", err)
	}
}
