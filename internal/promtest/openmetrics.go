package promtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Label is one label pair of a series. Value is the raw (unescaped) label value.
type Label struct {
	Name, Value string
}

// Sample is one timestamped value of a series. T is stored with second
// precision in the OpenMetrics text (sub-second parts are dropped).
type Sample struct {
	T time.Time
	V float64
}

// Series is one time series: its full metric name (for example
// istio_requests_total or istio_request_duration_milliseconds_bucket), its
// labels in output order, and its samples in time order.
type Series struct {
	Name    string
	Labels  []Label
	Samples []Sample
}

// Label returns the value of the label called name, or "" if the series has
// no such label (the Prometheus convention for a missing label).
func (s Series) Label(name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Family is one OpenMetrics metric family. Name is the family name without
// the _total/_bucket/_sum/_count suffixes; Type is an OpenMetrics type such as
// "counter", "gauge" or "histogram".
type Family struct {
	Name   string
	Type   string
	Help   string
	Series []Series
}

// Select returns the series of fams whose metric name is name and whose labels
// equal every pair in match (a value of "" matches a missing label, as in
// PromQL). A nil match selects every series of that name.
func Select(fams []Family, name string, match map[string]string) []Series {
	var out []Series
	for _, f := range fams {
		for _, s := range f.Series {
			if s.Name != name || !matches(s, match) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

func matches(s Series, match map[string]string) bool {
	for k, v := range match {
		if s.Label(k) != v {
			return false
		}
	}
	return true
}

// labelEscaper escapes label values as the OpenMetrics text format requires:
// backslash, double quote and line feed.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// WriteOpenMetrics writes fams as OpenMetrics text with explicit timestamps in
// seconds, each series' samples in time order, ending with the mandatory
// "# EOF" line. This is the input format of
// `promtool tsdb create-blocks-from openmetrics`.
func WriteOpenMetrics(w io.Writer, fams []Family) error {
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		if err := writeFamily(bw, f); err != nil {
			return fmt.Errorf("error writing family %s: %w", f.Name, err)
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		return fmt.Errorf("error writing EOF marker: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("error flushing OpenMetrics text: %w", err)
	}
	return nil
}

// OpenMetrics returns fams as OpenMetrics text (see WriteOpenMetrics).
func OpenMetrics(fams []Family) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteOpenMetrics(&buf, fams); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeFamily(w *bufio.Writer, f Family) error {
	fmt.Fprintf(w, "# TYPE %s %s\n", f.Name, f.Type)
	if f.Help != "" {
		fmt.Fprintf(w, "# HELP %s %s\n", f.Name, labelEscaper.Replace(f.Help))
	}
	for _, s := range f.Series {
		prefix := seriesPrefix(s)
		prevT := int64(math.MinInt64)
		for _, smp := range s.Samples {
			ts := smp.T.Unix()
			if ts <= prevT {
				return fmt.Errorf("series %s: sample at %d not after %d", prefix, ts, prevT)
			}
			prevT = ts
			if _, err := fmt.Fprintf(w, "%s %s %d\n", prefix, formatValue(smp.V), ts); err != nil {
				return err
			}
		}
	}
	return nil
}

func seriesPrefix(s Series) string {
	var b strings.Builder
	b.WriteString(s.Name)
	if len(s.Labels) == 0 {
		return b.String()
	}
	b.WriteByte('{')
	for i, l := range s.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(l.Value))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// formatValue prints v the way OpenMetrics spells numbers, including the
// special values +Inf, -Inf and NaN.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
