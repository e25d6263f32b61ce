// Package cloudwatch is the metrics provider for Amazon CloudWatch, through
// the official client (aws-sdk-go-v2 service/cloudwatch, GetMetricData with
// metric math). A query is a YAML list of metric data queries in the shape
// of Argo Rollouts' cloudWatch.metricDataQueries:
//
//   - id: errors
//     metricStat:
//     metric:
//     namespace: AWS/ApplicationELB
//     metricName: HTTPCode_Target_5XX_Count
//     dimensions:
//   - {name: TargetGroup, value: "targetgroup/{{ .Service }}-{{ .Version }}/{{ .Args.id }}"}
//     stat: Sum
//
// or one metric math expression (such as a SEARCH). The answer is the
// query with returnData: true, else the last one. A query without a period
// gets the window, rounded up to whole minutes, so one point covers the
// window; the window ends at the last whole minute.
//
// An answer that is a metricStat with stat Sum or SampleCount is a count:
// its points are summed, so a template's errors and requests reach the
// sequential judge as event counts. Anything else is a value: the latest
// point. Credentials and region come from the standard AWS chain
// (environment, shared config, the Lambda or ECS role); a MetricTemplate's
// provider.region overrides the region, its secret may hold accessKeyId,
// secretAccessKey and sessionToken, and its address replaces the endpoint
// (a VPC endpoint, say).
package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// Attempts is how many times a throttled or failed call is tried.
const Attempts = 3

// maxPages bounds how many NextToken pages one query follows.
const maxPages = 20

// api is the part of the CloudWatch client the provider uses.
type api interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Provider queries CloudWatch in one region. It is safe for concurrent use.
type Provider struct {
	api api
}

// New returns a provider for cfg (see the package doc); it reads the
// environment and shared config but contacts nothing.
func New(ctx context.Context, cfg metrics.ProviderConfig) (metrics.Provider, error) {
	return build(ctx, cfg, 0)
}

