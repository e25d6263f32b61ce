package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxAnswerBytes caps how much of a service's answer is read.
const maxAnswerBytes = 64 << 10

// Request is one HTTP POST to a notification service.
type Request struct {
	// Service names the service in errors ("Teams"); the URL never appears.
	Service     string
	URL         string
	ContentType string
	Body        []byte
	Header      http.Header
}

// Post sends r with client (nil means http.DefaultClient) and returns the
// answer's body (capped). A 2xx answer is success; 408, 429 and 5xx are
// retryable StatusErrors (429's Retry-After kept); other statuses are
// permanent. Transport errors are returned without the URL, which for
// webhooks is a credential (net/http's *url.Error would print it).
func Post(ctx context.Context, client *http.Client, r Request) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: the webhook URL in the secret is not a URL", r.Service))
	}
	if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
		return nil, Permanent(fmt.Errorf("%s: the webhook URL in the secret is not http(s)", r.Service))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", r.ContentType)
	req.Header.Set("User-Agent", "birdwatch")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: post: %w", r.Service, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", r.Service, err)
	}
	if resp.StatusCode/100 == 2 {
		return body, nil
	}
	se := &StatusError{Service: r.Service, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		return nil, se
	}
	return nil, Permanent(se)
}

// parseRetryAfter reads delay-seconds (Discord also sends fractions); HTTP
// dates are ignored.
func parseRetryAfter(v string) time.Duration {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
