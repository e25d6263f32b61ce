package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/internal/fleet"
	"github.com/birdwatch-gitops/birdwatch/templates"
)

// TestRunSignsCommits: with BIRDWATCH_GIT_SIGNING_KEY_FILE, `run --once`
// commits a decision that `git verify-commit` accepts; an unusable or
// missing key stops the run with an error naming the setting, and nothing
// is committed.
func TestRunSignsCommits(t *testing.T) {
	for _, bin := range []string{"git", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("needs %s", bin)
		}
	}
	example, err := fs.Sub(templates.Examples, "examples/aleph")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Create(t.Context(), t.TempDir(), example, "fleet: initial")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	keyFile, allowed, garbage := filepath.Join(dir, "key"), filepath.Join(dir, "allowed"), filepath.Join(dir, "garbage")
	for p, content := range map[string]string{
		keyFile: string(pem.EncodeToMemory(block)),
		allowed: repo.DefaultAuthorEmail + " " + string(ssh.MarshalAuthorizedKey(sp)),
		garbage: "not a key\n",
	} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"run", "--once", "--repo", f.URL(), "--cache-dir", filepath.Join(dir, "cache"), "--prometheus", "http://127.0.0.1:1"}
	for _, bad := range []string{garbage, filepath.Join(dir, "missing")} {
		before, _ := f.Subjects(t.Context())
		_, _, err := run(t, append(common, "--git-signing-key-file", bad)...)
		after, _ := f.Subjects(t.Context())
		if err == nil || !strings.Contains(err.Error(), "BIRDWATCH_GIT_SIGNING_KEY") || len(after) != len(before) {
			t.Fatalf("run with key %s: %v; commits %d -> %d; want an error naming the setting, nothing committed", bad, err, len(before), len(after))
		}
		t.Logf("refused: %v", err)
	}
	if out, _, err := run(t, append(common, "--git-signing-key-file", keyFile)...); err != nil || !strings.Contains(out, "advance") {
		t.Fatalf("run: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", "main")
	cmd.Dir = f.Bare
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `Good "git" signature for `+repo.DefaultAuthorEmail) {
		t.Fatalf("git verify-commit: %v\n%s", err, out)
	}
}
