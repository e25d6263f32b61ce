// Package hook calls a canary's webhooks (spec.analysis.webhooks, in
// Flagger's shape): it POSTs a JSON Payload, signed with HMAC-SHA256 in
// the X-Birdwatch-Signature header, with the hook's timeout, and reports
// whether the endpoint answered 2xx. It refuses URLs that are not http or
// https and, unless the deployment allows them, addresses that are
// link-local (169.254.0.0/16, fe80::/10: where cloud metadata services
// answer), checked on the address actually dialled so a name that
// resolves there is refused too. Redirects are not followed: a 3xx is not
// a 2xx. Errors never carry the URL's query nor the response body.
package hook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the request
// body keyed with the deployment's hook secret. Receivers compute the same
// over the raw body and compare in constant time (Verify).
const SignatureHeader = "X-Birdwatch-Signature"

// Payload is the JSON body of every call (spec.HookPayload).
type Payload = spec.HookPayload

// Secrets resolves deployment secrets by name (the notifiers' secrets,
// functions/notify, satisfy it).
type Secrets interface {
	Secret(ctx context.Context, name string) (string, error)
}

// DefaultSecretName is the deployment secret holding the signing key.
const DefaultSecretName = "birdwatch-hooks"

// Client calls webhooks. The zero value is not usable: Secrets is
// required, because every call is signed. A Client is safe for concurrent
// use.
type Client struct {
	// Secrets resolves SecretName, the HMAC key.
	Secrets Secrets
	// SecretName is the deployment secret holding the key; "" means
	// DefaultSecretName.
	SecretName string
	// AllowLinkLocal lets hooks reach link-local addresses (a deployment
	// decision: a spec author could otherwise make birdwatch read the
	// cloud metadata service).
	AllowLinkLocal bool
	// Transport sends the requests; nil means a transport dialling through
	// the link-local check. Tests may replace it.
	Transport http.RoundTripper
}

// ErrRefused wraps refusals of a hook's address.
var ErrRefused = errors.New("hook address refused")

// Call POSTs p to h.URL, signed, within h's timeout. It never returns an
// error: a failure is a result with OK false and Error saying why (a
// refused address, no signing key, a timeout, a non-2xx status). The
// result's At is p.At.
func (c *Client) Call(ctx context.Context, h spec.Webhook, p Payload) spec.HookResult {
	r := spec.HookResult{Hook: h.Name, Type: h.Type, At: p.At}
	p.Hook, p.Type, p.Metadata = h.Name, h.Type, h.Metadata
	status, err := c.post(ctx, h, p)
	r.Status = status
	switch {
	case err != nil:
		r.Error = err.Error()
	case status < 200 || status > 299:
		r.Error = fmt.Sprintf("answered %d %s", status, http.StatusText(status))
	default:
		r.OK = true
	}
	return r
}

func (c *Client) post(ctx context.Context, h spec.Webhook, p Payload) (int, error) {
	if err := spec.CheckHookURL(h.URL); err != nil {
		return 0, fmt.Errorf("url: %w: %w", ErrRefused, err)
	}
	u, _ := url.Parse(h.URL)
	where := redacted(u)
	if c.Secrets == nil {
		return 0, errors.New("no secrets configured to sign the call")
	}
	name := c.SecretName
	if name == "" {
		name = DefaultSecretName
	}
	key, err := c.Secrets.Secret(ctx, name)
	if err != nil || key == "" {
		return 0, fmt.Errorf("signing key %q: not available in the deployment", name)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("payload: %w", err)
	}
	timeout := h.TimeoutOrDefault()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", where, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "birdwatch-hook")
	req.Header.Set(SignatureHeader, Sign([]byte(key), body))
	client := &http.Client{Transport: c.transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0, describe(ctx, where, timeout, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused; the body is never recorded
	return resp.StatusCode, nil
}

// describe turns a transport error into a message without the URL's query.
func describe(ctx context.Context, where string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("POST %s: timed out after %s", where, timeout)
	}
	if errors.Is(err, ErrRefused) {
		var op *net.OpError
		if errors.As(err, &op) {
			return fmt.Errorf("POST %s: %w", where, op.Err)
		}
		return fmt.Errorf("POST %s: %w", where, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("POST %s: %v", where, err)
}

// redacted is u without its query, fragment and credentials.
func redacted(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// transport returns Transport, or a transport whose dialer refuses
// link-local addresses (unless allowed) after name resolution.
func (c *Client) transport() http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	d := &net.Dialer{Timeout: 10 * time.Second, Control: c.control}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would dial the address itself, past the check
	t.DialContext = d.DialContext
	return t
}

// control refuses a connection to a link-local address.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip != nil && !c.AllowLinkLocal && (ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast()) {
		return fmt.Errorf("%w: %s is a link-local address (cloud metadata services answer there); the deployment must allow link-local hook addresses", ErrRefused, ip)
	}
	return nil
}

// Sign returns the X-Birdwatch-Signature value of body: "sha256=" and the
// hex HMAC-SHA256 keyed with key.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(key, body), in constant time.
func Verify(key, body []byte, signature string) bool {
	return hmac.Equal([]byte(signature), []byte(Sign(key, body)))
}
