// Package cwtest is a fake Amazon CloudWatch GetMetricData endpoint for
// tests: it speaks what the SDK (service/cloudwatch v1.76) sends, Smithy
// RPC v2 CBOR, and verifies each request's SigV4 signature with the SDK's
// own signer. Not for production use.
package cwtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"
)

// The fake speaks what the SDK (service/cloudwatch v1.76) sends: Smithy
// RPC v2 CBOR, POST /service/GraniteServiceVersion20100801/operation/
// GetMetricData, signed with SigV4 for service "monitoring". Bodies are
// decoded and encoded with fxamacker/cbor, not the SDK's own codec, so a
// mistake in either side's shape shows.

// The credentials and region the fake accepts.
const (
	// Region is the region requests must be signed for.
	Region = "eu-west-1"
	// KeyID is the access key id requests must be signed with.
	KeyID = "AKIDTESTCLOUDWATCH"
	// SecretKey is the secret access key of KeyID.
	SecretKey = "test/secret/key"
)

// Request is GetMetricDataInput as CBOR.
type Request struct {
	MetricDataQueries []struct {
		Id         string
		Expression *string
		Period     *int32
		ReturnData *bool
		MetricStat *struct {
			Metric struct {
				Namespace  string
				MetricName string
				Dimensions []struct{ Name, Value string }
			}
			Period int32
			Stat   string
		}
	}
	StartTime, EndTime time.Time
	NextToken          *string
	ScanBy             string
}

// Result is MetricDataResult as CBOR.
type Result struct {
	Id         string      `cbor:"Id"`
	Label      string      `cbor:"Label"`
	StatusCode string      `cbor:"StatusCode"`
	Timestamps []time.Time `cbor:"Timestamps"`
	Values     []float64   `cbor:"Values"`
}

// Observation is one value published to a metric.
type Observation struct {
	T time.Time
	V float64
}

// Server holds metrics (key: namespace|name|dim=value,...) and
// answers GetMetricData like CloudWatch: buckets of Period seconds from
// StartTime, the stat over each bucket's observations, buckets without
// observations left out, metric math of ids and numbers with + - * /.
type Server struct {
	// Data are the metrics' observations by key; read-only once started.
	Data map[string][]Observation
	// Special, if set, answers a request instead when it returns true.
	Special func(w http.ResponseWriter, q Request) bool
	// Calls counts the requests received.
	Calls atomic.Int64
	// BadSigs counts the requests refused for their signature.
	BadSigs atomic.Int64
	// PageLen > 0 answers at most that many points per page, with a NextToken.
	PageLen int
}

// Start serves the fake until the returned server is closed.
func (f *Server) Start() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/service/GraniteServiceVersion20100801/operation/GetMetricData" ||
			r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
			Error(w, 404, "UnknownOperationException", "UnknownOperation", "not GetMetricData over rpc-v2-cbor")
			return
		}
		if err := VerifySigV4(r, body); err != nil {
			f.BadSigs.Add(1)
			Error(w, 403, "InvalidSignatureException", "SignatureDoesNotMatch", err.Error())
			return
		}
		var q Request
		if err := cbor.Unmarshal(body, &q); err != nil {
			Error(w, 400, "SerializationException", "InvalidParameterValue", err.Error())
			return
		}
		if f.Special != nil && f.Special(w, q) {
			return
		}
		results, err := f.answer(q)
		if err != nil {
			Error(w, 400, "InvalidParameterValueException", "InvalidParameterValue", err.Error())
			return
		}
		out := map[string]any{"MetricDataResults": results, "Messages": []any{}}
		if f.PageLen > 0 {
			off := 0
			if q.NextToken != nil {
				off, _ = strconv.Atoi(*q.NextToken)
			}
			for i := range results {
				r := &results[i]
				lo, hi := min(off, len(r.Values)), min(off+f.PageLen, len(r.Values))
				if hi < len(r.Values) {
					r.StatusCode = "PartialData"
					out["NextToken"] = strconv.Itoa(hi)
				}
				r.Timestamps, r.Values = r.Timestamps[lo:hi], r.Values[lo:hi]
			}
		}
		Write(w, 200, out)
	}))
}

