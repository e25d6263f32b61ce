package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/spf13/cobra"
)

// judgeOptions are the flags of birdwatch judge.
type judgeOptions struct {
	baseline, canary string
	output           string
	cfg              judge.MetricConfig
	nan, outliers    string
}

// Exit codes of birdwatch judge beyond 0 (Pass) and 1 (bad input).
const (
	exitJudgeFailed       = 2 // High or Low
	exitJudgeInconclusive = 3 // NoData or Error
)

func newJudgeCommand() *cobra.Command {
	o := judgeOptions{cfg: judge.MetricConfig{Name: "metric"}}
	cmd := &cobra.Command{
		Use:   "judge --baseline FILE --canary FILE",
		Short: "Judge canary samples against baseline samples as the mannwhitney judge does",
		Long: `Judge compares two files of samples, one number per line (- reads stdin;
empty lines and lines starting with # are skipped; NaN marks a step without
a value, see --nan), with the mannwhitney judge: Kayenta's Mann-Whitney
classifier plus the tail tests that catch what it misses. Use it to backtest
a metric's settings on exported data.

Exit status: 0 Pass, 2 High or Low, 3 NoData or Error, 1 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runJudge(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.baseline, "baseline", "", "file of baseline samples, one per line (- for stdin)")
	f.StringVar(&o.canary, "canary", "", "file of canary samples, one per line (- for stdin)")
	f.StringVar((*string)(&o.cfg.Direction), "direction", string(judge.Increase), "harmful change: increase, decrease or either")
	f.Float64Var(&o.cfg.Tolerance, "tolerance", 0.25, "Kayenta's tolerance: the interval must clear tolerance x |shift|")
	f.Float64Var(&o.cfg.Confidence, "confidence", judge.DefaultConfidence, "confidence level of the interval, in (0, 1)")
	f.StringVar(&o.output, "output", "text", "output format: text or json")
	f.IntVar(&o.cfg.MinSamples, "min-samples", judge.DefaultMinSamples, "fewest samples per side that are judged")
	f.StringVar(&o.nan, "nan", string(judge.NaNRemove), "NaN samples: remove, or replace (with 0)")
	f.StringVar(&o.outliers, "outliers", string(judge.OutliersKeep), "outliers beyond 3 IQRs: keep or remove")
	f.Float64Var(&o.cfg.AllowedIncrease, "allowed-increase", 0, "mean ratio under which an increase still passes (0: none)")
	f.Float64Var(&o.cfg.AllowedDecrease, "allowed-decrease", 0, "mean ratio over which a decrease still passes (0: none)")
	f.BoolVar(&o.cfg.LocationOnly, "location-only", false, "Kayenta's classifier alone, without the tail tests")
	f.StringVar(&o.cfg.Unit, "unit", "", "unit of the samples, for the text output (ms, percent, ...)")
	_ = cmd.MarkFlagRequired("baseline")
	_ = cmd.MarkFlagRequired("canary")
	return cmd
}

// runJudge reads both files, judges them and prints the result.
func runJudge(cmd *cobra.Command, o judgeOptions) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("unknown --output %q (have text, json)", o.output)
	}
	if o.baseline == "-" && o.canary == "-" {
		return fmt.Errorf("only one of --baseline and --canary can read stdin")
	}
	o.cfg.NaNStrategy, o.cfg.Outliers = judge.NaNStrategy(o.nan), judge.OutlierStrategy(o.outliers)
	if o.cfg.MinSamples < 1 {
		return fmt.Errorf("--min-samples %d: want at least 1", o.cfg.MinSamples)
	}
	baseline, err := readSamples(cmd.InOrStdin(), o.baseline)
	if err != nil {
		return err
	}
	canary, err := readSamples(cmd.InOrStdin(), o.canary)
	if err != nil {
		return err
	}
	in := judge.Input{Config: o.cfg, Requests: -1,
		Canary:   judge.Series{Value: math.NaN(), Samples: canary},
		Baseline: judge.Series{Value: math.NaN(), Samples: baseline}}
	res := judge.ClassifyMannWhitney(in, 0)
	if res.Classification == judge.Error && strings.HasPrefix(res.Reason, "unusable settings: ") {
		return fmt.Errorf("%s", strings.TrimPrefix(res.Reason, "unusable settings: "))
	}
	out := cmd.OutOrStdout()
	if o.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(newJudgeJSON(res))
	} else {
		err = writeJudgeText(out, res)
	}
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	switch res.Classification {
	case judge.High, judge.Low:
		return exitError{code: exitJudgeFailed}
	case judge.NoData, judge.Error:
		return exitError{code: exitJudgeInconclusive}
	}
	return nil
}

// readSamples reads the file at path ("-": stdin) with parseSamples.
func readSamples(stdin io.Reader, path string) ([]float64, error) {
	if path == "-" {
		return parseSamples(stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	defer f.Close()
	return parseSamples(f, path)
}

// maxSampleLine bounds one line of a samples file.
const maxSampleLine = 1 << 10

// parseSamples reads one number per line. Surrounding space, empty lines
// and lines starting with # are skipped; "NaN" (any case) is a step without
// a value, kept for the judge's NaN strategy. Anything else that is not a
// finite number (Inf, 1e999, text) is an error naming the line.
func parseSamples(r io.Reader, name string) ([]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64), maxSampleLine)
	var out []float64
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if strings.EqualFold(s, "nan") {
			out = append(out, math.NaN())
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) || (err == nil && (math.IsInf(v, 0) || math.IsNaN(v))):
			return nil, fmt.Errorf("%s:%d: %q is not a finite number", name, line, truncate(s, 40))
		case err != nil:
			return nil, fmt.Errorf("%s:%d: %q is not a number", name, line, truncate(s, 40))
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w (lines are at most %d bytes)", name, err, maxSampleLine)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// judgeJSON is the JSON form of a judged metric. Numbers that are NaN or
// infinite (no test ran, a zero baseline mean) are null.
type judgeJSON struct {
	Classification judge.Classification `json:"classification"`
	Reason         string               `json:"reason"`
	Estimate       *float64             `json:"estimate"`
	Lower          *float64             `json:"lower"`
	Upper          *float64             `json:"upper"`
	Level          *float64             `json:"level"`
	PValue         *float64             `json:"pValue"`
	Ratio          *float64             `json:"ratio"`
	Baseline       sideJSON             `json:"baseline"`
	Canary         sideJSON             `json:"canary"`
	Tails          []tailJSON           `json:"tails"`
}

type sideJSON struct {
	N        int      `json:"n"`
	Mean     *float64 `json:"mean"`
	Median   *float64 `json:"median"`
	NaN      int      `json:"nan"`
	Outliers int      `json:"outliers"`
}

type tailJSON struct {
	Kind          judge.TailKind `json:"kind"`
	Side          judge.TailSide `json:"side"`
	Quantile      float64        `json:"quantile"`
	Threshold     float64        `json:"threshold"`
	Canary        int            `json:"canary"`
	CanaryTotal   int            `json:"canaryTotal"`
	Baseline      int            `json:"baseline"`
	BaselineTotal int            `json:"baselineTotal"`
	PValue        float64        `json:"pValue"`
	Alpha         float64        `json:"alpha"`
	Significant   bool           `json:"significant"`
}

func newJudgeJSON(r judge.MetricResult) judgeJSON {
	side := func(s judge.SampleSummary) sideJSON {
		return sideJSON{N: s.N, Mean: jsonNumber(s.Mean), Median: jsonNumber(s.Median), NaN: s.NaN, Outliers: s.Outliers}
	}
	j := judgeJSON{Classification: r.Classification, Reason: r.Reason, Estimate: jsonNumber(r.Estimate),
		Lower: jsonNumber(r.Lower), Upper: jsonNumber(r.Upper), Level: jsonNumber(r.Level), PValue: jsonNumber(r.PValue),
		Ratio: jsonNumber(r.Ratio), Baseline: side(r.BaselineSamples), Canary: side(r.CanarySamples), Tails: []tailJSON{}}
	if j.Estimate == nil {
		j.Level = nil
	}
	for _, t := range r.Tails {
		j.Tails = append(j.Tails, tailJSON{Kind: t.Kind, Side: t.Side, Quantile: t.Quantile, Threshold: t.Threshold, Canary: t.Canary,
			CanaryTotal: t.CanaryTotal, Baseline: t.Baseline, BaselineTotal: t.BaselineTotal, PValue: t.PValue,
			Alpha: t.Alpha, Significant: t.Significant})
	}
	return j
}

// jsonNumber is v, or nil when JSON cannot hold it.
func jsonNumber(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// writeJudgeText prints the result for people.
func writeJudgeText(w io.Writer, r judge.MetricResult) error {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	side := func(s judge.SampleSummary) string {
		out := fmt.Sprintf("n=%d", s.N)
		if s.N > 0 {
			out += fmt.Sprintf(" mean=%s median=%s", num(s.Mean), num(s.Median))
		}
		if s.NaN > 0 || s.Outliers > 0 {
			out += fmt.Sprintf(" (%d NaN, %d outliers)", s.NaN, s.Outliers)
		}
		return out
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Classification)
	fmt.Fprintf(&b, "  canary    %s\n  baseline  %s\n", side(r.CanarySamples), side(r.BaselineSamples))
	if !math.IsNaN(r.Estimate) {
		fmt.Fprintf(&b, "  shift     %s, %s%% CI [%s, %s], p=%s, mean ratio %s\n", num(r.Estimate), num(100*r.Level),
			num(r.Lower), num(r.Upper), num(r.PValue), num(r.Ratio))
	}
	for _, t := range r.Tails {
		fmt.Fprintf(&b, "  %s\n", t)
	}
	fmt.Fprintf(&b, "  reason    %s\n", r.Reason)
	_, err := io.WriteString(w, b.String())
	return err
}
