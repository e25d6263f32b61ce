package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// templateFile holds a MetricTemplate and a Canary using it, as a team
// would keep them in one file under .birdwatch/.
const templateFile = `apiVersion: birdwatch.dev/v1alpha1
kind: MetricTemplate
metadata: {name: http-errors, namespace: games}
spec:
  provider: {type: datadog, address: https://api.datadoghq.eu, secretRef: datadog}
  bad: sum:trace.http.request.errors{service:{{ .Service }},version:{{ .Version }},env:{{ args.env }}}.as_count()
  total: sum:trace.http.request.hits{service:{{ .Service }},version:{{ .Version }},env:{{ .Args.env }}}.as_count()
  args: {env: prod, team: ""}
---
` + base + `        args: {team: arcade}
      - name: errors
        templateRef: {name: http-errors}
        args: {team: arcade, env: staging}
`

// metricChecks knows the provider types datadog and prometheus and fails a
// query naming an argument that is not given, or without {{ .Version }}.
var metricChecks = Checks{
	MetricProvider: func(n string) error {
		if n != "datadog" && n != "prometheus" {
			return fmt.Errorf("unknown metrics provider %q", n)
		}
		return nil
	},
	MetricQuery: func(_, q string, args map[string]string) error {
		if !strings.Contains(q, ".Version") {
			return errors.New("no version")
		}
		for _, name := range []string{"env", "team", "region"} {
			if strings.Contains(q, "args."+name) || strings.Contains(q, "Args."+name) {
				if _, ok := args[name]; !ok {
					return fmt.Errorf("missing argument %q", name)
				}
			}
		}
		return nil
	},
}

func TestMetricTemplatesAndCanariesShareAFile(t *testing.T) {
	ts, err := ParseMetricTemplates("team.yaml", []byte(templateFile), metricChecks)
	if err != nil || len(ts) != 1 {
		t.Fatalf("ParseMetricTemplates = %v, %v; want one template", ts, err)
	}
	tm := ts[0]
	if tm.Key() != "games/http-errors" || tm.Line != 1 || tm.Spec.Unit != "percent" || tm.ProviderType() != "datadog" {
		t.Errorf("template = %s line %d unit %q provider %q", tm.Key(), tm.Line, tm.Spec.Unit, tm.ProviderType())
	}
	cs, err := ParseCanaries("team.yaml", []byte(templateFile), metricChecks)
	if err != nil || len(cs) != 1 {
		t.Fatalf("ParseCanaries = %v, %v; want the one canary, the template skipped", cs, err)
	}
	if err := ResolveTemplates(cs, ts, metricChecks); err != nil {
		t.Fatalf("ResolveTemplates: %v", err)
	}
	m := cs[0].Spec.Analysis.Metrics[1]
	if m.Resolved != tm {
		t.Fatalf("metric %s resolved to %v, want the template", m.Name, m.Resolved)
	}
	if got := m.TemplateArgs(); got["env"] != "staging" || got["team"] != "arcade" || len(got) != 2 {
		t.Errorf("TemplateArgs = %v, want the metric's args over the defaults", got)
	}
	if cs[0].Spec.Analysis.Metrics[0].Resolved != nil {
		t.Error("an embedded-template metric got a MetricTemplate")
	}
}

func TestResolveTemplatesProblems(t *testing.T) {
	tmpl := func(name, extra string) string {
		return "apiVersion: birdwatch.dev/v1alpha1\nkind: MetricTemplate\nmetadata: {name: " + name + ", namespace: games}\n" +
			"spec:\n  query: x{v=\"{{ .Version }}\",r=\"{{ args.region }}\"}\n  args: {region: " + extra + "}\n"
	}
	canary := base + "      - name: latency\n        templateRef: {name: %s%s}\n%s"
	cases := []struct {
		name, tmpl, ref, ns, args string
		want                      string
	}{
		{"unknown template", tmpl("lat", "eu"), "nope", "", "", "team.yaml:23: spec.analysis.metrics[1].templateRef: no MetricTemplate games/nope under .birdwatch/ (have: games/lat)"},
		{"other namespace", tmpl("lat", "eu"), "lat", ", namespace: ops", "", "no MetricTemplate ops/lat"},
		{"missing arg", tmpl("lat", `""`), "lat", "", "", `missing argument "region": MetricTemplate games/lat has no default for it`},
		{"undeclared arg", tmpl("lat", "eu"), "lat", "", "        args: {zone: a}\n", `argument "zone" is not declared by MetricTemplate games/lat (t.yaml:1)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := ParseMetricTemplates("t.yaml", []byte(tc.tmpl), metricChecks)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := ParseCanaries("team.yaml", []byte(fmt.Sprintf(canary, tc.ref, tc.ns, tc.args)), metricChecks)
			if err != nil {
				t.Fatal(err)
			}
			err = ResolveTemplates(cs, ts, metricChecks)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ResolveTemplates = %v, want %q", err, tc.want)
			}
			if m := cs[0].Spec.Analysis.Metrics[1]; m.Resolved != nil {
				t.Error("a bad reference was resolved")
			}
		})
	}
}

func TestParseMetricTemplateProblems(t *testing.T) {
	head := "apiVersion: birdwatch.dev/v1alpha1\nkind: MetricTemplate\nmetadata: {name: lat}\nspec:\n"
	cases := []struct{ name, body, want string }{
		{"unknown provider", "  provider: {type: splunk}\n  query: x{v=\"{{ .Version }}\"}\n", `t.yaml:5: spec.provider.type: unknown metrics provider "splunk"`},
		{"no version", "  query: sum(x)\n", "t.yaml:5: spec.query: no version"},
		{"undeclared arg", "  bad: x{v=\"{{ .Version }}\",e=\"{{ args.env }}\"}\n  total: y{v=\"{{ .Version }}\"}\n", `t.yaml:5: spec.bad: missing argument "env"`},
		{"query and counts", "  query: x{v=\"{{ .Version }}\"}\n  bad: y{v=\"{{ .Version }}\"}\n", "t.yaml:4: spec: set either query or bad and total"},
		{"bad without total", "  bad: y{v=\"{{ .Version }}\"}\n", "t.yaml:4: spec: set query (one value), bad and total"},
		{"unknown field", "  querry: x\n", "t.yaml:5: spec.querry: unknown field"},
		{"secret value in git", "  provider: {type: datadog, secretRef: 'abc def'}\n  query: x{v=\"{{ .Version }}\"}\n", "spec.provider.secretRef: must name a secret of the deployment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMetricTemplates("t.yaml", []byte(head+tc.body), metricChecks)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseMetricTemplates = %v, want %q", err, tc.want)
			}
		})
	}
}
