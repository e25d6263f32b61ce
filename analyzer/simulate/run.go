package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	gosync "sync"
	"sync/atomic"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// DefaultAlpha is the false-rollback budget when Config.Alpha is zero, as
// the Canary spec's default.
const DefaultAlpha = spec.DefaultAlpha

// Config is one simulation: a scenario, a judge and how many rollouts.
type Config struct {
	Scenario Scenario
	// Judge judges every look; it must be safe for concurrent use.
	Judge judge.Judge
	// Runs is the number of rollouts, >= 1.
	Runs int
	// Seed fixes every random stream: run i draws from PCG(Seed, i).
	Seed uint64
	// Alpha is spec.analysis.alpha, in (0, 1); zero means DefaultAlpha.
	Alpha float64
	// Guards gives the metrics the scenario's absolute max guards (the
	// threshold judge needs them; the statistical judges also apply them).
	Guards bool
	// RoundTrip passes the status through its YAML form after every
	// commit, as the status file in Git does. Slower; same results.
	RoundTrip bool
	// Workers run rollouts in parallel; zero means GOMAXPROCS. The result
	// does not depend on it.
	Workers int
	// Progress, when set, is called after each finished rollout, from the
	// worker goroutines: it must be safe for concurrent use and quick.
	Progress func()
}

// Result is a simulation's summary. Rates carry Wilson 95% intervals.
type Result struct {
	// Scenario, Judge, Healthy, Runs, Seed, Alpha and Guards repeat what
	// was simulated.
	Scenario string  `json:"scenario"`
	Judge    string  `json:"judge"`
	Healthy  bool    `json:"healthy"`
	Runs     int     `json:"runs"`
	Seed     uint64  `json:"seed"`
	Alpha    float64 `json:"alpha"`
	Guards   bool    `json:"guards"`
	// Intervals is the number of analysis intervals of a rollout that
	// passes every look; Interval is their length.
	Intervals int    `json:"intervals"`
	Interval  string `json:"interval"`
	// FalseRollbackRate is the share of rollouts rolled back (for any
	// reason, no data included); set for healthy scenarios, else nil.
	FalseRollbackRate *Rate `json:"falseRollbackRate"`
	// DetectionRate is the share of rollouts rolled back by a failed
	// analysis (not by lack of data); set for faulty scenarios, else nil.
	DetectionRate *Rate `json:"detectionRate"`
	// MeanIntervalsToDetect and MedianIntervalsToDetect are over the
	// detected rollouts: intervals of canary traffic until the rollback;
	// nil when none was detected or the scenario is healthy.
	MeanIntervalsToDetect   *float64 `json:"meanIntervalsToDetect"`
	MedianIntervalsToDetect *float64 `json:"medianIntervalsToDetect"`
	// DetectionsByInterval[k] counts the detected rollouts rolled back
	// after k intervals of canary traffic; nil when none was detected.
	DetectionsByInterval []int `json:"detectionsByInterval,omitempty"`
	// Promoted, RolledBack, NoData and Unfinished count the runs by End.
	Promoted   int `json:"promoted"`
	RolledBack int `json:"rolledBack"`
	NoData     int `json:"noData"`
	Unfinished int `json:"unfinished"`
	// MeanIntervals is the mean number of intervals of canary traffic per rollout.
	MeanIntervals float64 `json:"meanIntervals"`
	// MeanLooks is the mean number of analyses per rollout.
	MeanLooks float64 `json:"meanLooks"`
}

