package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestRateGuardMatchesR checks the guard's log e-value and confidence bound
// against guard_fixtures.R (make fixtures).
func TestRateGuardMatchesR(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "guard_fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name                     string
		Bad, Total, Limit, Alpha float64
		Above                    bool
		LogE                     float64 `json:"log_e"`
		Bound                    float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("%d fixtures", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			g := RateGuard{Limit: c.Limit, Alpha: c.Alpha, Above: c.Above}
			if got := g.LogEValue(c.Bad, c.Total); math.Abs(got-c.LogE) > 1e-9*math.Max(1, math.Abs(c.LogE)) {
				t.Errorf("log e-value %.12g, R %.12g", got, c.LogE)
			}
			bg := RateGuard{Limit: 0.5, Alpha: c.Alpha, Above: c.Above}
			if got := bg.Bound(c.Bad, c.Total); math.Abs(got-c.Bound) > 1e-7*c.Bound {
				t.Errorf("bound %.12g, R %.12g", got, c.Bound)
			}
			if want := c.LogE >= math.Log(1/c.Alpha); g.Exceeded(c.Bad, c.Total) != want {
				t.Errorf("exceeded %v, want %v", !want, want)
			}
		})
	}
}

// TestRateGuardEdges covers the limits 0 and 1 and input that is never
// evidence.
func TestRateGuardEdges(t *testing.T) {
	for _, c := range []struct {
		name       string
		g          RateGuard
		bad, total float64
		want       float64
	}{
		{"max 0, one error", RateGuard{Limit: 0, Alpha: 0.01, Above: true}, 1, 100, math.Inf(1)},
		{"max 0, no error", RateGuard{Limit: 0, Alpha: 0.01, Above: true}, 0, 100, 0},
		{"max 1", RateGuard{Limit: 1, Alpha: 0.01, Above: true}, 100, 100, 0},
		{"min 1, one good", RateGuard{Limit: 1, Alpha: 0.01}, 99, 100, math.Inf(1)},
		{"min 0", RateGuard{Limit: 0, Alpha: 0.01}, 0, 100, 0},
		{"NaN", RateGuard{Limit: 0.01, Alpha: 0.01, Above: true}, math.NaN(), 100, 0},
		{"negative", RateGuard{Limit: 0.01, Alpha: 0.01, Above: true}, -5, 100, 0},
		{"more bad than total", RateGuard{Limit: 0.01, Alpha: 0.01, Above: true}, 101, 100, 0},
		{"invalid alpha", RateGuard{Limit: 0.01, Alpha: 0, Above: true}, 100, 100, 0},
	} {
		if got := c.g.LogEValue(c.bad, c.total); got != c.want {
			t.Errorf("%s: log e %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRateGuardFalseFailures: a version exactly at the max, looked at
// after every one of 60 intervals, fails the guard in at most alpha of the
// rollouts (Ville's inequality); one 1.5x above the max is caught.
func TestRateGuardFalseFailures(t *testing.T) {
	const runs, alpha, limit = 2000, 0.05, 0.01
	g := RateGuard{Limit: limit, Alpha: alpha, Above: true}
	rollouts := func(p float64) int {
		rng := rand.New(rand.NewPCG(7, uint64(p*1e6)))
		failed := 0
		for range runs {
			bad, total := 0.0, 0.0
			for range 60 {
				for range 100 {
					if rng.Float64() < p {
						bad++
					}
				}
				total += 100
				if g.Exceeded(bad, total) {
					failed++
					break
				}
			}
		}
		return failed
	}
	if n := rollouts(limit); n > runs*alpha {
		t.Errorf("at the limit: %d of %d rollouts failed the guard, want <= %v", n, runs, runs*alpha)
	}
	if n := rollouts(3 * limit); n < runs/2 {
		t.Errorf("3x the limit: %d of %d caught, want >= half", n, runs)
	}
}
