package cloudwatch

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics/cloudwatch/cwtest"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// lambdaKey is the fake's key of a Lambda alias metric for one version.
func lambdaKey(metric, version string) string {
	return "AWS/Lambda|" + metric + "|ExecutedVersion=" + version + ",FunctionName=aleph,Resource=aleph:live"
}

// lambdaData publishes 40 minutes of invocations, errors and durations for
// versions 6 and 7, ending at end, and returns the reference per-minute
// counts {errors, invocations} and the durations of version 7.
func lambdaData(end time.Time) (map[string][]cwtest.Observation, map[int64][2]float64, map[int64][]float64) {
	data := map[string][]cwtest.Observation{}
	ref := map[int64][2]float64{}
	dur := map[int64][]float64{}
	for i := range 40 {
		minute := end.Add(-time.Duration(i+1) * time.Minute)
		for _, v := range []string{"6", "7"} {
			inv := float64(100 + 3*i)
			errs := float64(i % 4)
			if v == "7" {
				errs += 2
			}
			// CloudWatch receives Lambda's counts as several datapoints a minute.
			for _, part := range []float64{0.25, 0.75} {
				at := minute.Add(time.Duration(part * float64(time.Minute)))
				data[lambdaKey("Invocations", v)] = append(data[lambdaKey("Invocations", v)], cwtest.Observation{T: at, V: inv * part})
				data[lambdaKey("Errors", v)] = append(data[lambdaKey("Errors", v)], cwtest.Observation{T: at, V: errs * part})
			}
			for k := range 10 {
				d := float64(20 + (i*7+k*13)%50)
				data[lambdaKey("Duration", v)] = append(data[lambdaKey("Duration", v)], cwtest.Observation{T: minute.Add(time.Duration(k) * time.Second), V: d})
				if v == "7" {
					dur[minute.Unix()] = append(dur[minute.Unix()], d)
				}
			}
			if v == "7" {
				ref[minute.Unix()] = [2]float64{errs, inv}
			}
		}
	}
	return data, ref, dur
}

