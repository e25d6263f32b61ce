package judge

import (
	"fmt"
	"math"
	"strings"
)

// Scoring configures Kayenta's weighted group score (used by MannWhitney).
// The zero value weighs every group equally, with thresholds
// DefaultPassScore and DefaultMarginalScore.
type Scoring struct {
	// GroupWeights maps a group name to its weight, in percent of the
	// score. Groups without a weight share what the listed weights leave of
	// 100 equally (nothing if they use it all up). Nil means equal weights.
	// Negative or NaN weights count as 0.
	GroupWeights map[string]float64
	// Pass is the lowest score that passes; Marginal the lowest that is
	// marginal (below it fails). Zero or out-of-range values mean the
	// defaults; a Marginal above Pass is lowered to Pass.
	Pass, Marginal float64
}

// ScoreClass is Kayenta's reading of a score against the thresholds.
type ScoreClass string

// Score classes. Marginal and NoData are inconclusive for the rollout.
const (
	ScorePass     ScoreClass = "Pass"
	ScoreMarginal ScoreClass = "Marginal"
	ScoreFail     ScoreClass = "Fail"
	ScoreNoData   ScoreClass = "NoData" // no group had a judged metric
)

// GroupScore is one metric group's part of the score.
type GroupScore struct {
	Name string
	// Score is 100·Pass/(Pass+High+Low+Missing); 0 without data.
	Score float64
	// Weight is the group's share of the score in percent, after the
	// weights of groups without data were spread over the others.
	Weight float64
	// Counts of the group's metrics by classification; Missing counts the
	// NoData and Error metrics that are not Optional, which count against
	// the score (no data is not good data), Skipped the Optional ones.
	Pass, High, Low, Missing, Skipped int
	// HasData is false when the group had no judged metric: it is left out.
	HasData bool
}

// scoreKayenta fills out's Score, ScoreClass, Groups, Verdict, Critical and
// Reason from out.Metrics (configs in the same order), after Kayenta's
// WeightedSumScorer and ThresholdScoreClassifier, with two changes that keep
// "no data is not good data" and "no data is no failure" both true:
//
//   - a NoData or Error metric counts against its group's score unless it is
//     Optional (Kayenta leaves NoData out unless configured to fail it);
//   - the weights of groups without any judged metric are spread over the
//     others (Kayenta drops them, capping the score below 100).
//
// A critical failure (see MetricConfig.Critical) scores 0 and fails. A
// critical metric without data scores 0 and is inconclusive. Otherwise the
// score passes at Pass, is marginal (inconclusive) at Marginal, and below
// fails only if it would still fail with every missing metric passing;
// else it is inconclusive.
func scoreKayenta(out *Result, cfgs []MetricConfig, s Scoring) {
	pass, marginal := thresholds(s)
	out.Groups = groupScores(out.Metrics, cfgs, s)
	actual, optimistic, scored := summaryScores(out.Groups)
	out.Score = actual
	out.ScoreClass = classOf(actual, pass, marginal)
	var failed, critical, criticalMissing []string
	for _, m := range out.Metrics {
		desc := fmt.Sprintf("%s %s (%s)", m.Name, m.Classification, m.Reason)
		switch {
		case m.Classification.Failed() && m.Critical:
			critical = append(critical, desc)
		case m.Classification.Failed():
			failed = append(failed, desc)
		case m.Critical && m.Classification != Pass:
			criticalMissing = append(criticalMissing, desc)
		}
	}
	thr := fmt.Sprintf("pass >= %.4g, marginal >= %.4g", pass, marginal)
	why := strings.Join(failed, "; ")
	if why == "" {
		why = "metrics without data count against it"
	}
	switch {
	case len(critical) > 0:
		out.Score, out.ScoreClass, out.Verdict, out.Critical = 0, ScoreFail, VerdictFail, true
		out.Reason = "critical metric failed: " + strings.Join(append(critical, failed...), "; ")
	case len(criticalMissing) > 0:
		out.Score, out.ScoreClass, out.Verdict = 0, ScoreFail, VerdictInconclusive
		out.Reason = "critical metric without data: " + strings.Join(criticalMissing, "; ")
	case !scored:
		out.Score, out.ScoreClass, out.Verdict = 0, ScoreNoData, VerdictInconclusive
		out.Reason = "no metric could be judged"
	case out.ScoreClass == ScorePass:
		out.Verdict = VerdictPass
		out.Reason = fmt.Sprintf("score %.4g (%s)", actual, thr)
	case out.ScoreClass == ScoreMarginal:
		out.Verdict = VerdictInconclusive
		out.Reason = fmt.Sprintf("score %.4g is marginal (%s): %s", actual, thr, why)
	case optimistic < marginal:
		out.Verdict = VerdictFail
		out.Reason = fmt.Sprintf("score %.4g (%s): %s", actual, thr, why)
	default:
		out.Verdict = VerdictInconclusive
		out.Reason = fmt.Sprintf("score %.4g (%s), but %.4g if the metrics without data passed", actual, thr, optimistic)
	}
}

