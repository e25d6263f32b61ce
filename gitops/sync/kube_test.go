package sync

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// apiServer answers GET of one Kustomization the way kube-apiserver does,
// and records the Authorization header it saw.
func apiServer(t *testing.T, body []byte, auth *string) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*auth = r.Header.Get("Authorization")
		if r.URL.Path != "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not found","reason":"NotFound","code":404}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func kustomizationJSON(t *testing.T, rev string) []byte {
	t.Helper()
	u := object(t, "kustomization.yaml", map[string]string{"REV": rev, "READY_AT": setAt.Add(time.Minute).Format(time.RFC3339),
		"OBSERVED": "3", "REASON": "ReconciliationSucceeded", "READY": "True"})
	b, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKubernetesKubeconfig runs the Flux gate through client-go's real
// dynamic client, built from a kubeconfig, against an HTTPS API server.
func TestKubernetesKubeconfig(t *testing.T) {
	fx := newFixture(t)
	var auth string
	srv := apiServer(t, kustomizationJSON(t, fx.weight), &auth)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: birdwatch
  user: {token: kube-s3cret}
contexts:
- name: test
  context: {cluster: test, user: birdwatch}
current-context: test
`, srv.URL, base64.StdEncoding.EncodeToString(ca))
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	g := Flux{Cluster: &Kubernetes{Config: KubeConfig{Kubeconfig: path}}, Revisions: fx.repo}
	check(t, g, fx.canary, fx.status, setAt.Add(5*time.Minute), ptr(setAt.Add(time.Minute)), "")
	if auth != "Bearer kube-s3cret" {
		t.Errorf("API server saw Authorization %q", auth)
	}
}

func TestKubernetesNoConfig(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err := (&Kubernetes{}).Dynamic(context.Background())
	if !errors.Is(err, ErrNoCluster) {
		t.Errorf("err %v, want ErrNoCluster", err)
	}
}

// TestEKSToken checks the token's shape against what the EKS authenticator
// verifies, and that the API server receives it.
func TestEKSToken(t *testing.T) {
	fx := newFixture(t)
	var auth string
	srv := apiServer(t, kustomizationJSON(t, fx.weight), &auth)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	creds := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	awsCfg := aws.Config{Region: "eu-west-1", Credentials: creds}
	eks := &EKSConfig{Cluster: "fleet-prod", Region: "eu-west-1", Endpoint: srv.URL,
		CAData: []byte(base64.StdEncoding.EncodeToString(ca)), AWS: &awsCfg}
	g := Flux{Cluster: &Kubernetes{Config: KubeConfig{EKS: eks}}, Revisions: fx.repo}
	check(t, g, fx.canary, fx.status, setAt.Add(5*time.Minute), ptr(setAt.Add(time.Minute)), "")

	tok, ok := strings.CutPrefix(auth, "Bearer "+eksTokenPrefix)
	if !ok {
		t.Fatalf("API server saw Authorization %q, want a k8s-aws-v1 bearer token", auth)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	checks := map[string]bool{
		"host is the regional STS":        u.Host == "sts.eu-west-1.amazonaws.com",
		"action":                          q.Get("Action") == "GetCallerIdentity" && q.Get("Version") == "2011-06-15",
		"expires in 60 s":                 q.Get("X-Amz-Expires") == "60",
		"cluster header signed":           strings.Contains(q.Get("X-Amz-SignedHeaders"), eksClusterHeader),
		"signed with the access key":      strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIAIOSFODNN7EXAMPLE/"),
		"secret key not in the token":     !strings.Contains(string(raw), "wJalrXUtnFEMI"),
		"has a signature":                 len(q.Get("X-Amz-Signature")) == 64,
		"signature algorithm is SigV4":    q.Get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256",
		"credential scope is the region":  strings.Contains(q.Get("X-Amz-Credential"), "/eu-west-1/sts/aws4_request"),
		"no secret in the header either":  !strings.Contains(auth, "wJalrXUtnFEMI"),
		"token fits a header comfortably": len(auth) < 4096,
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("token: %s failed: %s", what, raw)
		}
	}
}

// TestEKSTokenRenewal checks the cache: one token for 14 minutes, then a new one.
func TestEKSTokenRenewal(t *testing.T) {
	clock := setAt
	creds := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")
	client := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds})
	src := &eksTokens{presign: sts.NewPresignClient(client), cluster: "c", now: func() time.Time { return clock }}
	tests := []struct {
		name    string
		advance time.Duration
		renewed bool
	}{
		{name: "within 14 minutes: cached", advance: 13 * time.Minute, renewed: false},
		{name: "after 14 minutes: renewed", advance: 2 * time.Minute, renewed: true},
	}
	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = clock.Add(tt.advance)
			before := src.expires
			got, err := src.Token(context.Background())
			if err != nil || !strings.HasPrefix(got, eksTokenPrefix) {
				t.Fatalf("token %.20q..., %v", got, err)
			}
			// The SDK signs with the real clock, so a renewed token made in
			// the same second is identical; the expiry shows the renewal.
			if renewed := !src.expires.Equal(before); renewed != tt.renewed {
				t.Errorf("renewed %v, want %v", renewed, tt.renewed)
			}
			if !tt.renewed && got != first {
				t.Error("cached token changed")
			}
		})
	}
}