// build is New with the retryer's longest backoff (zero: the SDK's).
func build(ctx context.Context, cfg metrics.ProviderConfig, maxBackoff time.Duration) (*Provider, error) {
	if len(cfg.Headers) > 0 {
		return nil, errors.New("cloudwatch takes no headers")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = metrics.DefaultTimeout
	}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(timeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = Attempts
				if maxBackoff > 0 {
					o.MaxBackoff = maxBackoff
				}
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	id, key := cfg.Secret["accessKeyId"], cfg.Secret["secretAccessKey"]
	switch {
	case id != "" && key != "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, key, cfg.Secret["sessionToken"])))
	case id != "" || key != "" || len(cfg.Secret) > 0:
		return nil, errors.New("cloudwatch secret: want accessKeyId and secretAccessKey (and optionally sessionToken), or no secret for the AWS default chain")
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("error loading the AWS config: %w", err)
	}
	if ac.Region == "" {
		return nil, errors.New("cloudwatch needs a region: provider.region or AWS_REGION")
	}
	var clientOpts []func(*cloudwatch.Options)
	if cfg.Address != "" {
		u, err := url.Parse(cfg.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("cloudwatch address %q: want an https:// endpoint", cfg.Address)
		}
		clientOpts = append(clientOpts, func(o *cloudwatch.Options) { o.BaseEndpoint = aws.String(cfg.Address) })
	}
	return &Provider{api: cloudwatch.NewFromConfig(ac, clientOpts...)}, nil
}

// Check checks a rendered query offline, as Query would before calling
// CloudWatch: YAML metric data queries of known fields, or an expression.
func Check(expr string) error {
	_, err := parse(expr, 60)
	return err
}

// Dialect implements metrics.DialectProvider.
func (p *Provider) Dialect() metrics.Dialect { return metrics.Plain }

// Query implements metrics.Provider over the minute before at.
func (p *Provider) Query(ctx context.Context, expr string, at time.Time) (float64, error) {
	if at.IsZero() {
		at = time.Now()
	}
	return p.QueryWindow(ctx, expr, at.Add(-time.Minute), at)
}

// QueryWindow implements metrics.WindowProvider: the window is end-start
// rounded up to whole minutes, ending at end's last whole minute. Errors
// wrap metrics.ErrNoData (no points), ErrTooManySeries (a SEARCH found
// several series), ErrQuery (a query CloudWatch or this package refuses,
// access denied, an answer of another shape) or ErrUnavailable (no answer,
// throttled, 5xx, partial data, a result with InternalError).
func (p *Provider) QueryWindow(ctx context.Context, expr string, start, end time.Time) (float64, error) {
	period := periodOf(end.Sub(start))
	to := end.Truncate(time.Minute)
	from := to.Add(-time.Duration(period) * time.Second)
	pl, err := parse(expr, period)
	if err != nil {
		return 0, err
	}
	s, err := p.fetch(ctx, pl, from, to)
	if err != nil {
		return 0, err
	}
	sum, latest, last, n := 0.0, time.Time{}, 0.0, 0
	for i, t := range s.Timestamps {
		if t.Before(from) || !t.Before(to) {
			continue
		}
		sum += s.Values[i]
		if n == 0 || t.After(latest) {
			latest, last = t, s.Values[i]
		}
		n++
	}
	switch {
	case n == 0:
		return 0, fmt.Errorf("%w: cloudwatch: no points from %s to %s", metrics.ErrNoData, from.Format(time.RFC3339), to.Format(time.RFC3339))
	case pl.count:
		return sum, nil
	}
	return last, nil
}

// QueryRange implements metrics.RangeProvider with one GetMetricData call
// whose period is the step (a whole number of minutes): the point at t is
// the bucket (t-step, t], as an instant look at t over one step measures.
func (p *Provider) QueryRange(ctx context.Context, expr string, r metrics.Range) ([]metrics.Point, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if r.Step%time.Minute != 0 {
		return nil, fmt.Errorf("%w: cloudwatch steps are whole minutes, not %s", metrics.ErrInvalidRange, r.Step)
	}
	period := periodOf(r.Step)
	to := r.End.Truncate(time.Minute)
	from := r.Start.Truncate(time.Minute).Add(-r.Step)
	pl, err := parse(expr, period)
	if err != nil {
		return nil, err
	}
	s, err := p.fetch(ctx, pl, from, to)
	if err != nil {
		return nil, err
	}
	var pts []metrics.Point
	for i, t := range s.Timestamps {
		if end := t.Add(r.Step); !t.Before(from) && !end.After(to) {
			pts = append(pts, metrics.Point{T: end.UTC(), V: s.Values[i]})
		}
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%w: cloudwatch: no points from %s to %s", metrics.ErrNoData, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	slices.SortFunc(pts, func(a, b metrics.Point) int { return a.T.Compare(b.T) })
	return pts, nil
}

// fetch runs pl over [from, to), following NextToken, and returns the
// answer's one series with its status checked.
func (p *Provider) fetch(ctx context.Context, pl plan, from, to time.Time) (types.MetricDataResult, error) {
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: pl.queries, StartTime: aws.Time(from), EndTime: aws.Time(to),
		ScanBy: types.ScanByTimestampAscending}
	series := map[string]*types.MetricDataResult{}
	var order []string
	for page := 0; ; page++ {
		if page == maxPages {
			return types.MetricDataResult{}, fmt.Errorf("%w: cloudwatch: still more data after %d pages", metrics.ErrQuery, maxPages)
		}
		out, err := p.api.GetMetricData(ctx, in)
		if err != nil {
			return types.MetricDataResult{}, classify(err)
		}
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) != pl.answer {
				continue
			}
			if len(r.Timestamps) != len(r.Values) {
				return types.MetricDataResult{}, fmt.Errorf("%w: cloudwatch result %q has %d timestamps and %d values", metrics.ErrQuery, pl.answer, len(r.Timestamps), len(r.Values))
			}
			key := aws.ToString(r.Label)
			s, ok := series[key]
			if !ok {
				s = &types.MetricDataResult{Id: r.Id, Label: r.Label}
				series[key] = s
				order = append(order, key)
			}
			s.Timestamps = append(s.Timestamps, r.Timestamps...)
			s.Values = append(s.Values, r.Values...)
			s.StatusCode, s.Messages = r.StatusCode, r.Messages
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	switch len(order) {
	case 0:
		return types.MetricDataResult{}, fmt.Errorf("%w: cloudwatch answered no result for query %q", metrics.ErrQuery, pl.answer)
	case 1:
	default:
		return types.MetricDataResult{}, fmt.Errorf("%w: cloudwatch query %q found %d series (first: %s); aggregate them, e.g. SUM(SEARCH(...))", metrics.ErrTooManySeries, pl.answer, len(order), order[0])
	}
	s := *series[order[0]]
	return s, status(s)
}

// status checks a result's status code: only Complete is a whole answer.
func status(s types.MetricDataResult) error {
	var msg string
	for _, m := range s.Messages {
		msg += fmt.Sprintf(" %s: %s;", aws.ToString(m.Code), aws.ToString(m.Value))
	}
	switch s.StatusCode {
	case types.StatusCodeComplete:
		return nil
	case types.StatusCodePartialData:
		return fmt.Errorf("%w: cloudwatch returned partial data for %q%s", metrics.ErrUnavailable, aws.ToString(s.Id), msg)
	case types.StatusCodeInternalError:
		return fmt.Errorf("%w: cloudwatch internal error for %q%s", metrics.ErrUnavailable, aws.ToString(s.Id), msg)
	}
	return fmt.Errorf("%w: cloudwatch status %q for %q%s", metrics.ErrQuery, s.StatusCode, aws.ToString(s.Id), msg)
}

// classify maps the client's error (after its retries) onto our kinds.
func classify(err error) error {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	var de *smithy.DeserializationError
	switch {
	case errors.As(err, &ae) && retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		return fmt.Errorf("%w: cloudwatch throttled the query (%s) after %d attempts", metrics.ErrUnavailable, ae.ErrorCode(), Attempts)
	case errors.As(err, &re) && (re.HTTPStatusCode() == 0 || re.HTTPStatusCode() == 429 || re.HTTPStatusCode() >= 500): // 0: no answer
		return fmt.Errorf("%w: cloudwatch: %w", metrics.ErrUnavailable, err)
	case errors.As(err, &de):
		return fmt.Errorf("%w: cloudwatch answer of an unexpected shape: %w", metrics.ErrQuery, err)
	case errors.As(err, &re), errors.As(err, &ae):
		return fmt.Errorf("%w: cloudwatch refused the query: %w", metrics.ErrQuery, err)
	}
	return fmt.Errorf("%w: cloudwatch: %w", metrics.ErrUnavailable, err)
}
