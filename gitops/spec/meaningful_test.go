package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestMeaninglessSettingsRefused: settings that parse but mean nothing (a
// zero written where zero becomes the default, a non-finite number, an
// operator entry that can match nobody) are refused with a clear error
// naming file, line and field.
func TestMeaninglessSettingsRefused(t *testing.T) {
	withAnalysis := func(lines string) string {
		return replaceLine(t, "  analysis:\n", "  analysis:\n"+lines)
	}
	withMetric := func(lines string) string {
		return replaceLine(t, "        template: istio-error-rate\n", "        template: istio-error-rate\n"+lines)
	}
	withOperator := func(op string) string {
		return base + "  access:\n    operators: [\"" + op + "\"]\n"
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"interval 0s", withAnalysis("    interval: 0s\n"), "c.yaml:19: spec.analysis.interval: must be a positive duration (leave it out for the default 1m0s), got 0"},
		{"interval negative", withAnalysis("    interval: -1m\n"), "c.yaml:19: spec.analysis.interval: must be a positive duration"},
		{"alpha 0", withAnalysis("    alpha: 0\n"), "c.yaml:19: spec.analysis.alpha: must be in (0, 0.5] (leave it out for the default 0.01), got 0"},
		{"alpha above 0.5", withAnalysis("    alpha: 0.7\n"), "c.yaml:19: spec.analysis.alpha: must be in (0, 0.5], got 0.7"},
		{"alpha NaN", withAnalysis("    alpha: .nan\n"), "c.yaml:19: spec.analysis.alpha: must be in (0, 0.5], got NaN"},
		{"sync timeout 0s", base + "  sync:\n    timeout: 0s\n", "c.yaml:23: spec.sync.timeout: must be a positive duration (leave it out for the default 10m0s), got 0"},
		{"max NaN", withMetric("        max: .nan\n"), "c.yaml:22: spec.analysis.metrics[0].max: must be a finite number, got .nan"},
		{"min -Inf", withMetric("        min: -.inf\n"), "c.yaml:22: spec.analysis.metrics[0].min: must be a finite number, got -.inf"},
		{"tolerance Inf", withMetric("        tolerance: .inf\n"), "c.yaml:22: spec.analysis.metrics[0].tolerance: must be a finite number, got .inf"},
		{"effect size NaN", withMetric("        effectSize:\n          allowedIncrease: .NaN\n"), "c.yaml:23: spec.analysis.metrics[0].effectSize.allowedIncrease: must be a finite number, got .NaN"},
		{"github @handle", withOperator("github:@alice"), `spec.access.operators[0]: "@alice" is not a GitHub login`},
		{"github empty", withOperator("github:"), `spec.access.operators[0]: "" is not a GitHub login`},
		{"github empty team", withOperator("github:acme/"), `spec.access.operators[0]: "" is not a GitHub team slug`},
		{"slack name", withOperator("slack:alice"), `spec.access.operators[0]: "alice" is not a Slack user ID`},
		{"slack channel", withOperator("slack:C024BE91L"), `spec.access.operators[0]: "C024BE91L" is not a Slack user ID`},
		{"unknown kind", withOperator("gitlab-user:alice"), `spec.access.operators[0]: want github:ORG/TEAM, github:USER, gitlab:GROUP, gitlab:USER or slack:ID, got "gitlab-user:alice"`},
		{"gitlab @handle", withOperator("gitlab:@alice"), `spec.access.operators[0]: "@alice" is not a GitLab username or group path`},
		{"gitlab project path", withOperator("gitlab:acme/fleet.git"), `spec.access.operators[0]: "acme/fleet.git" is not a GitLab username or group path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCanaries("c.yaml", []byte(tt.yaml), testChecks)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("want a spec error, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

// TestMeaningfulSettingsAccepted: what the refusals must not catch.
func TestMeaningfulSettingsAccepted(t *testing.T) {
	for _, ops := range []string{`["github:acme/sre-team", "github:alice-b", "slack:U024BE7LH", "slack:W012A3CDE", "slack:S0614TZR7", "gitlab:platform/sre", "gitlab:alice.b"]`} {
		doc := replaceLine(t, "        template: istio-error-rate\n", "        template: istio-error-rate\n        max: 0.05\n        args: {x: .nan}\n")
		doc += "  access:\n    operators: " + ops + "\n"
		if _, err := ParseCanaries("c.yaml", []byte(doc), testChecks); err != nil {
			t.Errorf("%s: %v", ops, err)
		}
	}
}