func newTestProvider(t *testing.T, url string, secret metrics.Secret, timeout time.Duration) *Provider {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	p, err := build(context.Background(), metrics.ProviderConfig{Address: url, Region: cwtest.Region, Secret: secret, Timeout: timeout}, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var goodSecret = metrics.Secret{"accessKeyId": cwtest.KeyID, "secretAccessKey": cwtest.SecretKey}

func TestCloudWatch(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	data, ref, dur := lambdaData(end)
	// refSum is the reference count of version 7 over the minutes (from, to].
	refSum := func(field int, from, to time.Time) float64 {
		s := 0.0
		for m, c := range ref {
			if t := time.Unix(m, 0); !t.Before(from) && t.Before(to) {
				s += c[field]
			}
		}
		return s
	}
	at := end.Add(30 * time.Second) // the window ends at the last whole minute
	window := 10 * time.Minute
	from, to := end.Add(-window), end
	errorRate, err := templates.Metric("cloudwatch-lambda-error-rate")
	if err != nil {
		t.Fatal(err)
	}
	p99, err := templates.Metric("cloudwatch-lambda-latency-p99")
	if err != nil {
		t.Fatal(err)
	}
	vars := metrics.Vars{Service: "aleph", Version: "7", Stable: "6", Canary: "7", Window: window, Interval: time.Minute, Args: map[string]string{"alias": "live"}}
	ratioExpr := `
- {id: e, metricStat: {metric: {namespace: AWS/Lambda, metricName: Errors, dimensions: [{name: FunctionName, value: aleph}, {name: Resource, value: "aleph:live"}, {name: ExecutedVersion, value: "7"}]}, stat: Sum}}
- {id: n, metricStat: {metric: {namespace: AWS/Lambda, metricName: Invocations, dimensions: [{name: FunctionName, value: aleph}, {name: Resource, value: "aleph:live"}, {name: ExecutedVersion, value: "7"}]}, stat: Sum}}
- {id: rate, expression: 100 * e / n}`

	tests := []struct {
		name       string
		special    func(w http.ResponseWriter, q cwtest.Request) bool
		pageLen    int
		secret     metrics.Secret
		timeout    time.Duration
		run        func(p *Provider) (any, error)
		assertions func(t *testing.T, got any, err error, f *cwtest.Server)
	}{
		{
			name: "template counts reach Measure as counts",
			run: func(p *Provider) (any, error) {
				return metrics.Measure(context.Background(), p, errorRate, vars, at)
			},
			assertions: func(t *testing.T, got any, err error, f *cwtest.Server) {
				m := got.(metrics.Measurement)
				if err != nil || !m.HasCounts {
					t.Fatalf("Measure: %+v, %v", m, err)
				}
				we, wn := refSum(0, from, to), refSum(1, from, to)
				if !nearly(m.Errors, we) || !nearly(m.Requests, wn) || !nearly(m.Value, 100*we/wn) {
					t.Errorf("got errors %v requests %v value %v, want %v %v %v", m.Errors, m.Requests, m.Value, we, wn, 100*we/wn)
				}
				if f.BadSigs.Load() != 0 {
					t.Errorf("%d requests failed SigV4", f.BadSigs.Load())
				}
			},
		},
		{
			name: "p99 value over the window",
			run: func(p *Provider) (any, error) {
				return metrics.Measure(context.Background(), p, p99, vars, at)
			},
			assertions: func(t *testing.T, got any, err error, _ *cwtest.Server) {
				var all []float64
				for m, ds := range dur {
					if tm := time.Unix(m, 0); !tm.Before(from) && tm.Before(to) {
						all = append(all, ds...)
					}
				}
				want := nearestRank(all, 0.99)
				if m := got.(metrics.Measurement); err != nil || m.Value != want || m.HasCounts {
					t.Errorf("got %+v, %v; want value %v", m, err, want)
				}
			},
		},
		{
			name: "request rate template: Invocations / PERIOD",
			run: func(p *Provider) (any, error) {
				rate, err := templates.Metric("cloudwatch-lambda-request-rate")
				if err != nil {
					return nil, err
				}
				return metrics.Measure(context.Background(), p, rate, vars, at)
			},
			assertions: func(t *testing.T, got any, err error, _ *cwtest.Server) {
				want := refSum(1, from, to) / window.Seconds()
				if m := got.(metrics.Measurement); err != nil || !nearly(m.Value, want) {
					t.Errorf("got %+v, %v; want %v", m, err, want)
				}
			},
		},
		{
			name: "metric math expression is the answer",
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: func(t *testing.T, got any, err error, _ *cwtest.Server) {
				want := 100 * refSum(0, from, to) / refSum(1, from, to)
				if err != nil || !nearly(got.(float64), want) {
					t.Errorf("got %v, %v; want %v", got, err, want)
				}
			},
		},
		{
			name: "range: one point per step, each the step's count",
			run: func(p *Provider) (any, error) {
				return p.QueryRange(context.Background(), "{id: e, metricStat: {metric: {namespace: AWS/Lambda, metricName: Errors, dimensions: [{name: FunctionName, value: aleph}, {name: Resource, value: 'aleph:live'}, {name: ExecutedVersion, value: '7'}]}, stat: Sum}}",
					metrics.Range{Start: end.Add(-20 * time.Minute), End: end, Step: 2 * time.Minute})
			},
			assertions: func(t *testing.T, got any, err error, _ *cwtest.Server) {
				pts := got.([]metrics.Point)
				if err != nil || len(pts) != 11 {
					t.Fatalf("got %d points, %v; want 11", len(pts), err)
				}
				for _, pt := range pts {
					if want := refSum(0, pt.T.Add(-2*time.Minute), pt.T); !nearly(pt.V, want) {
						t.Errorf("point %s = %v, want %v", pt.T, pt.V, want)
					}
				}
			},
		},
		{
			name:    "NextToken pages are followed and joined",
			pageLen: 3,
			run: func(p *Provider) (any, error) {
				return p.QueryRange(context.Background(), "{id: e, metricStat: {metric: {namespace: AWS/Lambda, metricName: Invocations, dimensions: [{name: FunctionName, value: aleph}, {name: Resource, value: 'aleph:live'}, {name: ExecutedVersion, value: '7'}]}, stat: Sum}}",
					metrics.Range{Start: end.Add(-9 * time.Minute), End: end, Step: time.Minute})
			},
			assertions: func(t *testing.T, got any, err error, f *cwtest.Server) {
				pts := got.([]metrics.Point)
				if err != nil || len(pts) != 10 || f.Calls.Load() != 4 {
					t.Fatalf("got %d points in %d calls, %v; want 10 in 4", len(pts), f.Calls.Load(), err)
				}
				for _, pt := range pts {
					if want := refSum(1, pt.T.Add(-time.Minute), pt.T); !nearly(pt.V, want) {
						t.Errorf("point %s = %v, want %v", pt.T, pt.V, want)
					}
				}
			},
		},
		{
			name: "no datapoints is no data",
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), strings.ReplaceAll(ratioExpr, `"7"`, `"99"`), at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrNoData, ""),
		},
		{
			name:   "wrong secret key fails SigV4: a refused query",
			secret: metrics.Secret{"accessKeyId": cwtest.KeyID, "secretAccessKey": "wrong"},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: func(t *testing.T, got any, err error, f *cwtest.Server) {
				wantErr(metrics.ErrQuery, "SignatureDoesNotMatch")(t, got, err, f)
				if f.BadSigs.Load() == 0 {
					t.Error("the fake did not see a bad signature")
				}
			},
		},
		{
			name: "throttled (400 Throttling) after the retries: unavailable",
			special: func(w http.ResponseWriter, _ cwtest.Request) bool {
				cwtest.Error(w, 400, "LimitExceededException", "Throttling", "Rate exceeded")
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: func(t *testing.T, got any, err error, f *cwtest.Server) {
				wantErr(metrics.ErrUnavailable, "throttled")(t, got, err, f)
				if f.Calls.Load() != Attempts {
					t.Errorf("%d calls, want %d", f.Calls.Load(), Attempts)
				}
			},
		},
		{
			name: "429 ThrottlingException: unavailable",
			special: func(w http.ResponseWriter, _ cwtest.Request) bool {
				w.Header().Set("Retry-After", "1")
				cwtest.Write(w, 429, map[string]string{"__type": "com.amazonaws.cloudwatch#ThrottlingException", "message": "slow down"})
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrUnavailable, "ThrottlingException"),
		},
		{
			name: "PartialData without NextToken: unavailable, never a value",
			special: func(w http.ResponseWriter, q cwtest.Request) bool {
				cwtest.Write(w, 200, map[string]any{"MetricDataResults": []cwtest.Result{{Id: "rate", Label: "rate", StatusCode: "PartialData",
					Timestamps: []time.Time{end.Add(-window)}, Values: []float64{0.5}}}})
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrUnavailable, "partial data"),
		},
		{
			name: "Forbidden result: refused",
			special: func(w http.ResponseWriter, q cwtest.Request) bool {
				cwtest.Write(w, 200, map[string]any{"MetricDataResults": []cwtest.Result{{Id: "rate", Label: "rate", StatusCode: "Forbidden",
					Timestamps: []time.Time{}, Values: []float64{}}}})
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrQuery, "Forbidden"),
		},
		{
			name: "several series for the answer: too many series",
			special: func(w http.ResponseWriter, q cwtest.Request) bool {
				r := func(label string) cwtest.Result {
					return cwtest.Result{Id: "rate", Label: label, StatusCode: "Complete", Timestamps: []time.Time{end.Add(-window)}, Values: []float64{1}}
				}
				cwtest.Write(w, 200, map[string]any{"MetricDataResults": []cwtest.Result{r("tg-a"), r("tg-b")}})
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrTooManySeries, "2 series"),
		},
		{
			name: "an answer of another shape: refused, not a value",
			special: func(w http.ResponseWriter, q cwtest.Request) bool {
				cwtest.Write(w, 200, map[string]any{"MetricDataResults": []map[string]any{{"Id": "rate", "StatusCode": "Complete", "Values": "0.5"}}})
				return true
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrQuery, "unexpected shape"),
		},
		{
			name: "CloudWatch refuses the query",
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), "- {id: a, expression: 'a ^ 2'}", at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrQuery, "InvalidParameterValue"),
		},
		{
			name:    "timeout: unavailable",
			timeout: 150 * time.Millisecond,
			special: func(w http.ResponseWriter, q cwtest.Request) bool {
				time.Sleep(600 * time.Millisecond)
				return false
			},
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), ratioExpr, at.Add(-window), at)
			},
			assertions: wantErr(metrics.ErrUnavailable, ""),
		},
		{
			name: "a query that is not one: refused before any call",
			run: func(p *Provider) (any, error) {
				return p.QueryWindow(context.Background(), "- {id: a, metricStat: {metric: {namespace: X}}, stat: Sum}", at.Add(-window), at)
			},
			assertions: func(t *testing.T, got any, err error, f *cwtest.Server) {
				wantErr(metrics.ErrQuery, "field stat not found")(t, got, err, f)
				if f.Calls.Load() != 0 {
					t.Errorf("%d calls", f.Calls.Load())
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &cwtest.Server{Data: data, Special: tc.special, PageLen: tc.pageLen}
			srv := f.Start()
			defer srv.Close()
			secret := tc.secret
			if secret == nil {
				secret = goodSecret
			}
			got, err := tc.run(newTestProvider(t, srv.URL, secret, tc.timeout))
			tc.assertions(t, got, err, f)
		})
	}
}

