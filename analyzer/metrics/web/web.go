// Package web is the metrics provider for any HTTP API answering JSON, like
// Argo Rollouts' Web metric: each query is a small YAML document naming the
// request and a JSONPath (Kubernetes syntax, k8s.io/client-go/util/jsonpath)
// to one number in the answer:
//
//	url: https://metrics.example/api/errors?service={{ .Service }}&version={{ .Version }}
//	method: POST               # default GET
//	headers: {Accept: application/json}
//	body: '{"version": "{{ .Version }}", "window": "{{ .Window }}"}'
//	jsonPath: "{$.data.errorRate}"
//
// The document is rendered in the Plain dialect, so variables are plain
// tokens and cannot break out of the URL, the YAML or a JSON string. A
// template's bad and total are two such documents (or one URL and two
// paths). The secret's "token" field is sent as a bearer token, every other
// field as a header of that name.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/client-go/util/jsonpath"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/internal/httpq"
)

// Request is one query of the web provider, as its YAML document says.
type Request struct {
	URL      string            `yaml:"url"`
	Method   string            `yaml:"method,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty"`
	Body     string            `yaml:"body,omitempty"`
	JSONPath string            `yaml:"jsonPath"`
}

// Provider runs web queries. It is safe for concurrent use.
type Provider struct {
	client  httpq.Client
	base    *url.URL
	headers http.Header
}

// New returns a provider. cfg.Address, if set, is the base relative URLs
// resolve against; cfg.Headers and cfg.Secret add headers to every request.
func New(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	p := &Provider{client: httpq.Client{Timeout: cfg.Timeout}, headers: http.Header{}}
	if cfg.Address != "" {
		u, err := url.Parse(cfg.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web address %q: want http(s)://host[/path]", cfg.Address)
		}
		p.base = u
	}
	for k, v := range cfg.Headers {
		p.headers.Set(k, v)
	}
	for k, v := range cfg.Secret {
		if k == "token" {
			p.headers.Set("Authorization", "Bearer "+v)
		} else {
			p.headers.Set(k, v)
		}
	}
	return p, nil
}

// Dialect implements metrics.DialectProvider.
func (p *Provider) Dialect() metrics.Dialect { return metrics.Plain }

// Query implements metrics.Provider: it sends the request expr describes
// and returns the one number its JSONPath selects (a JSON number or a
// numeric string; null is NaN). at is not sent: put the time range in the
// URL or body with {{ .Window }}. Errors wrap metrics.ErrNoData (the path
// selects nothing), ErrTooManySeries (several values), ErrQuery (a bad
// document, a refused request, an answer of another shape) or
// ErrUnavailable.
func (p *Provider) Query(ctx context.Context, expr string, _ time.Time) (float64, error) {
	var r Request
	dec := yaml.NewDecoder(strings.NewReader(expr))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return 0, fmt.Errorf("%w: web query: %w", metrics.ErrQuery, err)
	}
	jp, target, err := p.prepare(r)
	if err != nil {
		return 0, err
	}
	body, err := p.client.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, r.Method, target, bodyReader(r.Body))
		if err != nil {
			return nil, err
		}
		for k, vs := range p.headers {
			req.Header[k] = vs
		}
		for k, v := range r.Headers {
			req.Header.Set(k, v)
		}
		if r.Body != "" && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	})
	if err != nil {
		return 0, fmt.Errorf("web %s %s: %w", r.Method, hostPath(target), err)
	}
	return extract(jp, body)
}

// prepare checks r and returns its parsed JSONPath and absolute URL.
func (p *Provider) prepare(r Request) (*jsonpath.JSONPath, string, error) {
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, "", fmt.Errorf("%w: web query: method %q, want GET or POST", metrics.ErrQuery, r.Method)
	}
	if r.JSONPath == "" {
		return nil, "", fmt.Errorf("%w: web query: jsonPath is required", metrics.ErrQuery)
	}
	jp := jsonpath.New("value")
	if err := jp.Parse(r.JSONPath); err != nil {
		return nil, "", fmt.Errorf("%w: web query: jsonPath %q: %w", metrics.ErrQuery, r.JSONPath, err)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, "", fmt.Errorf("%w: web query: url: %w", metrics.ErrQuery, err)
	}
	if p.base != nil {
		u = p.base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("%w: web query: url %q: want http(s)://host/path (or a path under the provider's address)", metrics.ErrQuery, hostPath(u.String()))
	}
	return jp, u.String(), nil
}

// extract applies jp to the JSON body and returns the one number it selects.
func extract(jp *jsonpath.JSONPath, body []byte) (float64, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return 0, fmt.Errorf("%w: web answer is not JSON: %w", metrics.ErrQuery, err)
	}
	results, err := jp.FindResults(doc)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return 0, fmt.Errorf("%w: %w", metrics.ErrNoData, err)
		}
		return 0, fmt.Errorf("%w: %w", metrics.ErrQuery, err)
	}
	var vals []reflect.Value
	for _, r := range results {
		vals = append(vals, r...)
	}
	switch {
	case len(vals) == 0:
		return 0, metrics.ErrNoData
	case len(vals) > 1:
		return 0, fmt.Errorf("%w: the JSONPath selects %d values, want 1", metrics.ErrTooManySeries, len(vals))
	}
	return number(vals[0])
}

// number reads a JSON number, numeric string or null as a float.
func number(v reflect.Value) (float64, error) {
	if !v.IsValid() {
		return math.NaN(), nil
	}
	switch x := v.Interface().(type) {
	case nil:
		return math.NaN(), nil
	case json.Number:
		return x.Float64()
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: the JSONPath selects the string %q, want a number", metrics.ErrQuery, x)
		}
		return f, nil
	default:
		return 0, fmt.Errorf("%w: the JSONPath selects a %T, want a number", metrics.ErrQuery, x)
	}
}

func bodyReader(body string) io.Reader {
	if body == "" {
		return nil
	}
	return strings.NewReader(body)
}

// hostPath is a URL without its query, which may hold an API key.
func hostPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad url)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
