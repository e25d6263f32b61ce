package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSamples writes one file of samples and returns its path.
func writeSamples(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lines renders values one per line.
func lines(vals ...float64) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "%g\n", v)
	}
	return b.String()
}

func seq(from, step float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = from + step*float64(i)
	}
	return v
}

func repeated(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// judgeOutput is the JSON the command prints, as a script would read it.
type judgeOutput struct {
	Classification string   `json:"classification"`
	Reason         string   `json:"reason"`
	Estimate       *float64 `json:"estimate"`
	Lower          *float64 `json:"lower"`
	Upper          *float64 `json:"upper"`
	PValue         *float64 `json:"pValue"`
	Baseline       struct {
		N    int      `json:"n"`
		Mean *float64 `json:"mean"`
	} `json:"baseline"`
	Canary struct {
		N    int      `json:"n"`
		Mean *float64 `json:"mean"`
		NaN  int      `json:"nan"`
	} `json:"canary"`
	Tails []struct {
		Side        string `json:"side"`
		Significant bool   `json:"significant"`
	} `json:"tails"`
}

func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

func TestJudgeCommand(t *testing.T) {
	base := lines(seq(100, 1, 30)...)
	sevenHundreds := lines(append(repeated(1, 13), repeated(100, 7)...)...)
	tests := []struct {
		name       string
		baseline   string
		canary     string
		args       []string
		stdin      string
		assertions func(t *testing.T, stdout string, err error)
	}{
		{"a shifted canary is High, exit 2, with every JSON field", base, lines(seq(120, 1, 30)...), []string{"--output", "json"}, "",
			func(t *testing.T, stdout string, err error) {
				out := decodeJudge(t, stdout)
				if exitCode(err) != 2 || out.Classification != "High" || out.Estimate == nil || *out.Estimate != 20 ||
					out.Lower == nil || !(*out.Lower > 5) || out.Upper == nil || out.PValue == nil || !(*out.PValue < 1e-6) ||
					out.Baseline.N != 30 || *out.Baseline.Mean != 114.5 || out.Canary.N != 30 || *out.Canary.Mean != 134.5 ||
					!strings.Contains(out.Reason, "shift +20") {
					t.Errorf("exit %d, %s", exitCode(err), stdout)
				}
			}},
		{"a healthy canary passes in text", base, lines(seq(100.5, 1, 30)...), nil, "",
			func(t *testing.T, stdout string, err error) {
				if err != nil || !strings.HasPrefix(stdout, "Pass\n") || !strings.Contains(stdout, "98% CI") || !strings.Contains(stdout, "upper tail") {
					t.Errorf("err %v, stdout:\n%s", err, stdout)
				}
			}},
		{"a decrease is harmless unless the direction says so", base, lines(seq(60, 1, 30)...), []string{"--direction", "either"}, "",
			func(t *testing.T, stdout string, err error) {
				if exitCode(err) != 2 || !strings.HasPrefix(stdout, "Low\n") {
					t.Errorf("exit %d, stdout:\n%s", exitCode(err), stdout)
				}
			}},
		{"seven 100s among 1s fail", lines(repeated(1, 20)...), sevenHundreds, nil, "",
			func(t *testing.T, stdout string, err error) {
				if exitCode(err) != 2 || !strings.Contains(stdout, "upper tail: 7 of 20 canary vs 0 of 20 baseline samples above 1") {
					t.Errorf("exit %d, stdout:\n%s", exitCode(err), stdout)
				}
			}},
		{"seven 100s among 1s pass Kayenta's classifier alone", lines(repeated(1, 20)...), sevenHundreds, []string{"--location-only"}, "",
			func(t *testing.T, stdout string, err error) {
				if err != nil || !strings.HasPrefix(stdout, "Pass\n") {
					t.Errorf("err %v, stdout:\n%s", err, stdout)
				}
			}},
		{"the canary from stdin, with comments, blanks and NaN", base, "-", []string{"--output", "json", "--nan", "replace"},
			"# canary\n\n" + lines(seq(100, 1, 29)...) + "NaN\n",
			func(t *testing.T, stdout string, err error) {
				out := decodeJudge(t, stdout)
				if out.Canary.N != 30 || out.Canary.NaN != 1 || len(out.Tails) != 2 {
					t.Errorf("err %v, %s", err, stdout)
				}
			}},
		{"empty files are NoData, exit 3, with nulls", "", "", []string{"--output", "json"}, "",
			func(t *testing.T, stdout string, err error) {
				out := decodeJudge(t, stdout)
				if exitCode(err) != 3 || out.Classification != "NoData" || out.Estimate != nil || out.Canary.Mean != nil ||
					out.Reason != "0 canary and 0 baseline samples, needs 10 a side" {
					t.Errorf("exit %d, %s", exitCode(err), stdout)
				}
			}},
		{"identical sides pass", base, base, nil, "",
			func(t *testing.T, stdout string, err error) {
				if err != nil || !strings.Contains(stdout, "identical") {
					t.Errorf("err %v, stdout:\n%s", err, stdout)
				}
			}},
		{"one side constant is judged", base, lines(repeated(130, 30)...), nil, "",
			func(t *testing.T, stdout string, err error) {
				if exitCode(err) != 2 || !strings.HasPrefix(stdout, "High\n") {
					t.Errorf("exit %d, stdout:\n%s", exitCode(err), stdout)
				}
			}},
		{"a word names its file and line", base, "1\n2\nabc\n", nil, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.HasSuffix(err.Error(), `canary.txt:3: "abc" is not a number`) || exitCode(err) != 1 {
					t.Errorf("err %v", err)
				}
			}},
		{"Inf is refused", "1\n-Inf\n", base, nil, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.HasSuffix(err.Error(), `baseline.txt:2: "-Inf" is not a finite number`) {
					t.Errorf("err %v", err)
				}
			}},
		{"a number beyond float64 is refused", base, "1e999\n", nil, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), `"1e999" is not a finite number`) {
					t.Errorf("err %v", err)
				}
			}},
		{"both from stdin is an error", "-", "-", nil, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), "only one of --baseline and --canary") {
					t.Errorf("err %v", err)
				}
			}},
		{"a bad direction is an error, not a result", base, base, []string{"--direction", "up"}, "",
			func(t *testing.T, stdout string, err error) {
				if err == nil || !strings.Contains(err.Error(), `direction "up"`) || stdout != "" {
					t.Errorf("err %v, stdout %q", err, stdout)
				}
			}},
		{"a bad confidence is an error", base, base, []string{"--confidence", "98"}, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), "confidence 98 not in (0, 1)") {
					t.Errorf("err %v", err)
				}
			}},
		{"a bad output is an error", base, base, []string{"--output", "yaml"}, "",
			func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), `unknown --output "yaml"`) {
					t.Errorf("err %v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := func(name, content string) string {
				if content == "-" {
					return "-"
				}
				return writeSamples(t, name, content)
			}
			args := append([]string{"judge", "--baseline", path("baseline.txt", tt.baseline), "--canary", path("canary.txt", tt.canary)}, tt.args...)
			root := newRootCommand()
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetIn(strings.NewReader(tt.stdin))
			root.SetArgs(args)
			err := root.ExecuteContext(t.Context())
			tt.assertions(t, out.String(), err)
		})
	}
}

func decodeJudge(t *testing.T, stdout string) judgeOutput {
	t.Helper()
	var out judgeOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	return out
}

func TestJudgeCommandNeedsBothFiles(t *testing.T) {
	_, _, err := run(t, "judge", "--canary", "x")
	if err == nil || !strings.Contains(err.Error(), `required flag(s) "baseline" not set`) {
		t.Errorf("err %v", err)
	}
}

// FuzzParseSamples: any input gives finite numbers or NaN, or an error
// naming the line; never a panic.
func FuzzParseSamples(f *testing.F) {
	for _, s := range []string{"1\n2\n3\n", "# c\n\n NaN \n-0\n", "1e999\n", "Inf\n", "0x1p-2\n", "1_000\n", "", "\xff\n", "1,5\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseSamples(strings.NewReader(s), "f")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		for _, x := range v {
			if math.IsInf(x, 0) {
				t.Fatalf("infinite sample from %q", s)
			}
		}
	})
}
