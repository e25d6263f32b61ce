package sync

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	gosync "sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"
)

// EKSConfig reaches an Amazon EKS cluster without a kubeconfig. The token
// is a presigned STS GetCallerIdentity URL, as `aws eks get-token` makes
// it; the cluster maps the caller's IAM role to Kubernetes permissions.
type EKSConfig struct {
	// Cluster is the EKS cluster name (signed into the token).
	Cluster string
	// Region is the AWS region of the cluster and of the STS endpoint.
	Region string
	// Endpoint is the cluster's API server URL (aws eks describe-cluster
	// --query cluster.endpoint).
	Endpoint string
	// CAData is the cluster's certificate authority, PEM (or its base64, as
	// describe-cluster prints certificateAuthority.data).
	CAData []byte
	// AWS is the SDK configuration whose credentials sign the token; nil
	// means config.LoadDefaultConfig (the Lambda's role).
	AWS *aws.Config
}

// eksTokenPrefix and eksTokenLifetime follow aws-iam-authenticator: a token
// is valid for 15 minutes; birdwatch renews it after 14.
const (
	eksTokenPrefix   = "k8s-aws-v1."
	eksTokenLifetime = 14 * time.Minute
	eksClusterHeader = "x-k8s-aws-id"
)

func (e *EKSConfig) rest(ctx context.Context) (*rest.Config, error) {
	if e.Cluster == "" || e.Region == "" || e.Endpoint == "" {
		return nil, fmt.Errorf("%w: EKS needs the cluster name, region and endpoint", ErrNoCluster)
	}
	ca := e.CAData
	if dec, err := base64.StdEncoding.DecodeString(string(ca)); err == nil {
		ca = dec
	}
	cfg := e.AWS
	if cfg == nil {
		loaded, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(e.Region))
		if err != nil {
			return nil, fmt.Errorf("load AWS config for EKS: %w", err)
		}
		cfg = &loaded
	}
	src := &eksTokens{presign: sts.NewPresignClient(sts.NewFromConfig(*cfg, func(o *sts.Options) { o.Region = e.Region })),
		cluster: e.Cluster, now: time.Now}
	return &rest.Config{
		Host:            e.Endpoint,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		WrapTransport:   func(rt http.RoundTripper) http.RoundTripper { return &bearer{next: rt, tokens: src} },
	}, nil
}

// eksTokens makes and caches EKS tokens. Safe for concurrent use.
type eksTokens struct {
	presign *sts.PresignClient
	cluster string
	now     func() time.Time

	mu      gosync.Mutex
	token   string
	expires time.Time
}

// Token returns a valid token, presigning a new one when the cached one is
// about to expire. The token is a credential: it is never logged.
func (s *eksTokens) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Before(s.expires) {
		return s.token, nil
	}
	req, err := s.presign.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{},
		func(o *sts.PresignOptions) {
			o.ClientOptions = append(o.ClientOptions, sts.WithAPIOptions(
				smithyhttp.AddHeaderValue(eksClusterHeader, s.cluster), addExpires(60)))
		})
	if err != nil {
		return "", fmt.Errorf("presign STS GetCallerIdentity for EKS: %w", err)
	}
	s.token = eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
	s.expires = s.now().Add(eksTokenLifetime)
	return s.token, nil
}

// addExpires sets X-Amz-Expires on the request before it is presigned (the
// SDK's presigner leaves it to the caller).
func addExpires(seconds int) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("BirdwatchEKSExpires",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					q := req.URL.Query()
					q.Set("X-Amz-Expires", fmt.Sprint(seconds))
					req.URL.RawQuery = q.Encode()
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
}

// bearer sets "Authorization: Bearer <token>" on every request.
type bearer struct {
	next   http.RoundTripper
	tokens interface {
		Token(ctx context.Context) (string, error)
	}
}

// RoundTrip implements http.RoundTripper; it does not modify req.
func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.tokens.Token(req.Context())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return b.next.RoundTrip(r)
}
