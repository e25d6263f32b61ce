package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// LambdaFunc is the signature aws-lambda-go's lambda.Start takes for an API
// Gateway v2 (HTTP API) or Lambda Function URL event.
type LambdaFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// LambdaHandler adapts any http.Handler to API Gateway v2 / Function URL
// events: the event becomes an *http.Request (body base64-decoded when
// flagged, headers and query kept), and what the handler writes becomes the
// response (body base64-encoded when not UTF-8). Errors are HTTP statuses,
// never a Lambda error, so the caller always gets an answer.
func LambdaHandler(h http.Handler) LambdaFunc {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := toHTTPRequest(ctx, req)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: fmt.Sprintf(`{"error":%q}`, err.Error()),
				Headers: map[string]string{"Content-Type": "application/json"}}, nil
		}
		w := &lambdaResponse{header: http.Header{}}
		h.ServeHTTP(w, r)
		return w.event(), nil
	}
}

// HandleLambda serves one Lambda event with the handler's header routing
// (GitHub or GitLab); it is LambdaHandler(h).
func (h *Handler) HandleLambda(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return LambdaHandler(h)(ctx, req)
}

func toHTTPRequest(ctx context.Context, req events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, fmt.Errorf("decode base64 body: %w", err)
		}
	}
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodPost
	}
	path := req.RawPath
	if path == "" {
		path = "/"
	}
	url := path
	if req.RawQueryString != "" {
		url += "?" + req.RawQueryString
	}
	r, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range req.Headers {
		r.Header.Set(k, v)
	}
	if len(req.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(req.Cookies, "; "))
	}
	r.ContentLength = int64(len(body))
	r.RemoteAddr = req.RequestContext.HTTP.SourceIP
	r.Host = req.RequestContext.DomainName
	return r, nil
}

// lambdaResponse is an http.ResponseWriter that collects the response.
type lambdaResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *lambdaResponse) Header() http.Header { return w.header }

func (w *lambdaResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *lambdaResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *lambdaResponse) event() events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	if out.StatusCode == 0 {
		out.StatusCode = http.StatusOK
	}
	for k, v := range w.header {
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, v...)
			continue
		}
		out.Headers[k] = strings.Join(v, ",")
	}
	if b := w.body.Bytes(); utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}
