package rietest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTakenRuntimeAPIPort: an emulator whose Runtime API port is taken dies,
// start reports it, and Start then comes up on other ports.
func TestTakenRuntimeAPIPort(t *testing.T) {
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		t.Skip("aws-lambda-rie is not on PATH")
	}
	boot := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(boot, []byte("#!/bin/sh\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	f, ok := start(t, rie, boot, "h", nil, freeAddr(t), taken.Addr().String())
	if ok {
		f.Stop()
		t.Fatal("start succeeded with its Runtime API port taken")
	}
	if !strings.Contains(f.Output(), "failed to listen") {
		t.Errorf("output does not say why:\n%s", f.Output())
	}
	g := Start(t, boot, "h", nil)
	if !strings.HasPrefix(g.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q", g.URL)
	}
}
