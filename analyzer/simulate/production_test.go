package simulate

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// TestScrapeCount: raw differences count every event once over
// consecutive windows; increase() extrapolates the samples inside the
// window as PromQL's extrapolatedRate does.
func TestScrapeCount(t *testing.T) {
	steps := make([]float64, 60) // 60 sub-steps of 3 s: three 1-minute windows of 20
	for i := range steps {
		steps[i] = float64(i % 3)
	}
	total := 0.0
	for _, v := range steps {
		total += v
	}
	for _, every := range []int{5, 10, 20} {
		sum := 0.0
		for w := range 3 {
			sum += scrapeCount(steps, 20*w, 20*(w+1), every, 2, false)
		}
		// events after the last scrape before the end are not yet seen
		last := 2 + (60-2)/every*every
		unseen := 0.0
		for _, v := range steps[last:] {
			unseen += v
		}
		if sum+unseen != total {
			t.Errorf("scrape every %d: windows sum to %v + %v unseen, want %v", every, sum, unseen, total)
		}
	}
	tests := []struct {
		name              string
		start, end, every int
		phase             int
		want              float64
	}{
		// samples at 5, 15 in (0, 20]: raw = events in [5, 15), 10 sub-steps
		// of gap; 5 to the start and 5 to the end are within 1.1 gaps.
		{"two samples", 0, 20, 10, 5, sum(steps[5:15]) * 20 / 10},
		// samples at 2, 7, 12, 17: gap 5, 2 to start, 3 to end.
		{"four samples", 0, 20, 5, 2, sum(steps[2:17]) * 20 / 15},
		// one sample in the window: no result.
		{"one sample", 0, 20, 20, 5, math.NaN()},
	}
	for _, tt := range tests {
		got := scrapeCount(steps, tt.start, tt.end, tt.every, tt.phase, true)
		if !(got == tt.want || (math.IsNaN(got) && math.IsNaN(tt.want))) && math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: increase %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestProductionNoise: the production model adds the variation it says
// and keeps the means.
func TestProductionNoise(t *testing.T) {
	base, err := Lookup("healthy")
	if err != nil {
		t.Fatal(err)
	}
	base.Rate = 1000
	shareVariance := func(p Production) (meanC, meanB, varRatio float64) {
		s := base
		s.Production = p
		g := newGenerator(&s, rand.New(rand.NewPCG(1, 2)))
		var logs []float64
		var c, b float64
		const n = 2000
		for range n {
			d := g.interval(50)
			c += d.canary.errors / d.canary.requests
			b += d.baseline.errors / d.baseline.requests
			logs = append(logs, math.Log((d.canary.errors+0.5)/(d.baseline.errors+0.5)))
		}
		m := sum(logs) / n
		v := 0.0
		for _, x := range logs {
			v += (x - m) * (x - m)
		}
		return c / n, b / n, v / (n - 1)
	}
	_, _, plain := shareVariance(Production{})
	mc, mb, spread := shareVariance(Production{RateSpread: 0.5})
	_, _, shared := shareVariance(Production{RateSpread: 0.5, SharedSpread: true})
	t.Logf("log-ratio variance: plain %.3f, independent spread %.3f, shared %.3f", plain, spread, shared)
	if math.Abs(mc-0.001) > 0.0001 || math.Abs(mb-0.001) > 0.0001 {
		t.Errorf("mean error rates %v, %v, want 0.001", mc, mb)
	}
	if spread < plain+0.4 || spread > plain+0.6 {
		t.Errorf("independent sdlog 0.5 adds %.3f to the log-ratio variance, want about 0.5", spread-plain)
	}
	if math.Abs(shared-plain) > 0.05 {
		t.Errorf("a shared spread changes the log-ratio variance by %.3f, want ~0", shared-plain)
	}
}

// TestDispersionJudgeOnBank: a small run of the bank: the binomial judge
// rolls back overdispersed healthy canaries more often than alpha, the
// default sequential judge does not. (The full table: make simulate-table.)
func TestDispersionJudgeOnBank(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	s, err := Lookup("overdispersed-1000rps")
	if err != nil {
		t.Fatal(err)
	}
	s.Production.RateSpread = 0.8 // harsher than the bank's, so that 300 runs tell
	run := func(j judge.Judge) *Result {
		r, err := Run(context.Background(), Config{Scenario: s, Judge: j, Runs: 300, Seed: 5, Alpha: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain, robust := run(judge.Sequential{Binomial: true}), run(judge.Sequential{})
	t.Logf("false rollbacks at alpha 0.05: binomial %d/300, sequential %d/300", plain.RolledBack, robust.RolledBack)
	if plain.FalseRollbackRate.Lower < 0.05 {
		t.Errorf("binomial judge: %v false rollbacks, the scenario should break it", plain.FalseRollbackRate.Value)
	}
	if robust.FalseRollbackRate.Value > 0.05 { // at sdlog 0.8 it is near the limit: 14 of 300
		t.Errorf("sequential judge: %+v false rollbacks, want at most alpha 0.05", robust.FalseRollbackRate)
	}
}

// TestSignedRootLRT: one interval with rho = 1 is the binomial test of the
// canary's share against d0/(d0+1): 30 of 40 events against share 1/2 gives
// 2(30 log(30/20) + 10 log(10/20)) = 10.46, root 3.235 (R:
// sqrt(2*(30*log(1.5)+10*log(0.5)))); splitting it into intervals changes
// nothing; a share below the null gives 0.
func TestSignedRootLRT(t *testing.T) {
	want := math.Sqrt(2 * (30*math.Log(1.5) + 10*math.Log(0.5)))
	for _, tt := range []struct {
		name string
		v    []float64
		want float64
	}{
		{"one interval", []float64{30, 10, 1}, want},
		{"split", []float64{10, 4, 1, 20, 6, 1}, want},
		{"below the null", []float64{5, 30, 1}, 0},
	} {
		if got := signedRootLRT(tt.v, 0); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGuardStableAtMax: the aleph example's max: 1 guard with the stable
// itself at 1% errors and a canary no worse. The sequential judge's guard
// fails only on evidence, so it stays within alpha (the cumulative threshold
// it replaced rolled back 88% of them, measured for the issue). A canary at
// 3% errors is still caught by the guard or the count test.
func TestGuardStableAtMax(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	s, err := Lookup("guard-stable-at-max")
	if err != nil {
		t.Fatal(err)
	}
	run := func(s Scenario, j judge.Judge) *Result {
		r, err := Run(context.Background(), Config{Scenario: s, Judge: j, Runs: 300, Seed: 3, Alpha: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Guards {
			t.Fatalf("%s ran without guards", s.Name)
		}
		return r
	}
	seq := run(s, judge.Sequential{})
	t.Logf("false rollbacks: sequential %v of 300", seq.FalseRollbackRate.Count)
	if seq.FalseRollbackRate.Count > 3 {
		t.Errorf("sequential rolled back %d of 300 canaries no worse than a stable at the guard, want <= 1%%", seq.FalseRollbackRate.Count)
	}
	bad := s
	bad.Healthy, bad.Canary.ErrorRate = false, 0.03
	if r := run(bad, judge.Sequential{}); r.DetectionRate.Value < 0.9 {
		t.Errorf("canary at 3%% errors over a max of 1%%: detected %v", r.DetectionRate.Value)
	}
}
