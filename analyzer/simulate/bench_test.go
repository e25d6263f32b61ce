package simulate

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// BenchmarkRollout is one whole healthy rollout (25 looks) per judge.
func BenchmarkRollout(b *testing.B) {
	s, err := Lookup("healthy")
	if err != nil {
		b.Fatal(err)
	}
	for _, j := range []judge.Judge{judge.Sequential{}, judge.Threshold{}, judge.MannWhitney{}, MannWhitneyReference{}} {
		b.Run(j.Name(), func(b *testing.B) {
			c := canarySpec(&s, j.Name(), 0.01, GuardsFor(j.Name()))
			i := uint64(0)
			for b.Loop() {
				i++
				if _, err := simulateRollout(&s, c, j, rand.New(rand.NewPCG(1, i)), false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRun1000 is 1,000 rollouts of a scenario with the sequential
// judge on GOMAXPROCS workers: the "1,000 rollouts in seconds" target.
func BenchmarkRun1000(b *testing.B) {
	for _, name := range []string{"healthy", "errors-50pct"} {
		s, err := Lookup(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Run(context.Background(), Config{Scenario: s, Judge: judge.Sequential{}, Runs: 1000, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
