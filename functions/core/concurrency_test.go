package core

import (
	"context"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
)

// betaSpec is a second canary in the same repository, with its own manifest.
var betaSpec = strings.NewReplacer("name: aleph", "name: beta", "apps/games/aleph/virtualservice.yaml",
	"apps/games/beta/virtualservice.yaml").Replace(slowApply)

// TestFiftyInvocationsWithHumans runs 50 invocations of the loop at once, for
// three decisions, on a repository with two canaries, while a human pushes to
// an unrelated file and to a canary's manifest: exactly one commit per
// decision and canary, every human commit still on main, statuses consistent.
func TestFiftyInvocationsWithHumans(t *testing.T) {
	if testing.Short() {
		t.Skip("50 concurrent invocations")
	}
	const n = 50
	f := newFleet(t, slowApply)
	vs, err := f.Show(t.Context(), "main", vsPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(t.Context(), "fleet: beta", map[string]fleet.Edit{
		".birdwatch/beta.yaml": fleet.Put(betaSpec), "apps/games/beta/virtualservice.yaml": fleet.Put(vs)}); err != nil {
		t.Fatal(err)
	}
	c := newClock(dataEnd.Add(-time.Hour))
	engines := make([]*Engine, n)
	for i := range engines {
		engines[i] = newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
	}
	humans := 0
	for round, step := range []time.Duration{0, 30 * time.Second, time.Minute} {
		c.advance(step)
		var wg gosync.WaitGroup
		errs := make(chan error, n+2)
		for _, e := range engines {
			wg.Go(func() {
				out, err := e.Run(context.Background(), Request{Trigger: "test"})
				for _, o := range out {
					err = errorsJoin(err, o.Err)
				}
				errs <- err
			})
		}
		humans += 2
		wg.Go(func() { // one human, two pushes: an unrelated file, then a canary's own manifest
			// The manifest edit is on its first line, far from the weights
			// birdwatch changes, so Git merges the two without a conflict.
			note := fmt.Sprintf("# note %d.1\n", round)
			errs <- f.Commit(context.Background(), fmt.Sprintf("human: round %d edit 0", round), map[string]fleet.Edit{
				"docs/notes.md": func(b []byte) ([]byte, error) { return append(b, note...), nil }})
			errs <- f.Commit(context.Background(), fmt.Sprintf("human: round %d edit 1", round), map[string]fleet.Edit{
				vsPath: func(b []byte) ([]byte, error) { return append([]byte(note), b...), nil }})
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		got := subjects(t, f)
		var birdwatch, human int
		for _, s := range got {
			switch {
			case strings.HasPrefix(s, "birdwatch: "):
				birdwatch++
			case strings.HasPrefix(s, "human: "):
				human++
			}
		}
		if want := 2 * (round + 1); birdwatch != want || human != humans {
			t.Fatalf("after round %d: %d birdwatch commits (want %d), %d human (want %d):\n%s",
				round, birdwatch, want, human, humans, strings.Join(got, "\n"))
		}
	}
	for _, name := range []string{"aleph", "beta"} {
		b, err := f.Show(t.Context(), "main", ".birdwatch/status/games/"+name+".yaml")
		if err != nil || !strings.Contains(b, "phase: Progressing") && !strings.Contains(b, "phase: RolledBack") {
			t.Errorf("%s status: %v\n%s", name, err, b)
		}
	}
	if vs, _ := f.Show(t.Context(), "main", vsPath); !strings.Contains(vs, "# note 2.1") || !strings.Contains(vs, "# note 0.1") {
		t.Errorf("a human edit of the manifest was lost:\n%s", vs)
	}
}

func errorsJoin(a, b error) error {
	if b == nil {
		return a
	}
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}
