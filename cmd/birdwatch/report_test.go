package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/report"
)

// reportFleet makes a fleet repository holding the aleph example and,
// if status is not empty, that status file.
func reportFleet(t *testing.T, status string) *fleet.Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	files, err := fleet.ExampleFiles("aleph")
	if err != nil {
		t.Fatal(err)
	}
	if status != "" {
		files[".birdwatch/status/games/aleph.yaml"] = status
	}
	f, err := fleet.CreateFiles(t.Context(), t.TempDir(), files, "fleet: aleph")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReportWithoutMetrics(t *testing.T) {
	f := reportFleet(t, "")
	common := []string{"--repo", f.URL(), "--cache-dir", filepath.Join(t.TempDir(), "cache")}
	if out, _, err := run(t, append([]string{"run", "--once", "--prometheus", "http://127.0.0.1:1"}, common...)...); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	dir := t.TempDir()
	htmlFile, pngDir := filepath.Join(dir, "aleph.html"), filepath.Join(dir, "charts")
	out, _, err := run(t, append([]string{"report", "--html", htmlFile, "--png", pngDir, "--markdown", "-"}, common...)...)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	for _, want := range []string{"### games/aleph `v04` vs `v03`: WaitingForSync", "| error-rate (critical) | not analysed |", "wrote " + htmlFile} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "```mermaid") {
		t.Error("Mermaid chart without series")
	}
	page, err := os.ReadFile(htmlFile)
	if err != nil || strings.Count(string(page), `<img src="data:image/png;base64,`) != 2 {
		t.Errorf("html page: %v, %d images", err, strings.Count(string(page), "<img"))
	}
	for _, name := range []string{"games_aleph_error-rate.png", "games_aleph_latency-p99.png"} {
		assertPNG(t, filepath.Join(pngDir, name))
	}
	// Without an output flag, the terminal view.
	out, _, err = run(t, append([]string{"report", "--canary", "games/aleph"}, common...)...)
	if err != nil || !strings.Contains(out, "games/aleph  v04 vs v03  WaitingForSync  step 2/7  weight 1%") {
		t.Errorf("terminal view: %v\n%s", err, out)
	}
	if _, _, err := run(t, append([]string{"report", "--canary", "games/nope"}, common...)...); !errors.Is(err, errNoCanary) {
		t.Errorf("unknown canary: %v", err)
	}
}

func assertPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() != report.DefaultChartWidth {
		t.Errorf("%s: %v, bounds %v", path, err, img)
	}
}

// TestReportAndStatusWithPrometheus reports a rolled-back rollout whose
// status is in Git, over Istio metrics backfilled into a real Prometheus:
// v04 answers 503 to half its requests, v03 to 0.1%.
func TestReportAndStatusWithPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Prometheus")
	}
	f, prom := rolledBackAleph(t)
	common := []string{"--repo", f.URL(), "--cache-dir", filepath.Join(t.TempDir(), "cache"), "--prometheus", prom.URL()}
	pngDir := t.TempDir()
	out, _, err := run(t, append([]string{"report", "--png", pngDir, "--markdown", "-"}, common...)...)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if n := strings.Count(out, "```mermaid"); n != 2 {
		t.Fatalf("%d Mermaid charts, want 2:\n%s", n, out)
	}
	// The error-rate chart comes first; its first line is the canary, near
	// 50%, its second the baseline, near 0.1%.
	lines := regexp.MustCompile(`(?m)^    line \[(.*)\]$`).FindAllStringSubmatch(out, -1)
	for i, want := range []struct{ lo, hi float64 }{{40, 60}, {0, 1}} {
		for _, v := range strings.Split(lines[i][1], ", ") {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x < want.lo || x > want.hi {
				t.Errorf("line %d value %s, want within [%v, %v]", i, v, want.lo, want.hi)
			}
		}
	}
	assertPNG(t, filepath.Join(pngDir, "games_aleph_error-rate.png"))

	out, _, err = run(t, append([]string{"status"}, common...)...)
	t.Logf("birdwatch status:\n%s", out)
	if err != nil || !strings.Contains(out, "games/aleph  v04 vs v03  RolledBack") || !regexp.MustCompile(`error-rate\s+canary\s+[▁-█ ]{40}  2\.10%`).MatchString(out) {
		t.Errorf("status with sparklines: %v\n%s", err, out)
	}
}

func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	frames := 0
	var out bytes.Buffer
	err := watch(ctx, &out, time.Millisecond, func(w io.Writer) error {
		frames++
		if frames == 3 {
			cancel()
			return errors.New("repository unreachable")
		}
		_, err := io.WriteString(w, "frame "+strconv.Itoa(frames))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if frames != 3 || strings.Count(got, "\x1b[H\x1b[2J") != 3 || !strings.Contains(got, "frame 2") || !strings.Contains(got, "error: repository unreachable") {
		t.Errorf("%d frames:\n%q", frames, got)
	}
}

func TestPickReport(t *testing.T) {
	a, b := report.Report{Canary: "games/aleph"}, report.Report{Canary: "games/beth"}
	tests := []struct {
		name    string
		reports []report.Report
		key     string
		want    string
		wantErr string
	}{
		{name: "the only one", reports: []report.Report{a}, want: "games/aleph"},
		{name: "named", reports: []report.Report{a, b}, key: "games/beth", want: "games/beth"},
		{name: "ambiguous", reports: []report.Report{a, b}, wantErr: "give --canary, one of games/aleph, games/beth"},
		{name: "unknown", reports: []report.Report{a}, key: "games/gimel", wantErr: "games/gimel is not one of games/aleph"},
		{name: "none", wantErr: "the repository has no canary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickReport(tc.reports, tc.key)
			if tc.wantErr != "" {
				if !errors.Is(err, errNoCanary) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Canary != tc.want {
				t.Errorf("got %q, %v", got.Canary, err)
			}
		})
	}
}
