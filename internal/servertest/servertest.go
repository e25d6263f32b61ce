// Package servertest starts real metrics servers from Debian packages
// (victoria-metrics, influxd) for tests, each on a free port in a
// temporary directory, and stops them when the test ends. A missing binary
// fails the test, or skips it under -short, as CI must install them
// (.ci/run, make deps).
package servertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Binary returns the path of the named program, failing t (or skipping it
// under -short) when it is not installed.
func Binary(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s not installed (Debian package %s)", name, debianPackage)
		}
		t.Fatalf("%s not installed: apt-get install %s (make deps)", name, debianPackage)
	}
	return path
}

// FreeAddr returns a free 127.0.0.1 port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs bin with args in dir, logging to dir/server.log, and waits
// until GET ready answers 2xx (or 204) within a minute; the process is
// killed when t ends.
func Start(t testing.TB, dir, bin, ready string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		log.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		select {
		case err := <-done:
			t.Fatalf("%s exited: %v\n%s", filepath.Base(bin), err, tail(log.Name()))
		case <-ctx.Done():
			t.Fatalf("%s not ready at %s after a minute\n%s", filepath.Base(bin), ready, tail(log.Name()))
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
	}
}

// Post sends body to url and fails t unless the answer is 2xx.
func Post(t testing.TB, url, contentType, body string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return fmt.Sprintf("--- %s ---\n%s", path, b)
}
