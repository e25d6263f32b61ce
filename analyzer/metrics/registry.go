package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrUnknownProvider is returned for a provider type the registry does not have.
var ErrUnknownProvider = errors.New("unknown metrics provider")

// DialectProvider is implemented by providers whose queries are not PromQL;
// Measure renders templates in their dialect.
type DialectProvider interface {
	Dialect() Dialect
}

// WindowProvider is implemented by providers whose queries do not name
// their own time range (every backend but Prometheus): Measure calls
// QueryWindow over (at-Window, at] instead of Query.
type WindowProvider interface {
	// QueryWindow evaluates expr over (start, end] and returns one value,
	// with the errors of Provider.Query.
	QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error)
}

// DialectOf is p's query dialect: PromQL unless p implements DialectProvider.
func DialectOf(p any) Dialect {
	if d, ok := p.(DialectProvider); ok {
		return d.Dialect()
	}
	return PromQL
}

// Secret is a deployment secret named by a MetricTemplate's secretRef: a
// JSON object of fields (apiKey, appKey, token, ...), or one plain value,
// which is stored as the field "token".
type Secret map[string]string

// ParseSecret reads a secret value as Secret.
func ParseSecret(value string) Secret {
	value = strings.TrimSpace(value)
	var fields map[string]string
	if strings.HasPrefix(value, "{") && json.Unmarshal([]byte(value), &fields) == nil {
		return fields
	}
	if value == "" {
		return Secret{}
	}
	return Secret{"token": value}
}

// ProviderConfig is what a Kind builds one provider from.
type ProviderConfig struct {
	// Address is the API's base URL; "" means the kind's default.
	Address string
	// Region is the cloud region, for kinds that have one.
	Region string
	// Headers are extra, non-secret request headers.
	Headers map[string]string
	// Secret holds the credentials; never logged or put in errors.
	Secret Secret
	// Timeout bounds each attempt; zero means DefaultTimeout.
	Timeout time.Duration
}

// Kind is one type of metrics provider.
type Kind struct {
	// Dialect is the language of its queries.
	Dialect Dialect
	// New builds a provider; it checks cfg but contacts nothing.
	New func(ctx context.Context, cfg ProviderConfig) (Provider, error)
	// Check, if set, checks a rendered query's syntax offline (validate);
	// nil means only rendering is checked.
	Check func(expr string) error
}

// ProviderRef says which provider a template's queries run on, as written
// in a MetricTemplate's spec.provider.
type ProviderRef struct {
	Type, Address, SecretRef, Region string
	Headers                          map[string]string
}

// SecretSource returns the value of the deployment's secret called name
// (a file, an environment variable or AWS Secrets Manager).
type SecretSource func(ctx context.Context, name string) (string, error)

// Registry maps provider types to Kinds and keeps one provider per
// distinct ProviderRef. The deployment wires it explicitly (cmd/birdwatch);
// it is safe for concurrent use once built.
type Registry struct {
	kinds    map[string]Kind
	secrets  SecretSource
	fallback map[string]Provider
	timeout  time.Duration

	mu    sync.Mutex
	cache map[string]Provider
}

// NewRegistry returns an empty registry resolving secretRefs with secrets
// (nil: a secretRef is an error) and giving providers timeout per attempt.
func NewRegistry(secrets SecretSource, timeout time.Duration) *Registry {
	return &Registry{kinds: map[string]Kind{}, secrets: secrets, fallback: map[string]Provider{},
		timeout: timeout, cache: map[string]Provider{}}
}

// Add registers kind k under name; it replaces an earlier one.
func (r *Registry) Add(name string, k Kind) { r.kinds[name] = k }

// SetDefault makes p the provider of type name for refs with no address
// and no secret (for prometheus, the deployment's configured server).
func (r *Registry) SetDefault(name string, p Provider) { r.fallback[name] = p }

// Names lists the registered types, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.kinds)) }

// Kind returns the kind registered as name, or an ErrUnknownProvider error.
func (r *Registry) Kind(name string) (Kind, error) {
	k, ok := r.kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("%w %q (have %s)", ErrUnknownProvider, name, strings.Join(r.Names(), ", "))
	}
	return k, nil
}

