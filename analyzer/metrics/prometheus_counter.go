package metrics

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// CounterSamples implements CounterProvider: the instant query
// selector[end-start] at end, whose answer is every raw sample of every
// matching series in that range. It is retried like QueryResult; errors
// wrap ErrQuery (a rejected selector, native histograms) or
// ErrUnavailable.
func (p *Prometheus) CounterSamples(ctx context.Context, selector string, start, end time.Time) ([]CounterSeries, []string, error) {
	if !end.After(start) {
		return nil, nil, fmt.Errorf("%w: end %s is not after start %s", ErrInvalidRange, end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	expr := selector + "[" + model.Duration(end.Sub(start).Truncate(time.Millisecond)).String() + "]"
	var out []CounterSeries
	var notes []string
	err := p.retry(ctx, expr, func(ctx context.Context) error {
		val, warnings, infos, err := p.api.Query(ctx, expr, end, v1.WithTimeout(p.timeout))
		notes = append(append([]string(nil), warnings...), prefixed("info: ", infos)...)
		p.logWarnings(ctx, expr, notes)
		if err != nil {
			return classify(err)
		}
		out, err = counterSeries(val)
		return err
	})
	return out, notes, err
}

// counterSeries converts the answer to a range selector.
func counterSeries(val model.Value) ([]CounterSeries, error) {
	m, ok := val.(model.Matrix)
	if !ok {
		if val == nil {
			return nil, fmt.Errorf("%w: empty result", ErrQuery)
		}
		return nil, fmt.Errorf("%w: result type %s, want a range vector of raw samples", ErrQuery, val.Type())
	}
	out := make([]CounterSeries, 0, len(m))
	for _, s := range m {
		if len(s.Histograms) > 0 {
			return nil, fmt.Errorf("%w: series %s holds native histograms, want counter floats", ErrQuery, s.Metric)
		}
		pts := make([]Point, len(s.Values))
		for i, v := range s.Values {
			pts[i] = Point{T: v.Timestamp.Time().UTC(), V: float64(v.Value)}
		}
		out = append(out, CounterSeries{Labels: s.Metric.String(), Pod: PodOf(s.Metric), Metric: s.Metric, Points: pts})
	}
	return out, nil
}
