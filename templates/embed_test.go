package templates_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

func TestNames(t *testing.T) {
	names := templates.Names()
	for _, want := range []string{"istio-error-rate", "istio-latency-p99", "istio-slow-requests"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, missing %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, not sorted", names)
	}
}

// TestShippedTemplates loads every embedded template and checks it the way
// a spec is validated: structure, template syntax, known variables only, and
// string variables only inside double-quoted strings.
func TestShippedTemplates(t *testing.T) {
	for _, name := range templates.Names() {
		t.Run(name, func(t *testing.T) {
			tmpl, err := templates.Metric(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := metrics.CheckTemplate(tmpl); err != nil {
				t.Error(err)
			}
			if tmpl.Description == "" {
				t.Error("no description")
			}
			for _, q := range []string{tmpl.Query, tmpl.Errors, tmpl.Requests} {
				if strings.HasPrefix(name, "istio-") && q != "" && !strings.Contains(q, `reporter="destination"`) {
					t.Errorf("query without the reporter filter counts every request twice: %s", q)
				}
			}
		})
	}
}

func TestMetric(t *testing.T) {
	tests := []struct {
		name       string
		metric     string
		assertions func(t *testing.T, got templates.Template, err error)
	}{
		{
			name:   "error rate is a count metric",
			metric: "istio-error-rate",
			assertions: func(t *testing.T, got templates.Template, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got.Name != "istio-error-rate" || got.Unit != "percent" || got.Query != "" || got.Errors == "" || got.Requests == "" {
					t.Errorf("got %+v", got)
				}
			},
		},
		{
			name:   "p99 has a query and a request count",
			metric: "istio-latency-p99",
			assertions: func(t *testing.T, got templates.Template, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if got.Unit != "ms" || !strings.HasPrefix(got.Query, "histogram_quantile(0.99,") || got.Requests == "" || got.Errors != "" {
					t.Errorf("got %+v", got)
				}
			},
		},
		{
			name:   "slow requests declares its argument",
			metric: "istio-slow-requests",
			assertions: func(t *testing.T, got templates.Template, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := got.Args["le"]; !ok {
					t.Errorf("args = %v, want le", got.Args)
				}
			},
		},
		{name: "unknown name", metric: "istio-nope", assertions: wantErr(templates.ErrUnknownTemplate)},
		{name: "empty name", metric: "", assertions: wantErr(templates.ErrUnknownTemplate)},
		{name: "path traversal", metric: "../embed", assertions: wantErr(templates.ErrUnknownTemplate)},
		{name: "file name with extension", metric: "istio-error-rate.yaml", assertions: wantErr(templates.ErrUnknownTemplate)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := templates.Metric(tc.metric)
			tc.assertions(t, got, err)
		})
	}
}

func wantErr(target error) func(*testing.T, templates.Template, error) {
	return func(t *testing.T, _ templates.Template, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("error = %v, want %v", err, target)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string // substring of the error; "" means valid
	}{
		{name: "count metric", yaml: "name: c\nunit: percent\nerrors: sum(e)\nrequests: sum(r)\n"},
		{name: "value metric", yaml: "name: v\nunit: ms\nquery: max(x)\n"},
		{name: "unknown field", yaml: "name: c\nunit: ms\nquery: x\nqueries: y\n", wantErr: "field queries not found"},
		{name: "missing unit", yaml: "name: c\nquery: x\n", wantErr: "unit: missing"},
		{name: "no query and no counts", yaml: "name: c\nunit: ms\nrequests: sum(r)\n", wantErr: "query: missing"},
		{name: "errors without requests", yaml: "name: c\nunit: ms\nquery: x\nerrors: sum(e)\n", wantErr: "errors: given without requests"},
		{name: "bad name", yaml: "name: Bad_Name\nunit: ms\nquery: x\n", wantErr: "name"},
		{name: "template syntax error", yaml: "name: c\nunit: ms\nquery: 'x{v=\"{{ .Version }\"}'\n", wantErr: "query:"},
		{name: "not YAML", yaml: "name: [\n", wantErr: "decoding YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := templates.Parse([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse() error = %v", err)
				}
				return
			}
			if !errors.Is(err, templates.ErrInvalidTemplate) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse() error = %v, want ErrInvalidTemplate containing %q", err, tc.wantErr)
			}
		})
	}
}
