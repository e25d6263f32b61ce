package main

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrometheusTLSAndBasicAuthFlags runs `birdwatch query` against an HTTPS
// server with a private CA that demands basic auth: the flags reach the
// provider, and without them the query fails.
func TestPrometheusTLSAndBasicAuthFlags(t *testing.T) {
	const user, password = "birdwatch", "prom-pass-93c1"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"unauthorized","error":"no"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1732000000,"120"]}]}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	query := []string{"query", "--prometheus", srv.URL, "--template", "istio-error-rate", "--service", "aleph",
		"--namespace", "games", "--version", "v04", "--prometheus-timeout", "2s"}
	tests := []struct {
		name    string
		flags   []string
		wantErr string
	}{
		{"CA and basic auth", []string{"--prometheus-ca-file", ca, "--prometheus-username", user, "--prometheus-password-file", pw}, ""},
		{"no CA", []string{"--prometheus-username", user, "--prometheus-password-file", pw}, "certificate"},
		{"no password", []string{"--prometheus-ca-file", ca}, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := run(t, append(query, tt.flags...)...)
			all := out + stderr
			if err != nil {
				all += err.Error()
			}
			switch {
			case tt.wantErr == "" && (err != nil || !strings.Contains(out, "120")):
				t.Errorf("query failed: %v\n%s", err, all)
			case tt.wantErr != "" && (err == nil || !strings.Contains(all, tt.wantErr)):
				t.Errorf("want an error with %q, got %v\n%s", tt.wantErr, err, all)
			}
			if strings.Contains(all, password) {
				t.Error("the password was printed")
			}
		})
	}
}
