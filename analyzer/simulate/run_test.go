package simulate

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// short makes a scenario cheap to simulate: three looks a step.
func short(t *testing.T, name string) Scenario {
	t.Helper()
	s, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Steps = []Step{{1, 3 * time.Minute}, {10, 3 * time.Minute}, {50, 3 * time.Minute}}
	return s
}

// TestDeterminism: a seed fixes every outcome, whatever the number of
// workers; another seed changes them; the status' YAML round trip changes
// nothing.
func TestDeterminism(t *testing.T) {
	base := Config{Scenario: short(t, "errors-x2"), Judge: judge.Sequential{}, Runs: 40, Seed: 42}
	ref, err := Outcomes(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		same   bool
	}{
		{"same seed, one worker", func(c *Config) { c.Workers = 1 }, true},
		{"same seed, seven workers", func(c *Config) { c.Workers = 7 }, true},
		{"status through YAML after every commit", func(c *Config) { c.RoundTrip = true }, true},
		{"another seed", func(c *Config) { c.Seed = 43 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			got, err := Outcomes(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if same := reflect.DeepEqual(got, ref); same != tt.same {
				t.Errorf("outcomes equal to the reference: %v, want %v\n got %+v\nwant %+v", same, tt.same, got[:3], ref[:3])
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	ok := Config{Scenario: short(t, "healthy"), Judge: judge.Sequential{}, Runs: 1}
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"no judge", func(c *Config) { c.Judge = nil }},
		{"no runs", func(c *Config) { c.Runs = 0 }},
		{"alpha of 1", func(c *Config) { c.Alpha = 1 }},
		{"negative workers", func(c *Config) { c.Workers = -1 }},
		{"no steps", func(c *Config) { c.Scenario.Steps = nil }},
		{"falling weights", func(c *Config) { c.Scenario.Steps = []Step{{10, time.Minute}, {5, time.Minute}} }},
		{"analyze not a multiple of the interval", func(c *Config) { c.Scenario.Steps[0].Analyze = 90 * time.Second }},
		{"error rate above 1", func(c *Config) { c.Scenario.Canary.ErrorRate = 2 }},
		{"no rate", func(c *Config) { c.Scenario.Rate = 0 }},
		{"tail without factor", func(c *Config) { c.Scenario.Canary.TailShare = 0.1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			cfg.Scenario.Steps = append([]Step(nil), ok.Scenario.Steps...)
			tt.change(&cfg)
			if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Run: %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := Lookup("no-such"); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("Lookup: %v", err)
	}
}

// TestCanarySpec: every scenario makes a valid Canary spec, through its
// YAML form too, with the steps and metrics it describes.
func TestCanarySpec(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			for _, guards := range []bool{false, true} {
				c := canarySpec(&s, "sequential", 0.01, guards)
				if err := spec.Validate(c, spec.Checks{}); err != nil {
					t.Fatalf("guards %v: %v", guards, err)
				}
				if n := len(c.Spec.Steps); n != 2*len(s.Steps)+1 || *c.Spec.Steps[n-1].SetWeight != 100 {
					t.Errorf("%d steps", n)
				}
				cfgs := metricConfigs(c)
				if len(cfgs) != 2 || (cfgs[0].Max != nil) != (guards || s.Guards) || cfgs[1].Tolerance != s.LatencyTolerance || !cfgs[0].Critical {
					t.Errorf("metrics %+v", cfgs)
				}
			}
		})
	}
}

// TestRolloutPaths follows single rollouts to each end.
func TestRolloutPaths(t *testing.T) {
	tests := []struct {
		name     string
		scenario func(t *testing.T) Scenario
		judge    judge.Judge
		want     Outcome
	}{
		{"a healthy canary walks every step", func(t *testing.T) Scenario { return short(t, "healthy") }, judge.Sequential{},
			Outcome{End: Promoted, Intervals: 10, Looks: 9}},
		{"aleph is rolled back at the first look", func(t *testing.T) Scenario {
			s := short(t, "errors-50pct")
			s.Rate = 100
			return s
		}, judge.Sequential{}, Outcome{End: RolledBack, Intervals: 1, Looks: 1}},
		{"no traffic: rolled back by the inconclusive limit", func(t *testing.T) Scenario {
			s := short(t, "low-traffic")
			s.Rate = 0.01
			return s
		}, judge.Threshold{}, Outcome{End: NoData, Intervals: 11, Looks: 11}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.scenario(t)
			c := canarySpec(&s, tt.judge.Name(), 0.01, false)
			got, err := simulateRollout(&s, c, tt.judge, rand.New(rand.NewPCG(9, uint64(i))), true)
			if err != nil {
				t.Fatal(err)
			}
			if got.End != tt.want.End || got.Intervals != tt.want.Intervals || got.Looks != tt.want.Looks {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Scenario: short(t, "healthy"), Judge: judge.Sequential{}, Runs: 10})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
}
