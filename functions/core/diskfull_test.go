package core

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDiskFullCacheConverges fills the file system of the Git cache (a small
// tmpfs, so it needs root and mount; skipped otherwise): the run fails with
// a clear error and commits nothing; once space is back, the rerun makes the
// decision exactly once.
func TestDiskFullCacheConverges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	f := newFleet(t, slowApply)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
	c := newClock(dataEnd.Add(-time.Hour))
	e := newEngine(t, openRepoIn(t, f.URL(), mnt), "http://127.0.0.1:1", c)
	// Fill what is left of the file system.
	filler := filepath.Join(mnt, "filler")
	fill, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := fill.Write(chunk); err != nil {
			break
		}
	}
	_ = fill.Close()
	_, err = e.Run(t.Context(), Request{Trigger: "test"})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("run on a full disk: %v", err)
	}
	if n := len(subjects(t, f)); n != 1 {
		t.Fatalf("%d commits after the failed run", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		runOnce(t, e)
	}
	got := subjects(t, f)
	if len(got) != 2 || !strings.Contains(got[0], "advance, weight 0 -> 10") {
		t.Errorf("history after space came back %q", got)
	}
}
