package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// recordingProvider remembers the configuration it was built from.
type recordingProvider struct{ cfg ProviderConfig }

func (recordingProvider) Query(context.Context, string, time.Time) (float64, error) { return 0, nil }

func TestRegistry(t *testing.T) {
	builds := 0
	secrets := func(_ context.Context, name string) (string, error) {
		switch name {
		case "dd":
			return `{"apiKey": "k1", "appKey": "k2"}`, nil
		case "token":
			return " t0k3n\n", nil
		}
		return "", nil
	}
	r := NewRegistry(secrets, time.Second)
	r.Add("web", Kind{Dialect: Plain, New: func(_ context.Context, cfg ProviderConfig) (Provider, error) {
		builds++
		return &recordingProvider{cfg: cfg}, nil
	}})
	def := &recordingProvider{}
	r.SetDefault("web", def)
	ctx := context.Background()

	if p, err := r.Provider(ctx, ProviderRef{Type: "web"}); err != nil || p != def {
		t.Fatalf("a bare ref gave %v, %v; want the default", p, err)
	}
	p1, err := r.Provider(ctx, ProviderRef{Type: "web", Address: "https://a", SecretRef: "dd", Headers: map[string]string{"X-Scope-OrgID": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := p1.(*recordingProvider).cfg
	if cfg.Secret["apiKey"] != "k1" || cfg.Secret["appKey"] != "k2" || cfg.Headers["X-Scope-OrgID"] != "t1" || cfg.Timeout != time.Second {
		t.Errorf("config = %+v", cfg)
	}
	p2, _ := r.Provider(ctx, ProviderRef{Type: "web", Address: "https://a", SecretRef: "dd", Headers: map[string]string{"X-Scope-OrgID": "t1"}})
	p3, _ := r.Provider(ctx, ProviderRef{Type: "web", Address: "https://a", SecretRef: "token"})
	if p1 != p2 || p1 == p3 || builds != 2 {
		t.Errorf("same ref gave a new provider or different refs shared one (builds %d)", builds)
	}
	if got := p3.(*recordingProvider).cfg.Secret["token"]; got != "t0k3n" {
		t.Errorf("plain secret = %q, want the trimmed token", got)
	}
	if _, err := r.Provider(ctx, ProviderRef{Type: "web", SecretRef: "absent"}); err == nil || !strings.Contains(err.Error(), "no such secret") {
		t.Errorf("absent secret: %v", err)
	}
	if _, err := r.Provider(ctx, ProviderRef{Type: "splunk"}); !errors.Is(err, ErrUnknownProvider) || !strings.Contains(err.Error(), "have web") {
		t.Errorf("unknown type: %v", err)
	}
	if err := r.CheckQuery("web", "v={{ .Service }}", nil); !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "canary's version") {
		t.Errorf("query without version: %v", err)
	}
	if err := r.CheckQuery("web", "v={{ .Version }}&e={{ args.env }}", map[string]string{"env": ""}); err != nil {
		t.Errorf("good query: %v", err)
	}
	if err := r.CheckQuery("web", "v={{ .Version }}&e={{ args.env }}", nil); !errors.Is(err, ErrTemplate) {
		t.Errorf("missing arg: %v", err)
	}
}
