package gcm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

const (
	project     = "birdwatch-test"
	clientEmail = "birdwatch@birdwatch-test.iam.gserviceaccount.com"
	accessToken = "ya29.test-access-token"
	apiBase     = "/v1/projects/" + project + "/location/global/prometheus"
)

// fakeGoogle is Google's OAuth2 token endpoint for service accounts (JWT
// bearer grant, RS256 assertion verified with the key's public half) and
// Cloud Monitoring's Prometheus API, which requires the token it issued.
type fakeGoogle struct {
	pub       *rsa.PublicKey
	counts    map[string][2]float64 // version -> {5xx, all} over the window
	tokenDown bool                  // the token endpoint answers 503
	rateLimit bool                  // the query API answers 429
	tokens    atomic.Int64
	srv       *httptest.Server
}

func (f *fakeGoogle) handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/token":
		f.token(w, r)
	case apiBase + "/api/v1/query":
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}`))
			return
		}
		if f.rateLimit {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}`))
			return
		}
		f.query(w, r)
	default:
		http.NotFound(w, r)
	}
}

var versionRE = regexp.MustCompile(`revision_name="aleph-([a-z0-9]+)"`)

// query answers an instant query in the Prometheus API's documented shape.
func (f *fakeGoogle) query(w http.ResponseWriter, r *http.Request) {
	q := r.FormValue("query")
	result := []any{}
	if m := versionRE.FindStringSubmatch(q); m != nil && strings.Contains(q, "run_googleapis_com:request_count") {
		if c, ok := f.counts[m[1]]; ok {
			v := c[1]
			if strings.Contains(q, `response_code_class="5xx"`) {
				v = c[0]
			}
			result = append(result, map[string]any{"metric": map[string]string{}, "value": []any{float64(time.Now().Unix()), fmt.Sprint(v)}})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
}

// token checks the JWT bearer assertion as Google's endpoint does.
func (f *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	if f.tokenDown {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := f.checkAssertion(r.FormValue("grant_type"), r.FormValue("assertion")); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error": "invalid_grant", "error_description": %q}`, err.Error())
		return
	}
	f.tokens.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token": %q, "token_type": "Bearer", "expires_in": 3599}`, accessToken)
}

func (f *fakeGoogle) checkAssertion(grant, jwt string) error {
	if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return fmt.Errorf("grant_type %q", grant)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("assertion is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, h[:], sig); err != nil {
		return fmt.Errorf("bad signature: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims struct {
		Iss, Scope, Aud string
		Exp, Iat        int64
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	switch {
	case claims.Iss != clientEmail:
		return fmt.Errorf("iss %q", claims.Iss)
	case claims.Aud != f.srv.URL+"/token":
		return fmt.Errorf("aud %q", claims.Aud)
	case claims.Scope != Scope:
		return fmt.Errorf("scope %q", claims.Scope)
	case time.Unix(claims.Exp, 0).Before(time.Now()):
		return errors.New("expired")
	}
	return nil
}

// serviceAccount makes a key pair and the service account key JSON the
// deployment would hold as the secret.
func serviceAccount(t *testing.T, tokenURI string) (metrics.Secret, *rsa.PublicKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	js, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": project, "private_key_id": "k1",
		"private_key": pemKey, "client_email": clientEmail, "client_id": "1", "token_uri": tokenURI})
	return metrics.ParseSecret(string(js)), &key.PublicKey
}

func TestGCM(t *testing.T) {
	f := &fakeGoogle{counts: map[string][2]float64{"v1": {3, 1200}, "v2": {41, 1180}}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handler))
	defer f.srv.Close()
	secret, pub := serviceAccount(t, f.srv.URL+"/token")
	f.pub = pub
	tmpl, err := templates.Metric("gcm-cloud-run-error-rate")
	if err != nil {
		t.Fatal(err)
	}
	vars := func(v string) metrics.Vars {
		return metrics.Vars{Service: "aleph", Version: v, Stable: "v1", Canary: "v2", Window: 5 * time.Minute, Interval: time.Minute}
	}
	newP := func(t *testing.T, s metrics.Secret) metrics.Provider {
		p, err := New(context.Background(), metrics.ProviderConfig{Address: f.srv.URL + apiBase, Secret: s, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("counts with a token from the service account", func(t *testing.T) {
		p := newP(t, secret)
		for _, v := range []string{"v1", "v2"} {
			m, err := metrics.Measure(context.Background(), p, tmpl, vars(v), time.Time{})
			if c := f.counts[v]; err != nil || !m.HasCounts || m.Errors != c[0] || m.Requests != c[1] {
				t.Errorf("%s: %+v, %v; want %v", v, m, err, c)
			}
		}
		if n := f.tokens.Load(); n != 1 {
			t.Errorf("%d tokens issued, want 1 (cached)", n)
		}
	})
	t.Run("a key the endpoint does not know: no token, never a value", func(t *testing.T) {
		other, _ := serviceAccount(t, f.srv.URL+"/token")
		_, err := metrics.Measure(context.Background(), newP(t, other), tmpl, vars("v2"), time.Time{})
		if !errors.Is(err, metrics.ErrUnavailable) || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("token endpoint down", func(t *testing.T) {
		f.tokenDown = true
		defer func() { f.tokenDown = false }()
		_, err := metrics.Measure(context.Background(), newP(t, secret), tmpl, vars("v2"), time.Time{})
		if !errors.Is(err, metrics.ErrUnavailable) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("rate-limited", func(t *testing.T) {
		f.rateLimit = true
		defer func() { f.rateLimit = false }()
		_, err := metrics.Measure(context.Background(), newP(t, secret), tmpl, vars("v2"), time.Time{})
		if !errors.Is(err, metrics.ErrUnavailable) || !strings.Contains(err.Error(), "429") {
			t.Errorf("got %v, want unavailable (429)", err)
		}
	})
	t.Run("no series", func(t *testing.T) {
		_, err := metrics.Measure(context.Background(), newP(t, secret), tmpl, vars("v9"), time.Time{})
		if !errors.Is(err, metrics.ErrNoData) {
			t.Errorf("got %v", err)
		}
	})
}

func TestNewRefuses(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", t.TempDir()+"/missing.json")
	for _, tc := range []struct {
		name string
		cfg  metrics.ProviderConfig
		want string
	}{
		{"not a service account", metrics.ProviderConfig{Secret: metrics.Secret{"token": "x"}}, "want a service account key"},
		{"no credentials", metrics.ProviderConfig{}, "no Application Default Credentials"},
		{"address without a project", metrics.ProviderConfig{Address: "https://monitoring.googleapis.com/api/v1", Secret: metrics.Secret{"type": "service_account", "private_key": "k", "client_email": "e"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
