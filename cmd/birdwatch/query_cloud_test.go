package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/cloudwatch/cwtest"
)

// TestQueryCloudProviders backtests embedded templates with birdwatch
// query --provider cloudwatch, graphite and gcm, each against a server
// that checks the credentials the deployment's secret variables give:
// SigV4 (the CloudWatch fake recomputes it), a bearer token (Graphite
// gateway), a Google access token issued for a service account key; the
// last two secrets come from the BIRDWATCH_METRICS_SECRETS bundle.
func TestQueryCloudProviders(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	// CloudWatch: Lambda alias counts of version 7, one observation a minute.
	cw := &cwtest.Server{Data: map[string][]cwtest.Observation{}}
	wantErrs, wantInv := 0.0, 0.0
	for i := range 30 {
		at := end.Add(-time.Duration(i+1) * time.Minute)
		e, n := float64(i%3), float64(50+i)
		for metric, v := range map[string]float64{"Errors": e, "Invocations": n} {
			key := "AWS/Lambda|" + metric + "|ExecutedVersion=7,FunctionName=aleph,Resource=aleph:live"
			cw.Data[key] = append(cw.Data[key], cwtest.Observation{T: at, V: v})
		}
		if i < 10 { // the 10-minute window
			wantErrs += e
			wantInv += n
		}
	}
	cwSrv := cw.Start()
	defer cwSrv.Close()
	t.Setenv("BIRDWATCH_METRICS_SECRET_AWS", fmt.Sprintf(`{"accessKeyId": %q, "secretAccessKey": %q}`, cwtest.KeyID, cwtest.SecretKey))
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")

	// Graphite's render API behind a token, and Google's token endpoint
	// with Cloud Monitoring's Prometheus API.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/render" && r.Header.Get("Authorization") == "Bearer gr-t0k" && strings.Contains(r.URL.Query().Get("target"), "stats_counts.prod.aleph.v2."):
			v := 4
			if strings.HasSuffix(r.URL.Query().Get("target"), ".requests)") {
				v = 100
			}
			to := r.URL.Query().Get("until")
			fmt.Fprintf(w, `[{"target": "x", "tags": {}, "datapoints": [[%d, %s], [null, %s]]}]`, v, to, to)
		case r.URL.Path == "/token" && r.FormValue("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token": "ya29.cli", "token_type": "Bearer", "expires_in": 3600}`))
		case strings.HasPrefix(r.URL.Path, "/v1/projects/birdwatch-test/location/global/prometheus/api/v1/query") && r.Header.Get("Authorization") == "Bearer ya29.cli":
			v := "500"
			if strings.Contains(r.FormValue("query"), `response_code_class="5xx"`) {
				v = "25"
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [%d, %q]}]}}`, end.Unix(), v)
		default:
			http.Error(w, "forbidden", http.StatusForbidden)
		}
	}))
	defer other.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "birdwatch-test", "client_email": "bw@birdwatch-test.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": other.URL + "/token"})
	// Graphite's and Google's secrets come from the one-secret bundle.
	t.Setenv("BIRDWATCH_METRICS_SECRETS", fmt.Sprintf(`{"graphite": "gr-t0k", "google": %s}`, sa))

	at := end.Format(time.RFC3339)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"cloudwatch", []string{"--template", "cloudwatch-lambda-error-rate", "--address", cwSrv.URL, "--region", cwtest.Region, "--secret-ref", "aws", "--arg", "alias=live", "--version", "7"},
			[]string{fmt.Sprintf("requests %g", wantInv), fmt.Sprintf("errors %g", wantErrs), "ExecutedVersion, value: \"7\""}},
		{"graphite", []string{"--template", "graphite-statsd-error-rate", "--provider", "graphite", "--address", other.URL, "--secret-ref", "graphite", "--arg", "prefix=prod", "--version", "v2"},
			[]string{"requests 100", "errors 4", "value 4 percent"}},
		{"gcm", []string{"--template", "gcm-cloud-run-error-rate", "--provider", "gcm", "--address", other.URL + "/v1/projects/birdwatch-test/location/global/prometheus", "--secret-ref", "google", "--version", "v2"},
			[]string{"requests 500", "errors 25", "value 5 percent", `revision_name="aleph-v2"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := run(t, append([]string{"query", "--service", "aleph", "--at", at}, tc.args...)...)
			if err != nil {
				t.Fatalf("err %v\n%s%s", err, stdout, stderr)
			}
			flat := strings.Join(strings.Fields(stdout), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
	if cw.BadSigs.Load() != 0 {
		t.Errorf("%d CloudWatch requests failed SigV4", cw.BadSigs.Load())
	}
}
