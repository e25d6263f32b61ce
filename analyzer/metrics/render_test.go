package metrics

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

func TestRender(t *testing.T) {
	base := Vars{
		Service: "aleph", Namespace: "games", Version: "v04", Stable: "v03", Canary: "v04",
		Interval: time.Minute, Window: 90 * time.Second, Args: map[string]string{"le": "250"},
	}
	with := func(mod func(*Vars)) Vars {
		v := base
		mod(&v)
		return v
	}
	tests := []struct {
		name    string
		query   string
		vars    Vars
		want    string
		wantErr error
	}{
		{
			name:  "all variables",
			query: `x{s="{{ .Service }}",n="{{ .Namespace }}",v="{{ .Version }}",a="{{ .Stable }}",b="{{ .Canary }}",le="{{ .Args.le }}"}[{{ .Window }}] offset {{ .Interval }}`,
			vars:  base,
			want:  `x{s="aleph",n="games",v="v04",a="v03",b="v04",le="250"}[1m30s] offset 1m`,
		},
		{
			name:  "injection attempt stays inside the string",
			query: `sum(x{v="{{ .Version }}"})`,
			vars:  with(func(v *Vars) { v.Version = `v1"} or vector(1) #` }),
			want:  `sum(x{v="v1\"} or vector(1) #"})`,
		},
		{
			name:  "backslash, newline, tab and unicode are escaped the Go way",
			query: `x{v="{{ .Version }}"}`,
			vars:  with(func(v *Vars) { v.Version = "a\\b\nc\td\u00e9\u200b" }),
			want:  `x{v="a\\b\nc\td` + "\u00e9" + `\u200b"}`,
		},
		{
			name:  "regex matcher value is regexp-quoted",
			query: `x{v=~"{{ .Version }}", w !~ "{{ .Stable }}|{{ .Canary }}"}`,
			vars:  with(func(v *Vars) { v.Version = "v1.2|.*"; v.Stable = "a+"; v.Canary = "(b)" }),
			want:  `x{v=~"v1\\.2\\|\\.\\*", w !~ "a\\+|\\(b\\)"}`,
		},
		{
			name:  "escaped quote in template text keeps the string open",
			query: `label_replace(x, "d", "a\"{{ .Version }}", "s", "(.*)")`,
			vars:  base,
			want:  `label_replace(x, "d", "a\"v04", "s", "(.*)")`,
		},
		{
			name:  "hash inside a string is not a comment",
			query: `x{v="#{{ .Version }}"} # trailing comment`,
			vars:  base,
			want:  `x{v="#v04"} # trailing comment`,
		},
		{
			name:  "durations: whole seconds, at least 1s, days",
			query: `rate(x[{{ .Window }}]) + rate(y[{{ .Interval }}])`,
			vars:  with(func(v *Vars) { v.Window = 36*time.Hour + 1500*time.Millisecond; v.Interval = 300 * time.Millisecond }),
			want:  `rate(x[1d12h1s]) + rate(y[1s])`,
		},
		{
			name:  "unused zero window and empty version are fine",
			query: `up{job="{{ .Service }}"}`,
			vars:  with(func(v *Vars) { v.Window = 0; v.Version = "" }),
			want:  `up{job="aleph"}`,
		},
		{name: "unknown variable", query: `x{v="{{ .Verison }}"}`, vars: base, wantErr: ErrTemplate},
		{name: "missing argument", query: `x{v="{{ .Args.nope }}"}`, vars: base, wantErr: ErrTemplate},
		{name: "syntax error", query: `x{v="{{ .Version }"}`, vars: base, wantErr: ErrTemplate},
		{name: "string variable outside a string", query: `x{v="a"} or {{ .Version }}`, vars: base, wantErr: ErrTemplate},
		{name: "string variable in single quotes", query: `x{v='{{ .Version }}'}`, vars: base, wantErr: ErrTemplate},
		{name: "string variable in backticks", query: "x{v=`{{ .Version }}`}", vars: base, wantErr: ErrTemplate},
		{name: "string variable in a comment", query: "x # {{ .Version }}\n", vars: base, wantErr: ErrTemplate},
		{name: "variable right after a backslash", query: `x{v="\{{ .Version }}"}`, vars: base, wantErr: ErrTemplate},
		{name: "whole Args map printed outside a string", query: `x or {{ .Args }}`, vars: base, wantErr: ErrTemplate},
		{name: "template may not compare values", query: `{{ if eq .Version "v04" }}x{{ end }}`, vars: base, wantErr: ErrTemplate},
		{name: "template may not cut values", query: `x{v="{{ printf "%.2s" .Version }}"}`, vars: base, wantErr: ErrTemplate},
		{name: "NUL byte in the query", query: "x{v=\"\x00\"}", vars: base, wantErr: ErrTemplate},
		{name: "NUL byte produced by the template", query: `x{v="{{ "\x00" }}"}`, vars: base, wantErr: ErrTemplate},
		{name: "empty used value", query: `x{v="{{ .Version }}"}`, vars: with(func(v *Vars) { v.Version = "" }), wantErr: ErrInvalidValue},
		{name: "non-UTF-8 value", query: `x{v="{{ .Version }}"}`, vars: with(func(v *Vars) { v.Version = "v\xff" }), wantErr: ErrInvalidValue},
		{name: "zero window used", query: `rate(x[{{ .Window }}])`, vars: with(func(v *Vars) { v.Window = 0 }), wantErr: ErrInvalidValue},
		{name: "negative interval used", query: `rate(x[{{ .Interval }}])`, vars: with(func(v *Vars) { v.Interval = -time.Second }), wantErr: ErrInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.query, tc.vars)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Render() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("Render() =\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

func TestPromDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{name: "seconds", in: 90 * time.Second, want: "1m30s"},
		{name: "sub-second rounds up to the minimum", in: time.Millisecond, want: "1s"},
		{name: "fraction truncated", in: 2*time.Minute + 999*time.Millisecond, want: "2m"},
		{name: "hour", in: time.Hour, want: "1h"},
		{name: "week", in: 7 * 24 * time.Hour, want: "1w"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PromDuration(tc.in)
			if err != nil || got != tc.want {
				t.Errorf("PromDuration(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	if _, err := PromDuration(0); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("PromDuration(0) error = %v, want ErrInvalidValue", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		args    []string
		wantErr bool
	}{
		{name: "known variables", query: `sum(rate(x{v="{{ .Version }}"}[{{ .Window }}]))`},
		{name: "declared argument", query: `x{le="{{ .Args.le }}"}`, args: []string{"le"}},
		{name: "undeclared argument", query: `x{le="{{ .Args.le }}"}`, wantErr: true},
		{name: "unknown variable", query: `x{v="{{ .Verison }}"}`, wantErr: true},
		{name: "variable outside a string", query: `x{v={{ .Version }}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.query, tc.args...)
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrTemplate)) {
				t.Errorf("Check() error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    templates.Template
		wantErr error
	}{
		{
			name: "count metric with declared argument",
			tmpl: templates.Template{Name: "c", Unit: "percent", Args: map[string]string{"code": "x"},
				Errors: `sum(x{c="{{ .Args.code }}",v="{{ .Version }}"})`, Requests: `sum(x{v="{{ .Version }}"})`},
		},
		{
			name:    "a query that cannot tell the versions apart",
			tmpl:    templates.Template{Name: "c", Unit: "percent", Errors: `sum(x{v="{{ .Version }}"})`, Requests: `sum(x)`},
			wantErr: ErrTemplate,
		},
		{
			name: "a datadog template renders plain",
			tmpl: templates.Template{Name: "d", Unit: "percent", Provider: "datadog",
				Errors: `sum:e{version:{{ .Version }}}.as_count()`, Requests: `sum:h{version:{{ .Version }}}.as_count()`},
		},
		{
			name:    "undeclared argument in requests",
			tmpl:    templates.Template{Name: "c", Unit: "percent", Errors: `sum(x)`, Requests: `sum(x{c="{{ .Args.code }}"})`},
			wantErr: ErrTemplate,
		},
		{
			name:    "structurally invalid",
			tmpl:    templates.Template{Name: "c", Unit: "percent", Errors: `sum(x)`},
			wantErr: templates.ErrInvalidTemplate,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTemplate(tc.tmpl)
			if (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Errorf("CheckTemplate() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func ExampleRender() {
	q, err := Render(`sum(rate(http_requests_total{version="{{ .Version }}"}[{{ .Window }}]))`,
		Vars{Version: `v1"} or vector(1) #`, Window: 90 * time.Second})
	fmt.Println(q, err)
	// Output: sum(rate(http_requests_total{version="v1\"} or vector(1) #"}[1m30s])) <nil>
}

func BenchmarkRender(b *testing.B) {
	tmpl, err := templates.Metric("istio-error-rate")
	if err != nil {
		b.Fatal(err)
	}
	v := Vars{Service: "aleph", Namespace: "games", Version: "v04", Window: 5 * time.Minute}
	for b.Loop() {
		if _, err := Render(tmpl.Errors, v); err != nil {
			b.Fatal(err)
		}
	}
}