// TestDefaultChain checks that without a secret the standard AWS chain's
// environment credentials sign the request.
func TestDefaultChain(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	data, ref, _ := lambdaData(end)
	f := &cwtest.Server{Data: data}
	srv := f.Start()
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", cwtest.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cwtest.SecretKey)
	t.Setenv("AWS_REGION", cwtest.Region)
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	p, err := New(context.Background(), metrics.ProviderConfig{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.(*Provider).QueryWindow(context.Background(), "{id: e, metricStat: {metric: {namespace: AWS/Lambda, metricName: Errors, dimensions: [{name: FunctionName, value: aleph}, {name: Resource, value: 'aleph:live'}, {name: ExecutedVersion, value: '7'}]}, stat: Sum}}",
		end.Add(-time.Minute), end)
	if want := ref[end.Add(-time.Minute).Unix()][0]; err != nil || got != want {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	for _, tc := range []struct {
		name string
		cfg  metrics.ProviderConfig
		want string
	}{
		{"no region", metrics.ProviderConfig{}, "needs a region"},
		{"half a key", metrics.ProviderConfig{Region: "eu-west-1", Secret: metrics.Secret{"accessKeyId": "x"}}, "want accessKeyId and secretAccessKey"},
		{"headers", metrics.ProviderConfig{Region: "eu-west-1", Headers: map[string]string{"X": "y"}}, "no headers"},
		{"bad address", metrics.ProviderConfig{Region: "eu-west-1", Address: "monitoring"}, "want an https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func wantErr(kind error, text string) func(t *testing.T, got any, err error, f *cwtest.Server) {
	return func(t *testing.T, got any, err error, _ *cwtest.Server) {
		t.Helper()
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), text) {
			t.Errorf("got %v, %v; want an error wrapping %v containing %q", got, err, kind, text)
		}
	}
}

// nearestRank is the q-quantile of vs by the nearest-rank method, as
// CloudWatch's percentile statistics are documented to be computed.
func nearestRank(vs []float64, q float64) float64 {
	s := append([]float64(nil), vs...)
	for i := range s { // insertion sort: independent of the fake's slices.Sorted
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// nearly reports whether a and b agree to 1e-9 relative.
func nearly(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// TestTemplatesMeasure runs the metricStat-based embedded templates (API
// Gateway stages, ECS Service Connect) through Measure against the fake,
// with counts published under the dimensions each template names.
func TestTemplatesMeasure(t *testing.T) {
	end := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		template       string
		args           map[string]string
		errKey, reqKey string
	}{
		{"cloudwatch-apigateway-error-rate", nil,
			"AWS/ApiGateway|5XXError|ApiName=aleph,Stage=v2", "AWS/ApiGateway|Count|ApiName=aleph,Stage=v2"},
		{"cloudwatch-ecs-error-rate", map[string]string{"cluster": "prod", "discoveryName": "http"},
			"AWS/ECS|HTTPCode_Target_5XX_Count|ClusterName=prod,DiscoveryName=http,ServiceName=aleph-v2", "AWS/ECS|RequestCount|ClusterName=prod,DiscoveryName=http,ServiceName=aleph-v2"},
	}
	for _, tc := range cases {
		t.Run(tc.template, func(t *testing.T) {
			data := map[string][]cwtest.Observation{}
			wantErrs, wantReqs := 0.0, 0.0
			for i := range 20 {
				at := end.Add(-time.Duration(i+1)*time.Minute + 17*time.Second)
				e, n := float64((i*5)%7), float64(200+11*i)
				data[tc.errKey] = append(data[tc.errKey], cwtest.Observation{T: at, V: e})
				data[tc.reqKey] = append(data[tc.reqKey], cwtest.Observation{T: at, V: n})
				if i < 5 {
					wantErrs += e
					wantReqs += n
				}
			}
			f := &cwtest.Server{Data: data}
			srv := f.Start()
			defer srv.Close()
			tmpl, err := templates.Metric(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			v := metrics.Vars{Service: "aleph", Version: "v2", Stable: "v1", Canary: "v2", Window: 5 * time.Minute, Interval: time.Minute, Args: tc.args}
			m, err := metrics.Measure(context.Background(), newTestProvider(t, srv.URL, goodSecret, 0), tmpl, v, end)
			if err != nil || !m.HasCounts || m.Errors != wantErrs || m.Requests != wantReqs {
				t.Errorf("Measure = %+v, %v; want errors %v requests %v", m, err, wantErrs, wantReqs)
			}
		})
	}
}