// CheckQuery checks a template query for provider type name with args
// (an empty value stands for any): it renders in the kind's dialect with
// only those arguments, and must change with .Version.
func (r *Registry) CheckQuery(name, query string, args map[string]string) error {
	k, err := r.Kind(name)
	if err != nil {
		return err
	}
	uses, err := UsesVersion(k.Dialect, query, args)
	if err != nil {
		return err
	}
	if !uses {
		return fmt.Errorf("%w: the query does not use the canary's version ({{ .Version }}), so it would measure canary and baseline alike", ErrTemplate)
	}
	if k.Check != nil {
		expr, err := RenderDialect(k.Dialect, query, placeholderVars("version", args))
		if err != nil {
			return err
		}
		if err := k.Check(expr); err != nil {
			return fmt.Errorf("%w: %w", ErrTemplate, err)
		}
	}
	return nil
}

// Provider returns the provider for ref, building it on first use. A ref
// without address and secret uses the default set with SetDefault, if any.
func (r *Registry) Provider(ctx context.Context, ref ProviderRef) (Provider, error) {
	k, err := r.Kind(ref.Type)
	if err != nil {
		return nil, err
	}
	if p, ok := r.fallback[ref.Type]; ok && ref.Address == "" && ref.SecretRef == "" && len(ref.Headers) == 0 {
		return p, nil
	}
	key := cacheKey(ref)
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.cache[key]; ok {
		return p, nil
	}
	cfg := ProviderConfig{Address: ref.Address, Region: ref.Region, Headers: ref.Headers, Secret: Secret{}, Timeout: r.timeout}
	if ref.SecretRef != "" {
		if r.secrets == nil {
			return nil, fmt.Errorf("%s provider: secretRef %q: this deployment has no metrics secrets configured", ref.Type, ref.SecretRef)
		}
		v, err := r.secrets(ctx, ref.SecretRef)
		if err != nil {
			return nil, fmt.Errorf("%s provider: secretRef %q: %w", ref.Type, ref.SecretRef, err)
		}
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s provider: secretRef %q: the deployment has no such secret", ref.Type, ref.SecretRef)
		}
		cfg.Secret = ParseSecret(v)
	}
	p, err := k.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s provider: %w", ref.Type, err)
	}
	r.cache[key] = p
	return p, nil
}

func cacheKey(ref ProviderRef) string {
	var b strings.Builder
	for _, s := range []string{ref.Type, ref.Address, ref.SecretRef, ref.Region} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, k := range slices.Sorted(maps.Keys(ref.Headers)) {
		b.WriteString(k + "=" + ref.Headers[k] + "\x00")
	}
	return b.String()
}

// MaxWindowedPoints is the most points RangeByWindows asks for: one query
// each.
const MaxWindowedPoints = 500

// RangeByWindows is QueryRange for providers whose API has no step-aligned
// range query matching Measure's semantics: it runs one QueryWindow per
// step, (t-step, t] for t = r.Start, r.Start+step, ... r.End, so each point
// is exactly what an instant look at t over one step measures. Steps
// without data are left out; a failure other than ErrNoData ends it.
func RangeByWindows(ctx context.Context, wp WindowProvider, expr string, r Range) ([]Point, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	if n := r.End.Sub(r.Start)/r.Step + 1; n > MaxWindowedPoints {
		return nil, fmt.Errorf("%w: %d points, this provider answers at most %d (one query each)", ErrInvalidRange, n, MaxWindowedPoints)
	}
	var pts []Point
	for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
		v, err := wp.QueryWindow(ctx, expr, t.Add(-r.Step), t)
		if errors.Is(err, ErrNoData) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pts = append(pts, Point{T: t.UTC(), V: v})
	}
	if len(pts) == 0 {
		return nil, ErrNoData
	}
	return pts, nil
}

// Check reports whether r can be asked for (see ErrInvalidRange), for
// providers outside this package.
func (r Range) Check() error { return r.validate() }
