package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// simulateCLI runs birdwatch simulate in-process: stdout, stderr, error.
func simulateCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"simulate"}, args...))
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestSimulate(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		assertions func(t *testing.T, stdout, stderr string, err error)
	}{
		{"aleph with the sequential judge as JSON", []string{"--scenario", "errors-50pct", "--runs", "200", "--seed", "3", "--output", "json"},
			func(t *testing.T, stdout, _ string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				var r map[string]any
				if err := json.Unmarshal([]byte(stdout), &r); err != nil {
					t.Fatalf("%v in %s", err, stdout)
				}
				dr, _ := r["detectionRate"].(map[string]any)
				if r["falseRollbackRate"] != nil || dr["count"] != 200.0 || r["runs"] != 200.0 || r["seed"] != 3.0 ||
					r["intervals"] != 25.0 || r["judge"] != "sequential" || r["meanIntervalsToDetect"] == nil {
					t.Errorf("JSON %s", stdout)
				}
			}},
		{"healthy with threshold as text", []string{"--judge", "threshold", "--runs", "100"},
			func(t *testing.T, stdout, stderr string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"scenario   healthy:", "judge      threshold, alpha 0.01, max guards on; 100 rollouts, seed 1",
					"false-rollback rate   ", "Wilson 95% ["} {
					if !strings.Contains(stdout, want) {
						t.Errorf("no %q in\n%s", want, stdout)
					}
				}
				if !strings.Contains(stderr, "simulated 100 rollouts in") {
					t.Errorf("stderr %q", stderr)
				}
			}},
		{"the same seed prints the same", []string{"--scenario", "latency-tail", "--runs", "50", "--seed", "9"},
			func(t *testing.T, stdout, _ string, err error) {
				again, _, err2 := simulateCLI(t, "--scenario", "latency-tail", "--runs", "50", "--seed", "9", "--workers", "1")
				if err != nil || err2 != nil || stdout != again || !strings.Contains(stdout, "intervals to detect") {
					t.Errorf("%v %v\n%s\nvs\n%s", err, err2, stdout, again)
				}
			}},
		{"scenarios are listed", []string{"--list"}, func(t *testing.T, stdout, _ string, err error) {
			if err != nil || !strings.Contains(stdout, "errors-50pct         faulty ") || !strings.Contains(stdout, "healthy              healthy") {
				t.Errorf("%v\n%s", err, stdout)
			}
		}},
		{"an unknown judge is an error", []string{"--judge", "coinflip"}, func(t *testing.T, _, _ string, err error) {
			if err == nil || !strings.Contains(err.Error(), `unknown judge "coinflip" (have sequential, `) || !strings.Contains(err.Error(), "mannwhitney-reference)") {
				t.Errorf("err %v", err)
			}
		}},
		{"an unknown scenario is an error", []string{"--scenario", "sunny"}, func(t *testing.T, _, _ string, err error) {
			if err == nil || !strings.Contains(err.Error(), `scenario "sunny"`) {
				t.Errorf("err %v", err)
			}
		}},
		{"an unknown output is an error", []string{"--output", "yaml"}, func(t *testing.T, _, _ string, err error) {
			if err == nil || !strings.Contains(err.Error(), `unknown --output "yaml"`) {
				t.Errorf("err %v", err)
			}
		}},
		{"an unknown judge in --judges is an error", []string{"--table", "--judges", "sequential,coinflip", "--runs", "1"}, func(t *testing.T, _, _ string, err error) {
			if err == nil || !strings.Contains(err.Error(), `unknown judge "coinflip" in --judges`) {
				t.Errorf("error %v", err)
			}
		}},
		{"bad guards are an error", []string{"--guards", "maybe"}, func(t *testing.T, _, _ string, err error) {
			if err == nil || !strings.Contains(err.Error(), `unknown --guards "maybe"`) {
				t.Errorf("err %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := simulateCLI(t, tt.args...)
			tt.assertions(t, stdout, stderr, err)
		})
	}
}
