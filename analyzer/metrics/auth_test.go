package metrics

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secretPassword = "hunter2-basic-pass"

// writePEM writes one PEM block to dir/name and returns the path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientPKI makes a CA and a client certificate signed by it, written as PEM
// files; it returns the CA pool for the server and the cert and key paths.
func clientPKI(t *testing.T, dir string) (*x509.CertPool, string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "birdwatch"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, writePEM(t, dir, "client.crt", "CERTIFICATE", der), writePEM(t, dir, "client.key", "PRIVATE KEY", keyDER)
}

// tlsServers starts an HTTPS server and one that requires a client
// certificate from clientCAs; both answer every query with 42 and echo the
// client certificate's common name in a header.
func tlsServers(t *testing.T, clientCAs *x509.CertPool) (plain, mutual *httptest.Server) {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName != "birdwatch" {
			http.Error(w, "wrong client", http.StatusForbidden)
			return
		}
		reply(http.StatusOK, vectorBody("42"))(w, r, 0)
	})
	quiet := log.New(io.Discard, "", 0) // refused handshakes are expected
	plain = httptest.NewUnstartedServer(h)
	plain.Config.ErrorLog = quiet
	plain.StartTLS()
	t.Cleanup(plain.Close)
	mutual = httptest.NewUnstartedServer(h)
	mutual.Config.ErrorLog = quiet
	mutual.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	mutual.StartTLS()
	t.Cleanup(mutual.Close)
	return plain, mutual
}

func TestPrometheusTLS(t *testing.T) {
	dir := t.TempDir()
	pool, certFile, keyFile := clientPKI(t, dir)
	plain, mutual := tlsServers(t, pool)
	serverCA := writePEM(t, dir, "server-ca.crt", "CERTIFICATE", plain.Certificate().Raw)
	tests := []struct {
		name   string
		url    string
		tls    *TLSConfig
		wantOK bool
	}{
		{name: "unknown server CA is refused", url: plain.URL, tls: nil},
		{name: "custom CA", url: plain.URL, tls: &TLSConfig{CAFile: serverCA}, wantOK: true},
		{name: "server name in the certificate", url: plain.URL, tls: &TLSConfig{CAFile: serverCA, ServerName: "example.com"}, wantOK: true},
		{name: "server name not in the certificate", url: plain.URL, tls: &TLSConfig{CAFile: serverCA, ServerName: "prometheus.example.org"}},
		{name: "client certificate required but missing", url: mutual.URL, tls: &TLSConfig{CAFile: serverCA}},
		{name: "client certificate", url: mutual.URL, tls: &TLSConfig{CAFile: serverCA, CertFile: certFile, KeyFile: keyFile}, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPrometheus(PrometheusConfig{URL: tc.url, TLS: tc.tls, Attempts: 1, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(t.Context(), "up", time.Time{})
			if tc.wantOK && (err != nil || v != 42) {
				t.Fatalf("Query() = %v, %v; want 42", v, err)
			}
			if !tc.wantOK && err == nil {
				t.Fatalf("Query() = %v, want a TLS error", v)
			}
		})
	}
}

func TestPrometheusBasicAuth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "birdwatch" || pass != secretPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="prometheus"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reply(http.StatusOK, vectorBody("7"))(w, r, 0)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	good := filepath.Join(dir, "password")
	if err := os.WriteFile(good, []byte(secretPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		auth    *BasicAuth
		wantErr error
	}{
		{name: "password file, trailing newline trimmed", auth: &BasicAuth{Username: "birdwatch", PasswordFile: good}},
		{name: "inline password", auth: &BasicAuth{Username: "birdwatch", Password: secretPassword}},
		{name: "wrong password is a 4xx, not retried", auth: &BasicAuth{Username: "birdwatch", Password: "nope"}, wantErr: ErrQuery},
		{name: "no credentials", wantErr: ErrQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPrometheus(PrometheusConfig{URL: srv.URL, BasicAuth: tc.auth})
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(t.Context(), "up", time.Time{})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Query() error = %v, want %v", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secretPassword) {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || v != 7 {
				t.Fatalf("Query() = %v, %v; want 7", v, err)
			}
		})
	}
}

func TestPrometheusAuthConfigErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name string
		cfg  PrometheusConfig
	}{
		{name: "basic auth without username", cfg: PrometheusConfig{BasicAuth: &BasicAuth{Password: secretPassword}}},
		{name: "missing password file", cfg: PrometheusConfig{BasicAuth: &BasicAuth{Username: "u", PasswordFile: missing}}},
		{name: "missing CA file", cfg: PrometheusConfig{TLS: &TLSConfig{CAFile: missing}}},
		{name: "CA file without certificates", cfg: PrometheusConfig{TLS: &TLSConfig{CAFile: notPEM}}},
		{name: "client cert without key", cfg: PrometheusConfig{TLS: &TLSConfig{CertFile: notPEM}}},
		{name: "unparsable client cert", cfg: PrometheusConfig{TLS: &TLSConfig{CertFile: notPEM, KeyFile: notPEM}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.URL = "https://prometheus.example.org"
			_, err := NewPrometheus(tc.cfg)
			if err == nil {
				t.Fatal("NewPrometheus() succeeded, want an error")
			}
			if strings.Contains(err.Error(), secretPassword) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}
