package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/birdwatch-gitops/birdwatch/functions/webhook"
)

// TestServeMemoryUnderAFloodOfForgedDeliveries starts `birdwatch serve` as
// the shipped Deployment runs it (GOMEMLIMIT=230MiB under a 256 Mi limit)
// and sends 300 forged 5 MB deliveries at once over loopback, as an
// attacker without the webhook secret could. During the flood /healthz and
// a correctly signed delivery (from another loopback address, 127.0.0.2)
// are answered; afterwards the process's peak resident memory (VmHWM) must
// be under 200 MiB. Without a bound on bodies in flight it reached 631 MB.
func TestServeMemoryUnderAFloodOfForgedDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1.5 GB over loopback")
	}
	f := serveFleet(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "birdwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	secret := "whsec-flood-test-31c9"
	if err := os.WriteFile(filepath.Join(dir, "webhook"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--repo", f.URL(), "--cache-dir", filepath.Join(dir, "cache"), "--addr", "127.0.0.1:0",
		"--every", "1h", "--prometheus", "http://127.0.0.1:1", "--log-format", "json", "--github-repo", "acme/fleet",
		"--github-webhook-secret-file", filepath.Join(dir, "webhook"))
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=230MiB")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + listeningAddr(t, stderr)

	forged := bytes.Repeat([]byte("x"), 5_000_000)
	var wg sync.WaitGroup
	codes := make(chan int, 300)
	start := make(chan struct{})
	for range 300 {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/github", bytes.NewReader(forged))
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprint(time.Now().UnixNano()))
			req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("ab", 32))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0 // the server closed a connection whose body it refused to read
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	close(start)

	// During the flood: liveness, and a real delivery from another address.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	time.Sleep(50 * time.Millisecond) // let the flood start
	if resp, err := other.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz during the flood: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":498765432,"repository":{"full_name":"acme/fleet"}}`)
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/github", bytes.NewReader(ping))
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", "d7c1a6f0-0000-11f1-8000-flood0000001")
	req.Header.Set("X-Hub-Signature-256", webhook.SignGitHub([]byte(secret), ping))
	if resp, err := other.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("a signed delivery during the flood: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	peak := vmHWM(t, cmd.Process.Pid)
	t.Logf("responses to the forged deliveries: %v; peak RSS %d MiB", count, peak>>20)
	if count[http.StatusAccepted]+count[http.StatusOK] > 0 {
		t.Errorf("forged deliveries accepted: %v", count)
	}
	if peak >= 200<<20 {
		t.Errorf("peak resident memory %d MiB, want under 200 MiB", peak>>20)
	}
}

// listeningAddr reads serve's JSON log until its "listening" line.
func listeningAddr(t *testing.T, stderr io.Reader) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before listening")
			}
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "listening" {
				go func() {
					for range lines {
					}
				}()
				return rec.Addr
			}
		case <-ctx.Done():
			t.Fatal("serve did not start listening")
		}
	}
}

// vmHWM is a process's peak resident set size in bytes, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
