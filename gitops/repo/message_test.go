package repo

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestMessageString(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{name: "subject only", msg: Message{Subject: "birdwatch: hold"}, want: "birdwatch: hold\n"},
		{name: "subject and body", msg: Message{Subject: "s", Body: "\n\n  table row\nline 2\n\n"}, want: "s\n\n  table row\nline 2\n"},
		{name: "subject and trailers", msg: Message{Subject: "s", Trailers: []Trailer{{"A", "1"}, {"B-C", " 2 "}}}, want: "s\n\nA: 1\nB-C: 2\n"},
		{name: "all parts", msg: decisionMessage("games/aleph"), want: "birdwatch: games/aleph v04 weight 1 -> 10 (step 3/7)\n\n" +
			"error-rate   Pass  canary 0.11% vs baseline 0.10%\nlatency-p99  Pass  canary 212ms vs baseline 205ms\nscore 100 (pass >= 75)\n\n" +
			"Birdwatch-Canary: games/aleph\nBirdwatch-Decision: advance\nBirdwatch-Trigger: schedule\n"},
		{name: "CRLF body and trailing spaces", msg: Message{Subject: " s ", Body: "a  \r\nb\r\n"}, want: "s\n\na\nb\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.msg.String(); got != tc.want {
				t.Fatalf("String() =\n%q\nwant\n%q", got, tc.want)
			}
			if got := ParseTrailers(tc.msg.String()); !reflect.DeepEqual(got, normTrailers(tc.msg.Trailers)) {
				t.Fatalf("ParseTrailers(String()) = %v, want %v", got, tc.msg.Trailers)
			}
		})
	}
}

func normTrailers(in []Trailer) []Trailer {
	var out []Trailer
	for _, t := range in {
		out = append(out, Trailer{Key: t.Key, Value: strings.TrimSpace(t.Value)})
	}
	return out
}

// TestParseTrailersMatchesGit compares ParseTrailers with the real
// `git interpret-trailers --parse` on the same messages.
func TestParseTrailersMatchesGit(t *testing.T) {
	requireGit(t)
	tests := []struct {
		name string
		msg  string
	}{
		{name: "birdwatch decision", msg: decisionMessage("games/aleph").String()},
		{name: "subject only", msg: "Key: value looks like a trailer but is the subject\n"},
		{name: "subject then trailers", msg: "subject\n\nA: 1\nB: 2\n"},
		{name: "body paragraph is last", msg: "subject\n\nA: 1\n\nplain text\n"},
		{name: "mixed without git trailer", msg: "subject\n\nA: 1\nnot a trailer line\n"},
		{name: "mixed with signed-off-by", msg: "subject\n\nbody\n\nsome text\nSigned-off-by: A <a@b>\nCo-authored-by: C <c@d>\n"},
		{name: "too few trailers", msg: "subject\n\none\ntwo\nthree\nfour\nSigned-off-by: A <a@b>\n"},
		{name: "continuation line", msg: "subject\n\nA: first\n  second part\nB: 2\n"},
		{name: "space before colon", msg: "subject\n\nA : 1\n"},
		{name: "no space after colon", msg: "subject\n\nA:1\n"},
		{name: "key with space", msg: "subject\n\nNot A Key: 1\n"},
		{name: "trailing blank lines", msg: "subject\n\nA: 1\n\n\n"},
		{name: "CRLF", msg: "subject\r\n\r\nA: 1\r\nB: 2\r\n"},
		{name: "url-looking line", msg: "subject\n\nSee: https://example.com/x\n"},
		{name: "empty value", msg: "subject\n\nA:\nB: 2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("git", "interpret-trailers", "--parse")
			cmd.Env = gitEnv(t.TempDir())
			cmd.Stdin = strings.NewReader(tc.msg)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			var want []Trailer
			for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				if line == "" {
					continue
				}
				k, v, _ := strings.Cut(line, ":")
				want = append(want, Trailer{Key: k, Value: strings.TrimSpace(v)})
			}
			if got := ParseTrailers(tc.msg); !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseTrailers = %q, git says %q", got, want)
			}
		})
	}
}

// FuzzParseTrailers checks that any input parses without panic into valid
// trailers, and that a rendered Message reads back its own trailers.
func FuzzParseTrailers(f *testing.F) {
	f.Add("subject\n\nA: 1\n", "K", "v")
	f.Add(decisionMessage("x/y").String(), "Birdwatch-Step", "3")
	f.Add("s\n\n\tA: b\n c\n", "-", "")
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		for _, tr := range ParseTrailers(msg) {
			if !isTrailerKey(tr.Key) || strings.ContainsAny(tr.Value, "\n") {
				t.Fatalf("invalid trailer %q from %q", tr, msg)
			}
		}
		m := Message{Subject: "subject", Body: msg, Trailers: []Trailer{{Key: key, Value: value}}}
		if m.validate() != nil {
			return
		}
		got := ParseTrailers(m.String())
		if len(got) == 0 || got[len(got)-1] != (Trailer{Key: key, Value: strings.TrimSpace(value)}) {
			t.Fatalf("rendered %q, parsed %q", m.String(), got)
		}
	})
}
