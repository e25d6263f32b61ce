package judge

import (
	"math"
	"strings"
	"testing"
)

// metric builds a judged metric for the scorer.
func metric(name, group string, c Classification, critical bool) MetricResult {
	return MetricResult{Name: name, Group: group, Classification: c, Critical: critical, Reason: "r"}
}

func TestScoreKayenta(t *testing.T) {
	tests := []struct {
		name       string
		metrics    []MetricResult
		optional   []bool
		scoring    Scoring
		assertions func(t *testing.T, r Result)
	}{
		{"every metric passes", []MetricResult{metric("a", "", Pass, false), metric("b", "", Pass, true)}, nil, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 100, ScorePass, VerdictPass, "score 100 (pass >= 95, marginal >= 75)")
			}},
		{"one of four fails: 75 is marginal, inconclusive", []MetricResult{metric("a", "", Pass, false), metric("b", "", Pass, false),
			metric("c", "", Pass, false), metric("d", "", High, false)}, nil, Scoring{},
			func(t *testing.T, r Result) { wantScore(t, r, 75, ScoreMarginal, VerdictInconclusive, "marginal") }},
		{"one of two fails", []MetricResult{metric("a", "", Pass, false), metric("b", "", Low, false)}, nil, Scoring{},
			func(t *testing.T, r Result) { wantScore(t, r, 50, ScoreFail, VerdictFail, "b Low (r)") }},
		{"a critical failure scores 0 and fails", []MetricResult{metric("a", "", Pass, false), metric("b", "", Pass, false),
			metric("c", "", High, true)}, nil, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 0, ScoreFail, VerdictFail, "critical metric failed: c High")
				if !r.Critical {
					t.Error("not critical")
				}
			}},
		{"a critical metric without data scores 0 but is inconclusive", []MetricResult{metric("a", "", Pass, false),
			metric("c", "", NoData, true)}, nil, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 0, ScoreFail, VerdictInconclusive, "critical metric without data: c NoData")
			}},
		{"no data counts against the score", []MetricResult{metric("a", "", Pass, false), metric("b", "", NoData, false)}, nil,
			Scoring{Marginal: 40},
			func(t *testing.T, r Result) {
				wantScore(t, r, 50, ScoreMarginal, VerdictInconclusive, "marginal (pass >= 95, marginal >= 40): metrics without data count")
			}},
		{"a low score that missing data may explain is inconclusive", []MetricResult{metric("a", "", Pass, false),
			metric("b", "", Error, false), metric("c", "", NoData, false), metric("d", "", High, false)}, nil, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 25, ScoreFail, VerdictInconclusive, "75 if the metrics without data passed")
			}},
		{"a low score that fails even if missing data passed fails", []MetricResult{metric("a", "", Pass, false),
			metric("b", "", Error, false), metric("c", "", High, false)}, nil, Scoring{},
			func(t *testing.T, r Result) { wantScore(t, r, 100.0/3, ScoreFail, VerdictFail, "c High (r)") }},
		{"optional metrics without data are left out", []MetricResult{metric("a", "", Pass, false), metric("b", "", NoData, false)},
			[]bool{false, true}, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 100, ScorePass, VerdictPass, "score 100")
				if r.Groups[1].Skipped != 1 || r.Groups[1].HasData || r.Groups[1].Weight != 0 {
					t.Errorf("group %+v", r.Groups[1])
				}
			}},
		{"nothing judged is NoData", []MetricResult{metric("a", "", NoData, false)}, []bool{true}, Scoring{},
			func(t *testing.T, r Result) {
				wantScore(t, r, 0, ScoreNoData, VerdictInconclusive, "no metric could be judged")
			}},
		{"group weights: a failing light group", []MetricResult{metric("err", "errors", Pass, false), metric("p99", "latency", High, false),
			metric("p50", "latency", Pass, false)}, nil, Scoring{GroupWeights: map[string]float64{"errors": 80, "latency": 20}},
			func(t *testing.T, r Result) {
				wantScore(t, r, 90, ScoreMarginal, VerdictInconclusive, "marginal")
				if len(r.Groups) != 2 || r.Groups[1].Score != 50 || r.Groups[1].Weight != 20 {
					t.Errorf("groups %+v", r.Groups)
				}
			}},
		{"unweighted groups share what the weights leave", []MetricResult{metric("a", "x", Pass, false), metric("b", "y", High, false),
			metric("c", "z", Pass, false)}, nil, Scoring{GroupWeights: map[string]float64{"x": 50}},
			func(t *testing.T, r Result) { wantScore(t, r, 75, ScoreMarginal, VerdictInconclusive, "") }},
		{"the weight of a group without data is spread over the others", []MetricResult{metric("a", "x", Pass, false),
			metric("b", "y", NoData, false)}, []bool{false, true}, Scoring{GroupWeights: map[string]float64{"x": 30, "y": 70}},
			func(t *testing.T, r Result) {
				wantScore(t, r, 100, ScorePass, VerdictPass, "")
				if r.Groups[0].Weight != 100 {
					t.Errorf("groups %+v", r.Groups)
				}
			}},
		{"bad thresholds fall back to the defaults", []MetricResult{metric("a", "", Pass, false), metric("b", "", Pass, false),
			metric("c", "", Pass, false), metric("d", "", Pass, false), metric("e", "", High, false)}, nil,
			Scoring{Pass: 120, Marginal: math.NaN()},
			func(t *testing.T, r Result) {
				wantScore(t, r, 80, ScoreMarginal, VerdictInconclusive, "pass >= 95, marginal >= 75")
			}},
		{"infinite and negative weights count as 0", []MetricResult{metric("a", "", Pass, false), metric("b", "", Pass, false),
			metric("c", "", Pass, false), metric("d", "", Pass, false), metric("e", "", High, false)}, nil,
			Scoring{GroupWeights: map[string]float64{"a": math.Inf(1), "b": -5}},
			func(t *testing.T, r Result) { wantScore(t, r, 200.0/3, ScoreFail, VerdictFail, "e High") }},
		{"a marginal threshold above pass is lowered to it", []MetricResult{metric("a", "", Pass, false), metric("b", "", High, false)},
			nil, Scoring{Pass: 50, Marginal: 90},
			func(t *testing.T, r Result) { wantScore(t, r, 50, ScorePass, VerdictPass, "marginal >= 50") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgs := make([]MetricConfig, len(tt.metrics))
			for i := range cfgs {
				cfgs[i].Optional = i < len(tt.optional) && tt.optional[i]
			}
			r := Result{Metrics: tt.metrics}
			scoreKayenta(&r, cfgs, tt.scoring)
			tt.assertions(t, r)
		})
	}
}

