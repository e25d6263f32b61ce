package sync

import (
	"context"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

func TestNone(t *testing.T) {
	set := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := &spec.Canary{Spec: spec.CanarySpec{Sync: spec.SyncSpec{Engine: "none", ApplyDelay: spec.Duration(30 * time.Second)}}}
	tests := []struct {
		name string
		st   *spec.Status
		now  time.Time
		want *time.Time
	}{
		{"no status", nil, set, nil},
		{"no weight commit", &spec.Status{}, set, nil},
		{"before the delay", &spec.Status{WeightSetAt: &set}, set.Add(29 * time.Second), nil},
		{"at the delay", &spec.Status{WeightSetAt: &set}, set.Add(30 * time.Second), ptr(set.Add(30 * time.Second))},
		{"long after", &spec.Status{WeightSetAt: &set}, set.Add(time.Hour), ptr(set.Add(30 * time.Second))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := None{}.AppliedAt(context.Background(), c, tt.st, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && !got.Equal(*tt.want)) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := (Engines{"none": None{}}).For(&spec.Canary{Spec: spec.CanarySpec{Sync: spec.SyncSpec{Engine: "flux"}}}); err == nil {
		t.Error("unknown engine accepted")
	}
}

func ptr(t time.Time) *time.Time { return &t }
