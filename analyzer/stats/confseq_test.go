package stats

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
	"gonum.org/v1/gonum/stat"
)

// seqSeq returns n values a, a+step, a+2*step, ...
func seqSeq(n int, a, step float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = a + float64(i)*step
	}
	return xs
}

func TestMeanTestUpdateAndBounds(t *testing.T) {
	inc := MeanTest{Tolerance: 0.1, Alpha: 0.05}
	nan, inf := math.NaN(), math.Inf(1)
	infinite := func(t *testing.T, test MeanTest, got MeanState, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if lo, hi := test.Bounds(got); !math.IsInf(lo, -1) || !math.IsInf(hi, 1) || test.Decide(got) != Continue {
			t.Errorf("bounds [%v, %v] decision %v, want infinite and continue", lo, hi, test.Decide(got))
		}
	}
	skipped := func(t *testing.T, test MeanTest, got MeanState, err error) {
		t.Helper()
		if !errors.Is(err, ErrSkipped) || got.Skipped != 1 || got.Intervals != 0 || got.Canary.N != 0 {
			t.Errorf("state %+v error %v, want only Skipped=1 and ErrSkipped", got, err)
		}
	}
	wantErr := func(target error) func(*testing.T, MeanTest, MeanState, error) {
		return func(t *testing.T, _ MeanTest, _ MeanState, err error) {
			t.Helper()
			if !errors.Is(err, target) {
				t.Errorf("error %v, want %v", err, target)
			}
		}
	}
	cases := []struct {
		name             string
		test             MeanTest
		state            MeanState
		canary, baseline []float64
		assertions       func(t *testing.T, test MeanTest, got MeanState, err error)
	}{
		{"clear increase rejected", inc, MeanState{}, seqSeq(100, 200, 1), seqSeq(100, 100, 1), func(t *testing.T, test MeanTest, got MeanState, err error) {
			lo, hi := test.Bounds(got)
			if err != nil || !(lo > 0) || !math.IsInf(hi, 1) || test.Decide(got) != Reject {
				t.Errorf("bounds [%v, %v] decision %v err %v, want lower > 0, upper +Inf, reject", lo, hi, test.Decide(got), err)
			}
		}},
		{"decrease side only", MeanTest{Tolerance: 0.1, Alpha: 0.05, Direction: Decrease}, MeanState{}, seqSeq(100, 50, 1), seqSeq(100, 100, 1), func(t *testing.T, test MeanTest, got MeanState, err error) {
			lo, hi := test.Bounds(got)
			if err != nil || !math.IsInf(lo, -1) || !(hi < 0) || test.Decide(got) != Reject {
				t.Errorf("bounds [%v, %v] err %v, want -Inf and < 0", lo, hi, err)
			}
		}},
		{"either brackets the estimate", MeanTest{Alpha: 0.05, Direction: Either}, MeanState{}, seqSeq(50, 100, 2), seqSeq(60, 101, 1.5), func(t *testing.T, test MeanTest, got MeanState, err error) {
			lo, hi := test.Bounds(got)
			est := got.Canary.Mean - got.Baseline.Mean
			if err != nil || !(lo < est && est < hi) || test.Decide(got) != Continue {
				t.Errorf("bounds [%v, %v] estimate %v err %v", lo, hi, est, err)
			}
		}},
		{"below min samples", inc, MeanState{}, seqSeq(29, 200, 1), seqSeq(500, 100, 1), infinite},
		{"min samples lowered", MeanTest{Tolerance: 0.1, Alpha: 0.05, MinSamples: 5}, MeanState{}, seqSeq(6, 200, 1), seqSeq(6, 100, 1), func(t *testing.T, test MeanTest, got MeanState, err error) {
			if lo, _ := test.Bounds(got); err != nil || math.IsInf(lo, 0) {
				t.Errorf("lower %v err %v, want finite", lo, err)
			}
		}},
		{"constant values", inc, MeanState{}, seqSeq(50, 7, 0), seqSeq(50, 5, 0), infinite},
		{"no values", inc, MeanState{}, nil, []float64{}, func(t *testing.T, test MeanTest, got MeanState, err error) {
			if err != nil || got.Intervals != 1 || got.Canary.N != 0 {
				t.Errorf("state %+v err %v", got, err)
			}
		}},
		{"NaN value", inc, MeanState{}, []float64{1, nan, 3}, seqSeq(5, 1, 1), skipped},
		{"infinite value", inc, MeanState{}, seqSeq(5, 1, 1), []float64{inf}, skipped},
		{"squares overflow", inc, MeanState{}, []float64{1e300, -1e300}, nil, skipped},
		{"alpha zero", MeanTest{}, MeanState{}, nil, nil, wantErr(ErrInvalidTest)},
		{"min samples one", MeanTest{Alpha: 0.05, MinSamples: 1}, MeanState{}, nil, nil, wantErr(ErrInvalidTest)},
		{"negative horizon", MeanTest{Alpha: 0.05, Horizon: -1}, MeanState{}, nil, nil, wantErr(ErrInvalidTest)},
		{"NaN horizon", MeanTest{Alpha: 0.05, Horizon: nan}, MeanState{}, nil, nil, wantErr(ErrInvalidTest)},
		{"either tolerance 1", MeanTest{Alpha: 0.05, Tolerance: 1, Direction: Either}, MeanState{}, nil, nil, wantErr(ErrInvalidTest)},
		{"negative count", inc, MeanState{Canary: Moments{N: -1}}, nil, nil, wantErr(ErrInvalidState)},
		{"negative M2", inc, MeanState{Canary: Moments{N: 3, Mean: 1, M2: -1}}, nil, nil, wantErr(ErrInvalidState)},
		{"mean without values", inc, MeanState{Baseline: Moments{Mean: 4}}, nil, nil, wantErr(ErrInvalidState)},
		{"NaN mean", inc, MeanState{Baseline: Moments{N: 2, Mean: nan}}, nil, nil, wantErr(ErrInvalidState)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.test.Update(c.state, c.canary, c.baseline)
			c.assertions(t, c.test, got, err)
		})
	}
}