// thresholds returns the pass and marginal scores with defaults applied.
func thresholds(s Scoring) (pass, marginal float64) {
	pass, marginal = s.Pass, s.Marginal
	if !(pass > 0 && pass <= 100) {
		pass = DefaultPassScore
	}
	if !(marginal > 0 && marginal <= 100) {
		marginal = DefaultMarginalScore
	}
	return pass, math.Min(marginal, pass)
}

func classOf(score, pass, marginal float64) ScoreClass {
	switch {
	case score >= pass:
		return ScorePass
	case score >= marginal:
		return ScoreMarginal
	}
	return ScoreFail
}

// groupScores counts each group's metrics (groups in order of first
// appearance) and assigns the configured weights.
func groupScores(ms []MetricResult, cfgs []MetricConfig, s Scoring) []GroupScore {
	var gs []GroupScore
	index := map[string]int{}
	for i, m := range ms {
		name := m.Group
		if name == "" {
			name = m.Name
		}
		k, ok := index[name]
		if !ok {
			k = len(gs)
			index[name] = k
			gs = append(gs, GroupScore{Name: name})
		}
		g := &gs[k]
		switch {
		case m.Classification == Pass:
			g.Pass++
		case m.Classification == High:
			g.High++
		case m.Classification == Low:
			g.Low++
		case i < len(cfgs) && cfgs[i].Optional:
			g.Skipped++
		default:
			g.Missing++
		}
	}
	listed, unlisted := 0.0, 0
	for _, w := range s.GroupWeights {
		listed += weight(w)
	}
	for _, g := range gs {
		if _, ok := s.GroupWeights[g.Name]; !ok {
			unlisted++
		}
	}
	for i := range gs {
		g := &gs[i]
		if w, ok := s.GroupWeights[g.Name]; ok {
			g.Weight = weight(w)
		} else {
			g.Weight = math.Max(0, 100-listed) / float64(unlisted)
		}
		if den := g.Pass + g.High + g.Low + g.Missing; den > 0 {
			g.HasData = true
			g.Score = 100 * float64(g.Pass) / float64(den)
		}
	}
	return gs
}

func weight(w float64) float64 {
	if !(w > 0) || math.IsInf(w, 0) {
		return 0
	}
	return w
}

// summaryScores returns the weighted score of the groups with data, the
// same score with every missing metric counted as passing, and whether any
// group had data. Weights are renormalized over the groups with data (equal
// when they are all 0), and Weight is set to the share used.
func summaryScores(gs []GroupScore) (actual, optimistic float64, scored bool) {
	total, n := 0.0, 0
	for _, g := range gs {
		if g.HasData {
			total += g.Weight
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	for i := range gs {
		g := &gs[i]
		if !g.HasData {
			g.Weight = 0
			continue
		}
		w := 1 / float64(n)
		if total > 0 {
			w = g.Weight / total
		}
		g.Weight = 100 * w
		actual += w * g.Score
		optimistic += w * 100 * float64(g.Pass+g.Missing) / float64(g.Pass+g.High+g.Low+g.Missing)
	}
	return actual, optimistic, true
}
