package aws

import (
	"testing"
)

// TestTemplate checks the committed template, with a plain Prometheus and
// with Amazon Managed Prometheus, against every rule of checkTemplate.
func TestTemplate(t *testing.T) {
	tests := []struct {
		name string
		amp  bool
	}{
		{name: "plain prometheus", amp: false},
		{name: "amazon managed prometheus, cloudwatch, metrics secrets", amp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := testParams(tt.amp)
			tpl := loadTemplate(t, params)
			amp, _ := params["AmpWorkspaceArn"].(string)
			for _, p := range checkTemplate(tpl, amp) {
				t.Error(p)
			}
			worker := (&checker{tpl: tpl.tpl}).function("worker")
			if worker == nil {
				t.Fatal("no worker")
			}
			region := worker.Environment.Variables["BIRDWATCH_PROMETHEUS_SIGV4_REGION"]
			if (region != "") != tt.amp {
				t.Errorf("BIRDWATCH_PROMETHEUS_SIGV4_REGION = %q with AMP %v", region, tt.amp)
			}
			// The optional metrics settings reach the worker exactly when turned on.
			for k, want := range map[string]string{"BIRDWATCH_METRICS_SECRETS_SECRET_ID": "ref:MetricsSecret",
				"BIRDWATCH_PROMETHEUS_BEARER_TOKEN_SECRET_ID": "ref:PrometheusTokenSecret", "BIRDWATCH_PROMETHEUS_HEADERS": "X-Scope-OrgID=tenant1"} {
				if !tt.amp {
					want = ""
				}
				if got := worker.Environment.Variables[k]; got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := worker.Environment.Variables["BIRDWATCH_PROMETHEUS_URL"]; got != params["PrometheusUrl"] {
				t.Errorf("BIRDWATCH_PROMETHEUS_URL = %q, want the parameter %q", got, params["PrometheusUrl"])
			}
			// The webhook serves one repository (cmd/birdwatch refuses more): the first.
			webhook := (&checker{tpl: tpl.tpl}).function("webhook")
			if got := webhook.Environment.Variables["BIRDWATCH_REPOS"]; got != "https://github.com/acme/fleet" {
				t.Errorf("webhook BIRDWATCH_REPOS = %q, want the first repository", got)
			}
		})
	}
}
