package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/internal/promtest"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium; outside -short its absence is a
// failure (make test and .ci/run install it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testing.Short() {
		t.Skip("needs chromium")
	}
	t.Fatal("no chromium: apt-get install chromium (make deps does)")
	return ""
}

// browser starts headless Chromium as the probe of this machine does:
// no sandbox (root), no GPU, no background networking, a fresh profile.
func browser(t *testing.T, ctx context.Context, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// rolledBackAleph is the aleph example rolled back from v04 (its status in
// Git), with Istio metrics of that rollout backfilled into a real
// Prometheus: v04 answers 503 to half its requests, v03 to 0.1%.
func rolledBackAleph(t *testing.T) (*fleet.Repo, *promtest.Server) {
	t.Helper()
	status, err := os.ReadFile("../../report/testdata/report/status-rolledback.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := reportFleet(t, string(status))
	start := time.Date(2026, 11, 20, 11, 50, 0, 0, time.UTC)
	gen := promtest.Istio{Service: "aleph", Namespace: "games", Start: start, End: start.Add(30 * time.Minute), Step: 10 * time.Second, Seed: 5,
		Versions: []promtest.IstioVersion{
			{Version: "v03", RPS: 100, ErrorRatio: 0.001, LatencyMedianMs: 40, LatencySigma: 0.3},
			{Version: "v04", RPS: 20, ErrorRatio: 0.5, LatencyMedianMs: 40, LatencySigma: 0.3},
		}}
	fams, err := gen.Generate()
	if err != nil {
		t.Fatal(err)
	}
	om, err := promtest.OpenMetrics(fams)
	if err != nil {
		t.Fatal(err)
	}
	return f, promtest.Start(t, promtest.Options{OpenMetrics: om})
}

// startServeUI runs `birdwatch serve --ui` in-process with the scheduler
// off, and returns its base URL.
func startServeUI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	addr := make(chan string, 1)
	cmd := newServeCommandWith(func(a string) { addr <- a })
	cmd.SetArgs(append([]string{"--addr", "127.0.0.1:0", "--every", "0", "--ui", "--ui-refresh", "1s", "--log-format", "json"}, args...))
	logs := &lockedBuffer{}
	cmd.SetErr(logs)
	cmd.SetOut(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs)
	}
	return ""
}

