package simulate

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// oracleFixtures are the R reference values of scripts/oracle_fixtures.R.
type oracleFixtures struct {
	LLR []struct {
		EC, EB, Rho, D0, D1, LLR float64
	} `json:"llr"`
	Runs           int     `json:"runs"`
	PowerHalfAlpha float64 `json:"powerHalfAlpha"`
	PowerFullAlpha float64 `json:"powerFullAlpha"`
}

func readOracleFixtures(t *testing.T) oracleFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/oracle_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f oracleFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.LLR) == 0 || f.Runs == 0 {
		t.Fatal("empty fixtures")
	}
	return f
}

func TestSequentialOracleLLRMatchesR(t *testing.T) {
	for _, c := range readOracleFixtures(t).LLR {
		if got := sprtLLR(c.EC, c.EB, c.Rho, c.D0, c.D1); math.Abs(got-c.LLR) > 1e-9*max(1, math.Abs(c.LLR)) {
			t.Errorf("sprtLLR(%v, %v, %v, %v, %v) = %.12g, R %.12g", c.EC, c.EB, c.Rho, c.D0, c.D1, got, c.LLR)
		}
	}
}

func TestSequentialOracleJudge(t *testing.T) {
	s, err := Lookup("errors-x1-5")
	if err != nil {
		t.Fatal(err)
	}
	o, ok := SequentialOracle{}.ForScenario(&s).(SequentialOracle)
	if !ok || o.Alternatives[MetricErrors] != 1.5 {
		t.Fatalf("errors-x1-5 alternatives %+v, want error-rate 1.5", o.Alternatives)
	}
	if _, ok := o.Alternatives[MetricLatency]; ok {
		t.Errorf("latency within tolerance got a true alternative: %+v", o.Alternatives)
	}
	counts := func(eC, eB float64) judge.Series {
		return judge.Series{HasCounts: true, Bad: eC, Total: 1000}
	}
	in := judge.Input{Config: judge.MetricConfig{Name: MetricErrors, Direction: judge.Increase, Tolerance: 0.25, Critical: true},
		Canary: counts(60, 0), Baseline: counts(10, 0)}
	in.Baseline.Total = 9000
	r := o.Judge(judge.Request{Alpha: 0.01, Metrics: []judge.Input{in}})
	m := r.Metrics[0]
	want := sprtLLR(60, 10, 1000.0/9000, 1.25, 1.5)
	if m.State == nil || len(m.State.Values) != 1 || math.Abs(m.State.Values[0]-want) > 1e-12 {
		t.Fatalf("state %+v, want log LR %v", m.State, want)
	}
	if want < math.Log(100) || m.Classification != judge.High {
		t.Errorf("log LR %v (threshold log 100): %s", want, m.Classification)
	}
	// 33 canary errors: a log LR between log 100 and log 200 (4.98), which
	// fails one count metric at alpha 0.01 but not two (alpha/2 each).
	in.Canary.Bad = 33
	lat := in
	lat.Config.Name, lat.Canary.Bad, lat.Baseline.Bad = MetricLatency, 1, 9
	if got := o.Judge(judge.Request{Alpha: 0.01, Metrics: []judge.Input{in}}).Metrics[0].Classification; got != judge.High {
		t.Errorf("one metric at alpha 0.01: %s, want High", got)
	}
	if got := o.Judge(judge.Request{Alpha: 0.01, Metrics: []judge.Input{in, lat}}).Metrics[0].Classification; got != judge.Pass {
		t.Errorf("two metrics at alpha 0.01: %s, want Pass", got)
	}
}

// TestSequentialOraclePowerMatchesR checks the simulated oracle on
// errors-x1-5 against R's Monte Carlo of the same test at alpha/2.
func TestSequentialOraclePowerMatchesR(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 simulated rollouts")
	}
	f := readOracleFixtures(t)
	s, err := Lookup("errors-x1-5")
	if err != nil {
		t.Fatal(err)
	}
	const runs = 3000
	r, err := Run(context.Background(), Config{Scenario: s, Judge: SequentialOracle{}, Runs: runs, Seed: 7, Alpha: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	got, want := r.DetectionRate.Value, f.PowerHalfAlpha
	se := math.Sqrt(want*(1-want)/runs + want*(1-want)/float64(f.Runs))
	if math.Abs(got-want) > 4*se {
		t.Errorf("oracle detects %.3f of errors-x1-5, R %.3f (4 se = %.3f); R with the whole alpha: %.3f",
			got, want, 4*se, f.PowerFullAlpha)
	}
}
