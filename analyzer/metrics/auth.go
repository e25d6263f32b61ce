package metrics

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// BasicAuth is HTTP basic authentication for the Prometheus API, as put in
// front of Prometheus by a reverse proxy or required by Grafana Mimir and
// Thanos gateways.
type BasicAuth struct {
	// Username is sent as is.
	Username string
	// Password is the password; ignored when PasswordFile is set. Never
	// logged or put in errors.
	Password string
	// PasswordFile holds the password (surrounding white space trimmed); it
	// is read once by NewPrometheus.
	PasswordFile string
}

// TLSConfig configures the HTTPS connection to Prometheus. File contents
// are read once by NewPrometheus.
type TLSConfig struct {
	// CAFile is a PEM bundle of the certificate authorities trusted for
	// the server certificate; "" means the system roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key for
	// mutual TLS; both or neither must be set.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server certificate (and
	// sent as SNI); "" means the URL's host.
	ServerName string
}

// basicAuthRoundTripper sets HTTP basic authentication on each request
// (hand-written for the same reason as the round-trippers in transport.go).
type basicAuthRoundTripper struct {
	username, password string
	next               http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (rt *basicAuthRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(rt.username, rt.password)
	return rt.next.RoundTrip(req)
}

// newBasicAuth wraps next with basic authentication; it reads the password
// file if one is given.
func newBasicAuth(b BasicAuth, next http.RoundTripper) (http.RoundTripper, error) {
	if b.Username == "" {
		return nil, errors.New("prometheus config: basic auth needs a username")
	}
	password := b.Password
	if b.PasswordFile != "" {
		data, err := os.ReadFile(b.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read basic auth password file: %w", err)
		}
		password = strings.TrimSpace(string(data))
	}
	return &basicAuthRoundTripper{username: b.Username, password: password, next: next}, nil
}

// baseTransport returns the transport all requests go through: Go's default
// transport, or a clone of it with cfg's TLS settings. Cloning keeps the
// default's proxy, timeouts and connection pooling.
func baseTransport(cfg *TLSConfig) (http.RoundTripper, error) {
	if cfg == nil {
		return http.DefaultTransport, nil
	}
	tc := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate found", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("prometheus config: TLS client certificate and key must be given together")
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	def, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	t := def.Clone()
	t.TLSClientConfig = tc
	return t, nil
}