// validate fills defaults and checks cfg.
func (cfg *Config) validate() error {
	if cfg.Alpha == 0 {
		cfg.Alpha = DefaultAlpha
	}
	if j, ok := cfg.Judge.(ScenarioJudge); ok {
		cfg.Judge = j.ForScenario(&cfg.Scenario)
	}
	switch {
	case cfg.Judge == nil:
		return fmt.Errorf("no judge: %w", ErrInvalidConfig)
	case cfg.Runs < 1:
		return fmt.Errorf("runs %d < 1: %w", cfg.Runs, ErrInvalidConfig)
	case !(cfg.Alpha > 0 && cfg.Alpha < 1):
		return fmt.Errorf("alpha %v not in (0, 1): %w", cfg.Alpha, ErrInvalidConfig)
	case cfg.Workers < 0:
		return fmt.Errorf("workers %d < 0: %w", cfg.Workers, ErrInvalidConfig)
	}
	return cfg.Scenario.Validate()
}

// Run simulates cfg.Runs rollouts on up to cfg.Workers goroutines and
// summarises them. The result depends only on cfg (not on Workers or
// scheduling). It stops early with ctx's error when ctx is done.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	outcomes, err := Outcomes(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return summarize(&cfg, outcomes), nil
}

// Outcomes simulates cfg.Runs rollouts like Run and returns each, in run order.
func Outcomes(ctx context.Context, cfg Config) ([]Outcome, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := canarySpec(&cfg.Scenario, cfg.Judge.Name(), cfg.Alpha, cfg.Guards)
	if err := spec.Validate(c, spec.Checks{}); err != nil {
		return nil, fmt.Errorf("scenario %q makes an invalid spec: %w: %w", cfg.Scenario.Name, err, ErrInvalidConfig)
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	outcomes := make([]Outcome, cfg.Runs)
	var next atomic.Int64
	var wg gosync.WaitGroup
	errs := make([]error, workers)
	for w := range min(workers, cfg.Runs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Runs || ctx.Err() != nil {
					return
				}
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
				o, err := simulateRollout(&cfg.Scenario, c, cfg.Judge, rng, cfg.RoundTrip)
				if err != nil {
					errs[w] = fmt.Errorf("run %d: %w", i, err)
					return
				}
				outcomes[i] = o
				if cfg.Progress != nil {
					cfg.Progress()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("simulate %s: %w", cfg.Scenario.Name, err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return outcomes, nil
}

// summarize counts the outcomes into a Result.
func summarize(cfg *Config, outcomes []Outcome) *Result {
	s := &cfg.Scenario
	r := &Result{Scenario: s.Name, Judge: cfg.Judge.Name(), Healthy: s.Healthy, Runs: len(outcomes), Seed: cfg.Seed,
		Alpha: cfg.Alpha, Guards: cfg.Guards || s.Guards, Intervals: s.Intervals(), Interval: s.Interval.String()}
	var detected []float64
	var intervals, looks int
	for _, o := range outcomes {
		intervals += o.Intervals
		looks += o.Looks
		switch o.End {
		case Promoted:
			r.Promoted++
		case RolledBack:
			r.RolledBack++
			detected = append(detected, float64(o.Intervals))
		case NoData:
			r.NoData++
		default:
			r.Unfinished++
		}
	}
	n := len(outcomes)
	r.MeanIntervals = float64(intervals) / float64(n)
	r.MeanLooks = float64(looks) / float64(n)
	if s.Healthy {
		fr := NewRate(r.RolledBack+r.NoData, n)
		r.FalseRollbackRate = &fr
		return r
	}
	dr := NewRate(r.RolledBack, n)
	r.DetectionRate = &dr
	if len(detected) > 0 {
		mean, median := meanMedian(detected)
		r.MeanIntervalsToDetect, r.MedianIntervalsToDetect = &mean, &median
		r.DetectionsByInterval = make([]int, int(detected[len(detected)-1])+1)
		for _, k := range detected {
			r.DetectionsByInterval[int(k)]++
		}
	}
	return r
}

// meanMedian returns the mean and median of xs (not empty); it sorts xs.
func meanMedian(xs []float64) (mean, median float64) {
	slices.Sort(xs)
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	n := len(xs)
	if n%2 == 1 {
		return mean, xs[n/2]
	}
	return mean, (xs[n/2-1] + xs[n/2]) / 2
}
