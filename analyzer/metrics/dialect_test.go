package metrics

import (
	"errors"
	"testing"
	"time"
)

func TestRenderDialectArgumentSpellings(t *testing.T) {
	v := Vars{Service: "aleph", Version: "v04", Window: 5 * time.Minute,
		Args: map[string]string{"env": "prod", "service-name": "aleph-api"}}
	cases := []struct {
		name    string
		d       Dialect
		query   string
		want    string
		wantErr error
	}{
		{"go template arg", Plain, "env:{{ .Args.env }}", "env:prod", nil},
		{"argo arg", Plain, "env:{{ args.env }}", "env:prod", nil},
		{"argo arg, no spaces", Plain, "env:{{args.env}}", "env:prod", nil},
		{"argo hyphenated", Plain, "svc:{{ args.service-name }}", "svc:aleph-api", nil},
		{"go hyphenated", Plain, "svc:{{ .Args.service-name }}", "svc:aleph-api", nil},
		{"trim markers", Plain, "a {{- args.env -}} b", "aprodb", nil},
		{"argo in promql", PromQL, `x{env="{{ args.env }}",v="{{ .Version }}"}`, `x{env="prod",v="v04"}`, nil},
		{"argo hyphenated in promql", PromQL, `x{s="{{ args.service-name }}"}`, `x{s="aleph-api"}`, nil},
		{"text outside actions is kept", Plain, "args.env {{ .Version }}", "args.env v04", nil},
		{"plain duration", Plain, "last {{ .Window }}", "last 5m", nil},
		{"missing argo arg", Plain, "{{ args.region }}", "", ErrTemplate},
		{"missing hyphenated arg", Plain, "{{ .Args.service-region }}", "", ErrTemplate},
		{"missing go arg", Plain, "{{ .Args.region }}", "", ErrTemplate},
		{"promql rules stay", PromQL, "x{v={{ .Version }}}", "", ErrTemplate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RenderDialect(tc.d, tc.query, v)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("RenderDialect = %q, %v; want %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("RenderDialect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRenderPlainRefusesValuesThatChangeTheQuery(t *testing.T) {
	for _, val := range []string{"v1,env:dev", "v1 OR 1=1", "v1'", `v1"`, "v1}", "v1)", "", "v1\n", "-v1", "v1/../x", "ünï"} {
		v := Vars{Version: val}
		if got, err := RenderDialect(Plain, "version:{{ .Version }}", v); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("version %q rendered %q, %v; want ErrInvalidValue", val, got, err)
		}
	}
	for _, val := range []string{"v1", "1.2.3", "aleph-v04_rc1", "A"} {
		if got, err := RenderDialect(Plain, "{{ .Version }}", Vars{Version: val}); err != nil || got != val {
			t.Errorf("version %q rendered %q, %v", val, got, err)
		}
	}
}

func TestUsesVersion(t *testing.T) {
	cases := []struct {
		d     Dialect
		query string
		want  bool
	}{
		{PromQL, `sum(rate(x{version="{{ .Version }}"}[{{ .Window }}]))`, true},
		{PromQL, `sum(rate(x{service="{{ .Service }}"}[{{ .Window }}]))`, false},
		{Plain, "sum:hits{version:{{ .Version }}}", true},
		{Plain, "sum:hits{canary:{{ .Canary }}}", false},
		{Plain, "{{ if eq 1 1 }}x{{ end }}", false},
	}
	for _, tc := range cases {
		got, err := UsesVersion(tc.d, tc.query, nil)
		if err != nil || got != tc.want {
			t.Errorf("UsesVersion(%s, %q) = %v, %v; want %v", tc.d, tc.query, got, err, tc.want)
		}
	}
}
