// Package gcm is the metrics provider for Google Cloud Monitoring, through
// its Prometheus-compatible HTTP API (PromQL on
// https://monitoring.googleapis.com/v1/projects/PROJECT/location/global/prometheus).
// PromQL rather than MQL: Google has deprecated MQL for new users and
// recommends PromQL; PromQL also lets templates, the dialect's escaping and
// the Prometheus provider's counting (increase over the window) be shared,
// and its queries reach Cloud Monitoring's system metrics
// (kubernetes_io:..., run_googleapis_com:...) as well as Managed Prometheus.
//
// Requests carry a Google OAuth2 access token (scope monitoring.read) from
// golang.org/x/oauth2/google: the secret, when given, is a service account
// key (its JSON object is the secret), else Application Default
// Credentials (GOOGLE_APPLICATION_CREDENTIALS, including workload identity
// federation from AWS, or the metadata server). The address is the
// Prometheus base URL above; without one, the project is the credentials'.
package gcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// Scope is the OAuth2 scope the provider asks for: read-only monitoring.
const Scope = "https://www.googleapis.com/auth/monitoring.read"

// Endpoint is Cloud Monitoring's API host.
const Endpoint = "https://monitoring.googleapis.com"

// pathRE is the Prometheus API base path of one project.
var pathRE = regexp.MustCompile(`^/v1/projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/location/global/prometheus/?$`)

// New returns a Prometheus provider (queries in PromQL; see
// metrics.Prometheus) whose requests carry a Google access token. It reads
// credentials but contacts nothing: the token is fetched on the first
// query, and a failure then is an ErrUnavailable look.
func New(ctx context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	creds, err := credentials(ctx, cfg.Secret)
	if err != nil {
		return nil, err
	}
	base := cfg.Address
	if base == "" {
		if creds.ProjectID == "" {
			return nil, errors.New("gcm: no address and the credentials name no project; set the address to " + Endpoint + "/v1/projects/PROJECT/location/global/prometheus")
		}
		base = Endpoint + "/v1/projects/" + creds.ProjectID + "/location/global/prometheus"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !pathRE.MatchString(u.Path) {
		return nil, fmt.Errorf("gcm address %q: want %s/v1/projects/PROJECT/location/global/prometheus", base, Endpoint)
	}
	ts := creds.TokenSource
	// CountsAsWritten: Cloud Monitoring's system metrics (Cloud Run's
	// request_count) are DELTA metrics, whose raw samples are not
	// cumulative counters; its PromQL increase() reads them.
	return metrics.NewPrometheus(metrics.PrometheusConfig{URL: base, Timeout: cfg.Timeout, Headers: cfg.Headers, CountsAsWritten: true,
		Wrap: func(next http.RoundTripper) http.RoundTripper { return &oauth2.Transport{Source: ts, Base: next} }})
}

// credentials are the secret's service account key, or the Application
// Default Credentials when there is no secret.
func credentials(ctx context.Context, secret metrics.Secret) (*google.Credentials, error) {
	if len(secret) == 0 {
		c, err := google.FindDefaultCredentials(ctx, Scope)
		if err != nil {
			return nil, fmt.Errorf("gcm: no secret and no Application Default Credentials: %w", err)
		}
		return c, nil
	}
	if secret["type"] != "service_account" || secret["private_key"] == "" || secret["client_email"] == "" {
		return nil, errors.New("gcm secret: want a service account key (JSON with type service_account, client_email, private_key)")
	}
	key, err := json.Marshal(secret)
	if err != nil {
		return nil, fmt.Errorf("gcm secret: %w", err)
	}
	// The key's token_uri decides where the signed assertion goes; the
	// secret is the deployment's own, not user input (see the deprecation
	// note of google.CredentialsFromJSON), and its type is pinned.
	c, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, Scope)
	if err != nil {
		return nil, fmt.Errorf("gcm secret: %w", err)
	}
	return c, nil
}
