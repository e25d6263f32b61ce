package judge

import (
	"encoding/binary"
	"math"
	"testing"
)

// fuzzFloats reads 8-byte little-endian floats: any bit pattern, so NaN,
// ±Inf, subnormals and huge values all occur.
func fuzzFloats(b []byte) []float64 {
	const maxLen = 200
	var v []float64
	for len(b) >= 8 && len(v) < maxLen {
		v = append(v, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	return v
}

// fuzzGrid reads one value per byte on a small grid, so ties are common.
func fuzzGrid(b []byte) []float64 {
	v := make([]float64, len(b))
	for i, c := range b {
		v[i] = float64(c % 8)
	}
	return v
}

// FuzzMannWhitney feeds arbitrary samples and settings to the judge: it
// must never panic, must classify every metric, must never pass fewer
// samples than the minimum, and must keep its numbers consistent.
func FuzzMannWhitney(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint8(0), false, 0.98, 0.25)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 7, 7, 7}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(1), false, 0.9, 0.0)
	f.Add([]byte{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, []byte{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, uint8(2), true, 0.5, 1.0)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8}, []byte{1, 2, 3}, uint8(3), true, 0.98, 0.25)
	f.Add([]byte{}, []byte{}, uint8(0), false, 2.0, -1.0)
	f.Fuzz(func(t *testing.T, canaryBytes, baselineBytes []byte, mode uint8, raw bool, conf, tol float64) {
		cfg := MetricConfig{Name: "m", Direction: []Direction{Increase, Decrease, Either}[mode%3], Tolerance: tol,
			Confidence: conf, MinSamples: 1 + int(mode%12), LocationOnly: mode&0x10 != 0}
		if mode&0x20 != 0 {
			cfg.NaNStrategy = NaNReplace
		}
		if mode&0x40 != 0 {
			cfg.Outliers = OutliersRemove
		}
		canary, baseline := fuzzGrid(canaryBytes), fuzzGrid(baselineBytes)
		if raw {
			canary, baseline = fuzzFloats(canaryBytes), fuzzFloats(baselineBytes)
		}
		r := MannWhitney{}.Judge(Request{Metrics: []Input{{Config: cfg, Requests: -1,
			Canary: Series{Value: math.NaN(), Samples: canary}, Baseline: Series{Value: math.NaN(), Samples: baseline}}}})
		if len(r.Metrics) != 1 || r.Verdict == "" {
			t.Fatalf("result %+v", r)
		}
		m := r.Metrics[0]
		switch m.Classification {
		case Pass, High, Low:
			if m.CanarySamples.N < cfg.MinSamples || m.BaselineSamples.N < cfg.MinSamples {
				t.Fatalf("%s with %d and %d samples, minimum %d", m.Classification, m.CanarySamples.N, m.BaselineSamples.N, cfg.MinSamples)
			}
		case NoData, Error:
		default:
			t.Fatalf("classification %q", m.Classification)
		}
		if m.Reason == "" || (m.Classification == Pass && r.Verdict == VerdictFail) {
			t.Fatalf("metric %+v, verdict %s", m, r.Verdict)
		}
		if !math.IsNaN(m.PValue) && !(m.PValue >= 0 && m.PValue <= 1) {
			t.Fatalf("p-value %v", m.PValue)
		}
		for _, tl := range m.Tails {
			if !(tl.PValue >= 0 && tl.PValue <= 1) || tl.Canary > tl.CanaryTotal || tl.Baseline > tl.BaselineTotal {
				t.Fatalf("tail %+v", tl)
			}
		}
	})
}
