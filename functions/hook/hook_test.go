package hook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// secrets is a fixed deployment secret store.
type secrets map[string]string

func (s secrets) Secret(_ context.Context, name string) (string, error) {
	v, ok := s[name]
	if !ok {
		return "", errors.New("no such secret")
	}
	return v, nil
}

const key = "s3cr3t-hook-key"

func client() *Client { return &Client{Secrets: secrets{DefaultSecretName: key}} }

func payload() Payload {
	return Payload{Canary: "podinfo", Namespace: "test", Phase: "Progressing", Version: "6.5.1", Stable: "6.5.0", Weight: 10, Step: 1,
		At: time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)}
}

// TestCallSignsAndSendsThePayload runs a receiver on loopback that checks
// the signature as a user's receiver would.
func TestCallSignsAndSendsThePayload(t *testing.T) {
	var got Payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if !Verify([]byte(key), body, r.Header.Get(SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	h := spec.Webhook{Name: "load-test", Type: spec.HookRollout, URL: srv.URL + "/hook?x=1", Metadata: map[string]string{"cmd": "hey -z 1m http://podinfo-canary.test/"}}
	r := client().Call(t.Context(), h, payload())
	if !r.OK || r.Status != http.StatusAccepted || r.String() != "load-test 202" {
		t.Fatalf("Call = %+v", r)
	}
	want := payload()
	want.Hook, want.Type, want.Metadata = "load-test", spec.HookRollout, h.Metadata
	if got.Canary != want.Canary || got.Hook != want.Hook || got.Type != want.Type || got.Weight != 10 || got.Step != 1 ||
		got.Version != "6.5.1" || got.Metadata["cmd"] != h.Metadata["cmd"] || !got.At.Equal(want.At) || got.Phase != "Progressing" {
		t.Errorf("receiver got %+v, want %+v", got, want)
	}
	wrong := &Client{Secrets: secrets{DefaultSecretName: "another key"}}
	if r := wrong.Call(t.Context(), h, payload()); r.OK || r.Status != http.StatusUnauthorized || r.Error != "answered 401 Unauthorized" {
		t.Errorf("a call signed with another key = %+v; want the receiver's 401", r)
	}
}

func TestCallFailures(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "token=leaked-in-body", http.StatusInternalServerError)
		case "/hang":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "/redirect":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
	}))
	defer srv.Close()
	defer close(hang)
	tests := []struct {
		name   string
		url    string
		c      *Client
		status int
		msg    string
	}{
		{name: "a 500", url: srv.URL + "/fail?token=query-secret", status: 500, msg: "answered 500 Internal Server Error"},
		{name: "a hang", url: srv.URL + "/hang?token=query-secret", msg: "POST " + srv.URL + "/hang: timed out after 200ms"},
		{name: "a redirect is not followed", url: srv.URL + "/redirect", status: 302, msg: "answered 302 Found"},
		{name: "not http", url: "ftp://" + strings.TrimPrefix(srv.URL, "http://"), msg: `url: hook address refused: want an http or https URL, got scheme "ftp"`},
		{name: "cloud metadata address", url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
			msg: "169.254.169.254 is a link-local address (cloud metadata services answer there); the deployment must allow link-local hook addresses"},
		{name: "IPv6 link-local", url: "http://[fe80::a9fe:a9fe]/", msg: "fe80::a9fe:a9fe is a link-local address"},
		{name: "no signing key", url: srv.URL + "/fail", c: &Client{Secrets: secrets{}}, msg: `signing key "birdwatch-hooks": not available in the deployment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if c == nil {
				c = client()
			}
			h := spec.Webhook{Name: "gate", Type: spec.HookConfirmPromotion, URL: tt.url, Timeout: spec.Duration(200 * time.Millisecond)}
			start := time.Now()
			r := c.Call(t.Context(), h, payload())
			if r.OK || r.Status != tt.status || !strings.Contains(r.Error, tt.msg) {
				t.Fatalf("Call = %+v; want status %d and %q", r, tt.status, tt.msg)
			}
			if strings.Contains(r.Error, "secret") && !strings.Contains(tt.msg, "secret") || strings.Contains(r.Error, "leaked") {
				t.Errorf("error %q carries the query or the body", r.Error)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("call took %s", d)
			}
		})
	}
}

// TestAllowLinkLocal checks the deployment's switch on the dial check
// itself, without dialling anything off this machine.
func TestAllowLinkLocal(t *testing.T) {
	for _, tt := range []struct {
		allow bool
		addr  string
		err   bool
	}{
		{false, "169.254.169.254:80", true}, {true, "169.254.169.254:80", false},
		{false, "[fe80::1]:443", true}, {false, "127.0.0.1:8080", false}, {false, "[::1]:80", false}, {false, "10.0.0.1:80", false},
	} {
		err := (&Client{AllowLinkLocal: tt.allow}).control("tcp", tt.addr, nil)
		if (err != nil) != tt.err || err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("allow %v, %s: %v", tt.allow, tt.addr, err)
		}
	}
}

// TestSignKnownValue checks Sign against a value computed by another
// implementation: printf '{"a":1}' | openssl dgst -sha256 -hmac key
func TestSignKnownValue(t *testing.T) {
	const want = "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"
	if got := Sign([]byte("key"), []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !Verify([]byte("key"), []byte(`{"a":1}`), want) || Verify([]byte("key"), []byte(`{"a":2}`), want) || Verify([]byte("key2"), []byte(`{"a":1}`), want) {
		t.Fatal("Verify accepts a wrong body or key, or refuses the right one")
	}
}