// TestPagesInABrowser loads the fleet and the rollout page of a running
// `serve --ui` (real repository, real Prometheus) in headless Chromium:
// the DOM shows the canary and its phase, the charts are real non-blank
// images, a phone-sized window needs no sideways scrolling, and a decision
// committed while the page is open reaches it without a reload.
// BIRDWATCH_UI_SCREENSHOTS=DIR keeps the screenshots (docs/ holds them).
func TestPagesInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("needs chromium and a real Prometheus")
	}
	f, prom := rolledBackAleph(t)
	dir := t.TempDir()
	const token = "ui-browser-token-93c1"
	if err := os.WriteFile(filepath.Join(dir, "ui-token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServeUI(t, "--repo", f.URL(), "--cache-dir", filepath.Join(dir, "serve-cache"), "--prometheus", prom.URL(),
		"--ui-token-file", filepath.Join(dir, "ui-token"))
	shots := os.Getenv("BIRDWATCH_UI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	b := browser(t, ctx, 1280, 900)

	// The one-time link sets the cookie and lands on the fleet without the token.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/?token="+token), chromedp.WaitVisible(`tr[data-canary="games/aleph"]`)); err != nil {
		t.Fatal(err)
	}
	location := must(t, b, chromedp.Location())
	canary := must(t, b, chromedp.Text(`tr[data-canary="games/aleph"] td:first-child`))
	phase := must(t, b, chromedp.Text(`tr[data-canary="games/aleph"] .badge`))
	if location != base+"/" || canary != "games/aleph" || phase != "RolledBack" {
		t.Errorf("fleet: at %s, canary %q, phase %q", location, canary, phase)
	}
	if sparks := must(t, b, chromedp.Evaluate[int](`document.querySelectorAll('tr[data-canary="games/aleph"] svg.spark polyline').length`)); sparks < 2 {
		t.Errorf("fleet sparklines: %d polylines", sparks)
	}
	screenshot(t, b, filepath.Join(shots, "ui-fleet.png"))

	// The rollout page: the report's charts, as images the browser decoded.
	if err := chromedp.Do(b, chromedp.Navigate(base+"/canaries/games/aleph"), chromedp.WaitVisible(`.charts img`)); err != nil {
		t.Fatal(err)
	}
	srcs := must(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('.charts img')).map(i => i.src)`))
	decoded := must(t, b, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll('.charts img')).every(i => i.complete && i.naturalWidth > 0)`))
	if len(srcs) != 2 || !decoded {
		t.Errorf("rollout page: %d charts, decoded %v", len(srcs), decoded)
	}
	for _, src := range srcs {
		assertNotBlank(t, src)
	}
	screenshot(t, b, filepath.Join(shots, "ui-rollout.png"))

	// A phone: the fleet fits the width (rows become cards).
	phone := browser(t, ctx, 390, 844)
	if err := chromedp.Do(phone, chromedp.Navigate(base+"/?token="+token), chromedp.WaitVisible(`tr[data-canary="games/aleph"]`)); err != nil {
		t.Fatal(err)
	}
	if must(t, phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Error("the fleet scrolls sideways on a phone")
	}
	screenshot(t, phone, filepath.Join(shots, "ui-fleet-phone.png"))

	// A decision committed while the page is open: a developer ships v05,
	// birdwatch starts its rollout, and the open page shows it without a
	// reload (the marker set on the window survives).
	if err := chromedp.Do(b, chromedp.Navigate(base+"/"), chromedp.WaitVisible(`tr[data-canary="games/aleph"]`)); err != nil {
		t.Fatal(err)
	}
	must(t, b, chromedp.Evaluate[int](`window.birdwatchMarker = 42`))
	if err := f.Commit(t.Context(), "aleph: ship v05", map[string]fleet.Edit{".birdwatch/aleph.yaml": func(old []byte) ([]byte, error) {
		return bytes.Replace(old, []byte("canary: v04"), []byte("canary: v05"), 1), nil
	}}); err != nil {
		t.Fatal(err)
	}
	if out, _, err := run(t, "run", "--once", "--repo", f.URL(), "--cache-dir", filepath.Join(dir, "run-cache"), "--prometheus", prom.URL()); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	var row string
	var marker int
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		// One script reads the row: the refresh may replace it between a
		// node lookup and a text read (chromedp.Text then fails with "No node
		// with given id found").
		row = must(t, b, chromedp.Evaluate[string](`(document.querySelector('tr[data-canary="games/aleph"]') || {innerText: ""}).innerText`))
		marker = must(t, b, chromedp.Evaluate[int](`window.birdwatchMarker || 0`))
		if strings.Contains(row, "v05") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(row, "v05") || strings.Contains(row, "RolledBack") || marker != 42 {
		t.Errorf("after the decision: row %q, marker %d (0: the page reloaded)", row, marker)
	}
	screenshot(t, b, filepath.Join(shots, "ui-fleet-updated.png"))
}

// must runs one browser action and returns its value; an error ends the test.
func must[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// screenshot saves the whole page as a PNG and checks it is not blank.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	buf := must(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil || colours(img) < 8 {
		t.Errorf("%s: %v, blank", path, err)
	}
}

// assertNotBlank decodes a data: URI PNG and checks that it draws something.
func assertNotBlank(t *testing.T, src string) {
	t.Helper()
	data, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Errorf("chart is not an inline PNG: %.40s", src)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Error(err)
		return
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || colours(img) < 8 {
		t.Errorf("chart: %v, %d colours", err, colours(img))
	}
}

// colours counts the distinct colours of img (at most 64 are counted).
func colours(img image.Image) int {
	if img == nil {
		return 0
	}
	seen := map[[4]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y && len(seen) < 64; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X && len(seen) < 64; x += 3 {
			r, g, b, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, b, a}] = true
		}
	}
	return len(seen)
}
