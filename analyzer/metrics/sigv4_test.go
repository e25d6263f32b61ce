package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// recordingTransport keeps the request it is given instead of sending it.
type recordingTransport struct{ got *http.Request }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = req
	return &http.Response{StatusCode: 204, Body: http.NoBody, Request: req}, nil
}

// TestSigV4Vanilla checks the signature against AWS's published SigV4 test
// suite case "get-vanilla" (GET / to example.amazonaws.com, service
// "service", us-east-1, 2015-08-30T12:36:00Z, the suite's example keys).
func TestSigV4Vanilla(t *testing.T) {
	rec := &recordingTransport{}
	rt := newSigV4RoundTripper(SigV4Config{Region: "us-east-1", Service: "service",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
		Now:         func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }}, rec)
	req, _ := http.NewRequest(http.MethodGet, "https://example.amazonaws.com/", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	if got := rec.got.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %s\nwant %s", got, want)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was modified")
	}
}

// TestPrometheusSignsForAMP runs an instant query through a server that
// answers like Amazon Managed Prometheus only when the request is signed for
// the aps service in the configured region and the query arrived intact.
func TestPrometheusSignsForAMP(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/aps/aws4_request") || r.Header.Get("X-Amz-Security-Token") != "session-token" ||
			r.Form.Get("query") != `sum(up{job="aleph"})` {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"forbidden","error":"not signed"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1732000000,"3"]}]}}`))
	}))
	defer srv.Close()
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token")
	tests := []struct {
		name    string
		sigv4   *SigV4Config
		wantErr bool
	}{
		{"signed", &SigV4Config{Region: "eu-west-1", Credentials: creds}, false},
		{"unsigned is refused", nil, true},
		{"wrong region is refused", &SigV4Config{Region: "us-east-1", Credentials: creds}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPrometheus(PrometheusConfig{URL: srv.URL, SigV4: tt.sigv4, Attempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(context.Background(), `sum(up{job="aleph"})`, time.Unix(1732000000, 0))
			if (err != nil) != tt.wantErr || (err == nil && v != 3) {
				t.Errorf("value %v err %v", v, err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range auths {
		if strings.Contains(a, "secret") {
			t.Errorf("the secret key went over the wire: %s", a)
		}
	}
	if _, err := NewPrometheus(PrometheusConfig{URL: srv.URL, SigV4: &SigV4Config{Credentials: aws.AnonymousCredentials{}}}); err == nil {
		t.Error("SigV4 without a region accepted")
	}
}
