package metrics

import "net/http"

// These two round-trippers are hand-written: prometheus/common/config has
// equivalents (NewAuthorizationCredentialsRoundTripper,
// NewHeadersRoundTripper), but importing it adds oauth2, jwt, conntrack, uuid
// and yaml.v2 to the module graph for about 20 lines of code.

// headerRoundTripper adds fixed headers to each request. The headers are
// copied once at construction and each request is cloned before it is
// changed, as http.RoundTripper requires.
type headerRoundTripper struct {
	headers http.Header
	next    http.RoundTripper
}

func newHeaderRoundTripper(h map[string]string, next http.RoundTripper) *headerRoundTripper {
	hdr := make(http.Header, len(h))
	for k, v := range h {
		hdr.Set(k, v)
	}
	return &headerRoundTripper{headers: hdr, next: next}
}

// RoundTrip implements http.RoundTripper.
func (rt *headerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, vs := range rt.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	return rt.next.RoundTrip(req)
}

// bearerRoundTripper sets "Authorization: Bearer <token>" on each request.
type bearerRoundTripper struct {
	token string
	next  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (rt *bearerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+rt.token)
	return rt.next.RoundTrip(req)
}
