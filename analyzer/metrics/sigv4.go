package metrics

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// SigV4Config says how to sign Prometheus requests for Amazon Managed
// Service for Prometheus.
type SigV4Config struct {
	// Region is the workspace's AWS region, e.g. eu-west-1. Required.
	Region string
	// Service is the signing name; empty means "aps".
	Service string
	// Credentials provide the keys; see DefaultAWSCredentials. Required.
	Credentials aws.CredentialsProvider
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// DefaultAWSCredentials loads the AWS default credential chain (environment,
// shared config, web identity, the Lambda or ECS role), cached.
func DefaultAWSCredentials(ctx context.Context, region string) (aws.CredentialsProvider, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	return cfg.Credentials, nil
}

// sigV4RoundTripper signs each request with aws-sdk-go-v2's signer; the
// body is read once to hash it and handed on unchanged.
type sigV4RoundTripper struct {
	cfg    SigV4Config
	signer *v4.Signer
	next   http.RoundTripper
}

func newSigV4RoundTripper(cfg SigV4Config, next http.RoundTripper) *sigV4RoundTripper {
	if cfg.Service == "" {
		cfg.Service = "aps"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &sigV4RoundTripper{cfg: cfg, signer: v4.NewSigner(), next: next}
}

// RoundTrip signs a clone of req and sends it.
func (rt *sigV4RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("sigv4: read body: %w", err)
		}
		_ = req.Body.Close()
	}
	sum := sha256.Sum256(body)
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	creds, err := rt.cfg.Credentials.Retrieve(req.Context())
	if err != nil {
		return nil, fmt.Errorf("sigv4: credentials: %w", err)
	}
	if err := rt.signer.SignHTTP(req.Context(), creds, out, hex.EncodeToString(sum[:]), rt.cfg.Service,
		rt.cfg.Region, rt.cfg.Now()); err != nil {
		return nil, fmt.Errorf("sigv4: sign: %w", err)
	}
	return rt.next.RoundTrip(out)
}