// TestMomentsMergeMatchesGonum splits one sample into batches in several ways
// and checks the merged moments against gonum's on the whole sample.
func TestMomentsMergeMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = 1e6 + 50*rng.NormFloat64() // large mean: cancellation-prone
	}
	cases := []struct {
		name  string
		sizes []int
	}{
		{"one batch", []int{1000}},
		{"singletons first", []int{1, 1, 1, 997}},
		{"even batches", []int{250, 250, 250, 250}},
		{"empty batches", []int{0, 400, 0, 600}},
		{"uneven", []int{7, 93, 600, 300}},
	}
	mean, variance := stat.MeanVariance(xs, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m Moments
			at := 0
			for _, n := range c.sizes {
				m = m.add(xs[at : at+n])
				at += n
			}
			if m.N != len(xs) || math.Abs(m.Mean-mean) > 1e-12*math.Abs(mean) || math.Abs(m.Variance()-variance) > 1e-9*variance {
				t.Errorf("moments %+v (variance %v), gonum mean %v variance %v", m, m.Variance(), mean, variance)
			}
		})
	}
	if v := (Moments{N: 1, Mean: 3}).Variance(); !math.IsNaN(v) {
		t.Errorf("variance of one value %v, want NaN", v)
	}
}

func TestMeanStateRoundTrip(t *testing.T) {
	test := MeanTest{Tolerance: 0.05, Alpha: 0.01, Direction: Either}
	s, err := test.Update(MeanState{Skipped: 1}, seqSeq(40, 101.3, 0.7), seqSeq(70, 99.1, 0.3))
	if err != nil {
		t.Fatal(err)
	}
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
			var back MeanState
			if err := c.unmarshal(b, &back); err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			l1, u1 := test.Bounds(s)
			l2, u2 := test.Bounds(back)
			if !reflect.DeepEqual(back, s) || l1 != l2 || u1 != u2 {
				t.Errorf("round trip changed the state or bounds:\n%s", b)
			}
		})
	}
}

// TestMixtureMarginProperties checks the boundary solver where its answer is
// known without R: it satisfies its equation, it shrinks as alpha grows, and
// it is narrower than the two-sided normal-mixture closed form at the same
// level (the one-sided mixture is 2*Phi(x) >= 1 times the two-sided one).
func TestMixtureMarginProperties(t *testing.T) {
	cases := []struct {
		name string
		a, v float64
	}{
		{"tiny v", 0.05, 1e-4},
		{"v one", 0.05, 1},
		{"strict alpha", 1e-6, 10},
		{"large v", 0.01, 1e6},
		{"loose alpha", 0.45, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mixtureMargin(c.a, c.v)
			x := m / math.Sqrt(1+1/c.v)
			logPhi, _ := logNormalCDFMills(x)
			lhs := math.Ln2 - 0.5*math.Log1p(c.v) + x*x/2 + logPhi
			if math.Abs(lhs-math.Log(1/c.a)) > 1e-12 {
				t.Errorf("margin %v: log mixture %v, want %v", m, lhs, math.Log(1/c.a))
			}
			twoSided := math.Sqrt((1 + 1/c.v) * 2 * math.Log(math.Sqrt(1+c.v)/c.a))
			if !(m < twoSided) {
				t.Errorf("one-sided margin %v not below two-sided %v", m, twoSided)
			}
			if looser := mixtureMargin(c.a*1.5, c.v); !(looser < m) {
				t.Errorf("margin at 1.5a %v not below %v", looser, m)
			}
		})
	}
	if m := mixtureMargin(0.05, 0); !math.IsNaN(m) {
		t.Errorf("margin at v=0: %v, want NaN", m)
	}
}
