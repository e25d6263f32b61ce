package cloudwatch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
)

// query is one entry of a query document, in the shape of Argo Rollouts'
// cloudWatch.metricDataQueries (the API's MetricDataQuery, lower camel case).
type query struct {
	ID         string      `yaml:"id"`
	Expression string      `yaml:"expression"`
	Label      string      `yaml:"label"`
	Period     int32       `yaml:"period"`
	ReturnData *bool       `yaml:"returnData"`
	AccountID  string      `yaml:"accountId"`
	MetricStat *metricStat `yaml:"metricStat"`
}

type metricStat struct {
	Metric struct {
		Namespace  string      `yaml:"namespace"`
		MetricName string      `yaml:"metricName"`
		Dimensions []dimension `yaml:"dimensions"`
	} `yaml:"metric"`
	Period int32  `yaml:"period"`
	Stat   string `yaml:"stat"`
	Unit   string `yaml:"unit"`
}

type dimension struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// plan is a parsed query: the API's queries, with the id of the one whose
// series is the answer and whether that series is a count.
type plan struct {
	queries []types.MetricDataQuery
	answer  string
	count   bool
}

// maxQueries is CloudWatch's limit of queries per GetMetricData call.
const maxQueries = 500

// parse reads expr: a YAML list of metric data queries (or one query as a
// mapping), or else one metric math expression. Queries without a period
// get period (seconds). Errors wrap metrics.ErrQuery.
func parse(expr string, period int32) (plan, error) {
	qs, err := decode(expr)
	if err != nil {
		return plan{}, fmt.Errorf("%w: cloudwatch query: %w", metrics.ErrQuery, err)
	}
	if len(qs) > maxQueries {
		return plan{}, fmt.Errorf("%w: cloudwatch query: %d queries, GetMetricData takes at most %d", metrics.ErrQuery, len(qs), maxQueries)
	}
	answer := -1
	for i, q := range qs {
		if q.ReturnData != nil && *q.ReturnData {
			if answer >= 0 {
				return plan{}, fmt.Errorf("%w: cloudwatch query: queries %q and %q both have returnData: true; one series is the answer", metrics.ErrQuery, qs[answer].ID, q.ID)
			}
			answer = i
		}
	}
	if answer < 0 {
		answer = len(qs) - 1 // none marked: the last one, as a math expression usually is
	}
	p := plan{answer: qs[answer].ID}
	seen := map[string]bool{}
	for i, q := range qs {
		aq, err := q.api(i == answer, period)
		if err != nil {
			return plan{}, fmt.Errorf("%w: cloudwatch query %d (%s): %w", metrics.ErrQuery, i+1, q.ID, err)
		}
		if seen[q.ID] {
			return plan{}, fmt.Errorf("%w: cloudwatch query: id %q used twice", metrics.ErrQuery, q.ID)
		}
		seen[q.ID] = true
		p.queries = append(p.queries, aq)
	}
	if ms := qs[answer].MetricStat; ms != nil {
		p.count = ms.Stat == "Sum" || ms.Stat == "SampleCount"
	}
	return p, nil
}

// decode reads the query document; a plain string is one expression.
func decode(expr string) ([]query, error) {
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(expr), &node); err != nil || len(node.Content) == 0 {
		return nil, fmt.Errorf("not YAML metric data queries nor an expression: %w", err)
	}
	root := node.Content[0]
	if root.Kind == yaml.ScalarNode {
		return []query{{ID: "q", Expression: strings.TrimSpace(expr)}}, nil
	}
	var qs []query
	var err error
	switch root.Kind {
	case yaml.SequenceNode:
		err = strict(expr, &qs)
	case yaml.MappingNode:
		var q query
		err = strict(expr, &q)
		qs = []query{q}
	default:
		err = errors.New("want a list of metric data queries")
	}
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, errors.New("no metric data queries")
	}
	return qs, nil
}

// strict decodes YAML refusing unknown fields, so a misspelled key is an
// error rather than a silently different query.
func strict(s string, v any) error {
	d := yaml.NewDecoder(bytes.NewReader([]byte(s)))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// api converts q to the SDK's type; period fills a missing period.
func (q query) api(answer bool, period int32) (types.MetricDataQuery, error) {
	if q.ID == "" {
		return types.MetricDataQuery{}, errors.New("id is required")
	}
	out := types.MetricDataQuery{Id: aws.String(q.ID), ReturnData: aws.Bool(answer)}
	if q.Label != "" {
		out.Label = aws.String(q.Label)
	}
	if q.AccountID != "" {
		out.AccountId = aws.String(q.AccountID)
	}
	switch {
	case (q.Expression == "") == (q.MetricStat == nil):
		return types.MetricDataQuery{}, errors.New("give exactly one of expression and metricStat")
	case q.Expression != "":
		out.Expression = aws.String(q.Expression)
		// A period is only accepted for expressions that fetch metrics
		// themselves (SEARCH); others take their inputs' periods.
		if q.Period != 0 {
			out.Period = aws.Int32(q.Period)
		} else if strings.Contains(strings.ToUpper(q.Expression), "SEARCH(") {
			out.Period = aws.Int32(period)
		}
		return out, nil
	}
	ms := q.MetricStat
	if ms.Metric.Namespace == "" || ms.Metric.MetricName == "" || ms.Stat == "" {
		return types.MetricDataQuery{}, errors.New("metricStat needs metric.namespace, metric.metricName and stat")
	}
	p := ms.Period
	if p == 0 {
		p = period
	}
	stat := types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String(ms.Metric.Namespace), MetricName: aws.String(ms.Metric.MetricName)},
		Period: aws.Int32(p), Stat: aws.String(ms.Stat),
	}
	for _, d := range ms.Metric.Dimensions {
		if d.Name == "" || d.Value == "" {
			return types.MetricDataQuery{}, errors.New("a dimension needs name and value")
		}
		stat.Metric.Dimensions = append(stat.Metric.Dimensions, types.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)})
	}
	if ms.Unit != "" {
		stat.Unit = types.StandardUnit(ms.Unit)
	}
	out.MetricStat = &stat
	return out, nil
}

// periodOf is d in whole minutes, rounded up, as seconds: CloudWatch's
// standard-resolution periods are multiples of 60 s.
func periodOf(d time.Duration) int32 {
	m := (d + time.Minute - 1) / time.Minute
	return int32(max(m, 1) * 60)
}