func wantScore(t *testing.T, r Result, score float64, class ScoreClass, v Verdict, reasonHas string) {
	t.Helper()
	if math.Abs(r.Score-score) > 1e-9 || r.ScoreClass != class || r.Verdict != v || !strings.Contains(r.Reason, reasonHas) {
		t.Errorf("score %v %s %s (%s); want %v %s %s with %q", r.Score, r.ScoreClass, r.Verdict, r.Reason, score, class, v, reasonHas)
	}
}

// The judge end to end: classification, groups and the verdict.
func TestMannWhitneyJudge(t *testing.T) {
	healthy := func(name, group string, seed uint64) Input {
		return Input{Config: MetricConfig{Name: name, Group: group, Direction: Increase, Tolerance: 0.25}, Requests: -1,
			Canary: Series{Value: math.NaN(), Samples: normals(seed, 30, 100, 10)}, Baseline: Series{Value: math.NaN(), Samples: normals(seed+1, 30, 100, 10)}}
	}
	slow := healthy("p99", "latency", 40)
	slow.Canary.Samples = normals(42, 30, 150, 10)
	r := MannWhitney{}.Judge(Request{Metrics: []Input{healthy("errors", "errors", 10), healthy("p50", "latency", 20), slow},
		MinRequests: 100, Scoring: Scoring{GroupWeights: map[string]float64{"errors": 60, "latency": 40}}})
	if r.Judge != "mannwhitney" || len(r.Metrics) != 3 || r.Metrics[2].Classification != High || r.Metrics[2].Group != "latency" {
		t.Fatalf("result %+v", r)
	}
	wantScore(t, r, 80, ScoreMarginal, VerdictInconclusive, "p99 High (shift +")
	if !(r.Metrics[2].Canary > 140 && r.Metrics[2].Baseline < 110) {
		t.Errorf("report values %v vs %v: want the sample means when no instant value is given", r.Metrics[2].Canary, r.Metrics[2].Baseline)
	}
	if (MannWhitney{}).Name() != "mannwhitney" || !(MannWhitney{}).NeedsSamples() {
		t.Error("name or NeedsSamples")
	}
}