// answer evaluates the queries of q.
func (f *Server) answer(q Request) ([]Result, error) {
	series := map[string]map[int64]float64{} // id -> bucket start (unix) -> value
	periods := map[string]int32{}            // id -> period (s) of a metricStat
	var out []Result
	for _, mq := range q.MetricDataQueries {
		var s map[int64]float64
		switch {
		case mq.MetricStat != nil:
			ms := mq.MetricStat
			if ms.Period%60 != 0 || ms.Period <= 0 {
				return nil, fmt.Errorf("period %d is not a multiple of 60", ms.Period)
			}
			var dims []string
			for _, d := range ms.Metric.Dimensions {
				dims = append(dims, d.Name+"="+d.Value)
			}
			slices.Sort(dims)
			key := ms.Metric.Namespace + "|" + ms.Metric.MetricName + "|" + strings.Join(dims, ",")
			periods[mq.Id] = ms.Period
			s = buckets(f.Data[key], q.StartTime, q.EndTime, time.Duration(ms.Period)*time.Second, ms.Stat)
			if s == nil {
				return nil, fmt.Errorf("unsupported stat %q", ms.Stat)
			}
		case mq.Expression != nil:
			var err error
			if s, err = evaluate(*mq.Expression, series, periods); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("query %q has neither MetricStat nor Expression", mq.Id)
		}
		series[mq.Id] = s
		if mq.ReturnData == nil || *mq.ReturnData {
			res := Result{Id: mq.Id, Label: mq.Id, StatusCode: "Complete", Timestamps: []time.Time{}, Values: []float64{}}
			for _, b := range slices.Sorted(maps.Keys(s)) {
				res.Timestamps = append(res.Timestamps, time.Unix(b, 0).UTC())
				res.Values = append(res.Values, s[b])
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// buckets aggregates obs over [start, end) in buckets of period from start.
func buckets(obs []Observation, start, end time.Time, period time.Duration, stat string) map[int64]float64 {
	groups := map[int64][]float64{}
	for _, o := range obs {
		if o.T.Before(start) || !o.T.Before(end) {
			continue
		}
		b := start.Add(o.T.Sub(start) / period * period).Unix()
		groups[b] = append(groups[b], o.V)
	}
	out := map[int64]float64{}
	for b, vs := range groups {
		switch stat {
		case "Sum":
			out[b] = sum(vs)
		case "SampleCount":
			out[b] = float64(len(vs))
		case "Average":
			out[b] = sum(vs) / float64(len(vs))
		case "Maximum":
			out[b] = slices.Max(vs)
		case "Minimum":
			out[b] = slices.Min(vs)
		case "p99":
			s := slices.Sorted(slices.Values(vs)) // nearest rank
			out[b] = s[int(math.Ceil(0.99*float64(len(s))))-1]
		default:
			return nil
		}
	}
	return out
}

func sum(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s
}

var tokenRE = regexp.MustCompile(`^\s*(PERIOD\([A-Za-z][A-Za-z0-9_]*\)|[A-Za-z][A-Za-z0-9_]*|[0-9.]+)\s*([-+*/]|$)`)

// evaluate computes "a OP b OP c ..." left to right over aligned buckets;
// an operand is an id, a number or PERIOD(id) (the id's period in seconds).
func evaluate(expr string, series map[string]map[int64]float64, periods map[string]int32) (map[int64]float64, error) {
	var acc map[int64]float64
	op := ""
	for rest := expr; rest != ""; {
		m := tokenRE.FindStringSubmatch(rest)
		if m == nil {
			return nil, fmt.Errorf("cannot parse expression %q", expr)
		}
		rest = rest[len(m[0]):]
		if id, ok := strings.CutPrefix(m[1], "PERIOD("); ok {
			p, known := periods[strings.TrimSuffix(id, ")")]
			if !known {
				return nil, fmt.Errorf("PERIOD of unknown id in %q", expr)
			}
			m[1] = strconv.Itoa(int(p))
		}
		operand := func(b int64) (float64, bool) {
			if n, err := strconv.ParseFloat(m[1], 64); err == nil {
				return n, true
			}
			v, ok := series[m[1]][b]
			return v, ok
		}
		if _, isNum := strconv.ParseFloat(m[1], 64); isNum != nil && series[m[1]] == nil {
			return nil, fmt.Errorf("unknown id %q in expression", m[1])
		}
		if acc == nil {
			acc = map[int64]float64{}
			for _, s := range series {
				for b := range s {
					if v, ok := operand(b); ok {
						acc[b] = v
					}
				}
			}
		} else {
			next := map[int64]float64{}
			for b, a := range acc {
				v, ok := operand(b)
				if !ok {
					continue
				}
				switch op {
				case "+":
					next[b] = a + v
				case "-":
					next[b] = a - v
				case "*":
					next[b] = a * v
				case "/":
					next[b] = a / v
				}
			}
			acc = next
		}
		op = m[2]
	}
	return acc, nil
}

var cborEnc = func() cbor.EncMode {
	em, err := cbor.EncOptions{Time: cbor.TimeUnix, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// Write answers v as CBOR with the RPC v2 headers; it panics if v cannot
// be encoded (a bug in the test).
func Write(w http.ResponseWriter, code int, v any) {
	b, err := cborEnc.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Error answers an error as CloudWatch does in RPC v2 CBOR: __type and
// message in the body, the AWS Query code in X-Amzn-Query-Error (CloudWatch
// is awsQueryCompatible).
func Error(w http.ResponseWriter, code int, typ, queryCode, msg string) {
	w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	Write(w, code, map[string]string{"__type": "com.amazonaws.cloudwatch#" + typ, "message": msg})
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// VerifySigV4 recomputes the request's signature with the SDK's own v4
// signer over the signed headers and the body received, and compares.
func VerifySigV4(r *http.Request, body []byte) error {
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return fmt.Errorf("no SigV4 Authorization header")
	}
	if m[1] != KeyID || m[3] != Region || m[4] != "monitoring" {
		return fmt.Errorf("credential scope %s/%s/%s, want %s/%s/monitoring", m[1], m[3], m[4], KeyID, Region)
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	if d := time.Since(at); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("signed %s ago", d)
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	again.Header = http.Header{}
	for _, h := range strings.Split(m[5], ";") {
		switch h {
		case "host":
		case "content-length":
			again.ContentLength = r.ContentLength
		default:
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	hash := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: KeyID, SecretAccessKey: SecretKey}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(hash[:]), "monitoring", Region, at); err != nil {
		return err
	}
	want := authRE.FindStringSubmatch(again.Header.Get("Authorization"))
	if want == nil || want[5] != m[5] || !hmac.Equal([]byte(want[6]), []byte(m[6])) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}
