package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// alwaysRejected is a Git server whose branch always moves before our push.
type alwaysRejected struct{ *repo.Repo }

func (r alwaysRejected) Push(ctx context.Context, commit, parent *repo.Snapshot) error {
	return fmt.Errorf("push: %w", repo.ErrRejected)
}

// TestFaultMatrix puts the loop, at an analyze step, in front of each fault
// of its edges. No fault may raise the weight or lose a commit; metric faults
// are inconclusive looks, Git faults leave the repository as it was.
func TestFaultMatrix(t *testing.T) {
	prom := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tests := []struct {
		name      string
		promURL   func() string
		repo      func(t *testing.T, url string) Repository
		wantCheck func(t *testing.T, o Outcome, err error)
	}{
		{"Prometheus answers 500", func() string {
			return prom(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) })
		}, nil, wantInconclusive},
		{"Prometheus slower than the timeout", func() string {
			return prom(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			})
		}, nil, wantInconclusive},
		{"Prometheus answers malformed JSON", func() string {
			return prom(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"success","data":`)) })
		}, nil, wantInconclusive},
		{"Prometheus answers an empty result", func() string {
			return prom(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
			})
		}, nil, wantInconclusive},
		{"Git server gone", func() string { return "http://127.0.0.1:1" },
			func(t *testing.T, _ string) Repository {
				return openRepo(t, "file:///nonexistent/fleet.git")
			}, func(t *testing.T, o Outcome, err error) {
				if err == nil || !strings.Contains(err.Error(), "fetch") {
					t.Errorf("Run error %v", err)
				}
			}},
		{"push rejected again and again", func() string { return "http://127.0.0.1:1" },
			func(t *testing.T, url string) Repository { return alwaysRejected{openRepo(t, url)} },
			func(t *testing.T, o Outcome, err error) {
				if err != nil || !errors.Is(o.Err, repo.ErrRejected) || o.Commit != "" {
					t.Errorf("outcome %+v, run error %v", o, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, testSpec)
			c := newClock(dataEnd.Add(-time.Hour))
			setup := newEngine(t, openRepo(t, f.URL()), "http://127.0.0.1:1", c)
			runOnce(t, setup) // weight 10
			runOnce(t, setup) // applied: now at the analyze step
			before, beforeWeights := subjects(t, f), weightsAt(t, f, "main")
			c.advance(time.Minute)
			r := Repository(openRepo(t, f.URL()))
			if tt.repo != nil {
				r = tt.repo(t, f.URL())
			}
			e := newEngine(t, r, tt.promURL(), c)
			e.Judges["sequential"] = judge.Sequential{}
			out, err := e.Run(t.Context(), Request{Trigger: "test"})
			var o Outcome
			if len(out) == 1 {
				o = out[0]
			}
			tt.wantCheck(t, o, err)
			if w := weightsAt(t, f, "main"); w != beforeWeights {
				t.Errorf("weights moved from %s to %s", beforeWeights, w)
			}
			after := subjects(t, f)
			if len(after) < len(before) || strings.Join(after[len(after)-len(before):], "\n") != strings.Join(before, "\n") {
				t.Errorf("history rewritten:\n%s\nwas:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// wantInconclusive: the look is inconclusive (counted, committed), never a pass or a raise.
func wantInconclusive(t *testing.T, o Outcome, err error) {
	t.Helper()
	if err != nil || o.Err != nil || o.Analysis == nil {
		t.Fatalf("outcome %+v, run error %v", o, err)
	}
	if o.Analysis.Verdict != judge.VerdictInconclusive || o.Decision.Status.Inconclusives != 1 ||
		o.Decision.Status.Phase != spec.PhaseProgressing {
		t.Errorf("verdict %s, inconclusives %d, phase %s (%s)", o.Analysis.Verdict, o.Decision.Status.Inconclusives,
			o.Decision.Status.Phase, o.Decision.Reason)
	}
}
