package metrics

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// Dialect is the query language a template is rendered for. It decides how
// a variable's value is made safe to put into the query.
type Dialect int

const (
	// PromQL escapes string variables inside double-quoted PromQL strings
	// and refuses them anywhere else (see Vars).
	PromQL Dialect = iota
	// Plain is every other language (Datadog, NRQL, InfluxQL, Flux,
	// Graphite, CloudWatch metric math, URLs and JSON bodies of the web
	// provider): no language-aware escaping exists for all of them, so a
	// string variable is inserted as is and must be a plain token (see
	// plainValueRE), which cannot end a string, open a clause or add a tag
	// in any of them. Durations render as in PromQL ("5m", "1m30s").
	Plain
)

// String names the dialect.
func (d Dialect) String() string {
	if d == PromQL {
		return "PromQL"
	}
	return "plain"
}

// plainValueRE is what a string variable may be in the Plain dialect:
// letters, digits, '_', '.', '-', starting and ending with a letter or digit
// (a Kubernetes label value, which is what versions and services are).
var plainValueRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)

// RenderDialect executes the Go text/template query with v and returns the
// query in dialect d, trimmed of surrounding space. Arguments may be written
// {{ .Args.name }}, {{ .Args.name-with-dashes }} or, as in Argo Rollouts,
// {{ args.name }}. Referencing an unknown variable or a missing argument is
// an error. Errors wrap ErrTemplate or ErrInvalidValue.
func RenderDialect(d Dialect, query string, v Vars) (string, error) {
	if strings.IndexByte(query, 0) >= 0 {
		return "", fmt.Errorf("%w: query contains a NUL byte", ErrTemplate)
	}
	bindings, data := bind(v)
	arg := func(name string) (placeholder, error) {
		p, ok := data.Args[name]
		if !ok {
			return placeholder{}, fmt.Errorf("missing argument %q", name)
		}
		return p, nil
	}
	tmpl, err := template.New("query").Option("missingkey=error").
		Funcs(template.FuncMap{"arg": arg}).Parse(templates.NormalizeArgs(query))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return "", fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	var expr string
	if d == PromQL {
		expr, err = substitute(out.Bytes(), bindings)
	} else {
		expr, err = substitutePlain(out.Bytes(), bindings)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(expr), nil
}

// substitutePlain replaces the placeholders in out with their values,
// which must be plain tokens (durations render as PromDuration).
func substitutePlain(out []byte, bs []binding) (string, error) {
	var b strings.Builder
	b.Grow(len(out))
	for i := 0; i < len(out); i++ {
		if out[i] != 0 {
			b.WriteByte(out[i])
			continue
		}
		n, end, err := readPlaceholder(out, i, len(bs))
		if err != nil {
			return "", err
		}
		val, err := bs[n].renderPlain()
		if err != nil {
			return "", err
		}
		b.WriteString(val)
		i = end
	}
	return b.String(), nil
}

// renderPlain returns the binding's value for the Plain dialect.
func (b binding) renderPlain() (string, error) {
	if b.isDur {
		s, err := PromDuration(b.dur)
		if err != nil {
			return "", fmt.Errorf("%s: %w", b.name, err)
		}
		return s, nil
	}
	if !utf8.ValidString(b.str) || !plainValueRE.MatchString(b.str) {
		return "", fmt.Errorf("%w: .%s = %q: outside PromQL a value must be letters, digits, '_', '.' and '-'",
			ErrInvalidValue, b.name, b.str)
	}
	return b.str, nil
}

// CheckDialect is Check for dialect d: it renders query with placeholder
// values for the known variables and the arguments args (name -> value;
// an empty value stands for a placeholder). Use it when a spec is
// validated. Errors wrap ErrTemplate or ErrInvalidValue.
func CheckDialect(d Dialect, query string, args map[string]string) error {
	_, err := RenderDialect(d, query, placeholderVars("version", args))
	return err
}

// UsesVersion reports whether the rendered query changes with .Version, that
// is, whether it can tell the canary from the baseline. A query that does
// not would measure both versions alike and hide every regression.
func UsesVersion(d Dialect, query string, args map[string]string) (bool, error) {
	a, err := RenderDialect(d, query, placeholderVars("version-a", args))
	if err != nil {
		return false, err
	}
	b, err := RenderDialect(d, query, placeholderVars("version-b", args))
	return a != b, err
}

// placeholderVars are Vars with made-up values, for checks.
func placeholderVars(version string, args map[string]string) Vars {
	v := Vars{Service: "service", Namespace: "namespace", Version: version, Stable: "stable", Canary: "canary",
		Interval: time.Minute, Window: time.Minute, Args: make(map[string]string, len(args))}
	for k, val := range args {
		if val == "" {
			val = "arg"
		}
		v.Args[k] = val
	}
	return v
}
