package simulate

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
)

// TestProgress: Progress is called once per finished rollout, whatever the
// number of workers, and does not change the outcomes.
func TestProgress(t *testing.T) {
	tests := []struct {
		name    string
		runs    int
		workers int
	}{
		{"one worker", 7, 1},
		{"more workers than runs", 3, 5},
		{"several workers", 25, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			cfg := Config{Scenario: short(t, "healthy"), Judge: judge.Sequential{}, Runs: tt.runs, Seed: 5, Workers: tt.workers,
				Progress: func() { calls.Add(1) }}
			r, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != int64(tt.runs) || r.Runs != tt.runs {
				t.Errorf("%d progress calls for %d rollouts (result has %d), want %d", got, tt.runs, r.Runs, tt.runs)
			}
		})
	}
}
