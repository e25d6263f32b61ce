package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/cloudwatch"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/datadog"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/gcm"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/graphite"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/influxdb"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/newrelic"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/web"
)

// newMetricsRegistry wires the metrics providers a MetricTemplate can name,
// explicitly (no self-registration): each type's package and dialect.
// secrets resolves secretRefs; nil means none can be resolved (validate).
func newMetricsRegistry(secrets metrics.SecretSource, timeout time.Duration) *metrics.Registry {
	r := metrics.NewRegistry(secrets, timeout)
	r.Add("prometheus", metrics.Kind{Dialect: metrics.PromQL, New: newPrometheusKind})
	r.Add("web", metrics.Kind{Dialect: metrics.Plain, New: web.New})
	r.Add("influxdb", metrics.Kind{Dialect: metrics.Plain, New: influxdb.New})
	r.Add("datadog", metrics.Kind{Dialect: metrics.Plain, New: datadog.New})
	r.Add("newrelic", metrics.Kind{Dialect: metrics.Plain, New: newrelic.New})
	r.Add("cloudwatch", metrics.Kind{Dialect: metrics.Plain, New: cloudwatch.New, Check: cloudwatch.Check})
	r.Add("graphite", metrics.Kind{Dialect: metrics.Plain, New: graphite.New})
	r.Add("gcm", metrics.Kind{Dialect: metrics.PromQL, New: gcm.New})
	return r
}

// newPrometheusKind builds a Prometheus-compatible provider (Prometheus,
// VictoriaMetrics, Thanos, Mimir, Grafana Cloud) from a MetricTemplate's
// provider section: the secret's "token" is the bearer token, its
// "username"/"password" basic auth.
func newPrometheusKind(_ context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	pc := metrics.PrometheusConfig{URL: cfg.Address, Timeout: cfg.Timeout, Headers: cfg.Headers, BearerToken: cfg.Secret["token"]}
	if u := cfg.Secret["username"]; u != "" {
		pc.BasicAuth = &metrics.BasicAuth{Username: u, Password: cfg.Secret["password"]}
	}
	return metrics.NewPrometheus(pc)
}

// metricsSecret resolves a MetricTemplate's secretRef NAME from the
// deployment as every other secret is (see secretStore): the file
// BIRDWATCH_METRICS_SECRET_<NAME>_FILE, else the AWS Secrets Manager secret
// BIRDWATCH_METRICS_SECRET_<NAME>_SECRET_ID, else the variable
// BIRDWATCH_METRICS_SECRET_<NAME> (NAME upper-cased, '-', '.' and '/' as
// '_'); when none is set, the field NAME of the bundle
// BIRDWATCH_METRICS_SECRETS[_FILE|_SECRET_ID], one JSON object of all
// secrets (one Secrets Manager secret for a Lambda deployment). The value
// is a token or a JSON object of fields; never logged.
func (c *Config) metricsSecret(ctx context.Context, name string) (string, error) {
	if c.secrets == nil {
		c.secrets = newSecretStore()
	}
	v := metricsSecretVar(name)
	own, err := c.secrets.resolve(ctx, v, os.Getenv(v+"_FILE"))
	if err != nil || own != "" {
		return own, err
	}
	bundle, err := c.secrets.resolve(ctx, "BIRDWATCH_METRICS_SECRETS", c.MetricsSecretsFile)
	if err != nil || strings.TrimSpace(bundle) == "" {
		return "", err
	}
	return bundleField(bundle, name)
}

// bundleField is the field name of a secrets bundle: a string as is, an
// object as its JSON text. The bundle's content never goes into errors.
func bundleField(bundle, name string) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(bundle), &fields); err != nil {
		return "", errors.New("BIRDWATCH_METRICS_SECRETS: not a JSON object of secrets")
	}
	raw, ok := fields[name]
	if !ok {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	if len(raw) > 0 && raw[0] == '{' {
		return string(raw), nil
	}
	return "", fmt.Errorf("BIRDWATCH_METRICS_SECRETS: field %q is neither a string nor an object", name)
}

// metricsSecretVar is the variable holding the metrics secret name.
func metricsSecretVar(name string) string {
	return "BIRDWATCH_METRICS_SECRET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(name))
}

// parseHeaders reads Name=value pairs (BIRDWATCH_PROMETHEUS_HEADERS);
// values are not put in errors, as a header may carry a credential.
func parseHeaders(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		name, value, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t:") {
			return nil, fmt.Errorf("prometheus header %q: want Name=value", name)
		}
		out[http.CanonicalHeaderKey(name)] = strings.TrimSpace(value)
	}
	return out, nil
}
