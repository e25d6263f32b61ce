package repo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"
)

// sshKey returns a new ed25519 key in OpenSSH form (encrypted with
// passphrase when not "") and its allowed_signers line for email.
func sshKey(t *testing.T, passphrase, email string) (key []byte, allowed string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase != "" {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	} else {
		block, err = ssh.MarshalPrivateKey(priv, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), email + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

// pgpKey returns a new armored OpenPGP secret key (encrypted with
// passphrase when not "") and its armored public key.
func pgpKey(t *testing.T, passphrase string) (secret, public []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("birdwatch", "", DefaultAuthorEmail, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
	}
	var sec bytes.Buffer
	w, _ = armor.Encode(&sec, openpgp.PrivateKeyType, nil)
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return sec.Bytes(), pub.Bytes()
}

// requireSigned installs a pre-receive hook in the upstream that refuses
// any pushed commit `git verify-commit` does not accept (SSH signatures
// against allowedSigners, OpenPGP ones against the keyring in gnupgHome),
// as a host's "require signed commits" rule does.
func requireSigned(t *testing.T, u *upstream, allowedSigners, gnupgHome string) {
	t.Helper()
	hook := fmt.Sprintf(`#!/bin/sh
export GNUPGHOME=%q
while read old new ref; do
  for c in $(git rev-list "$new" --not --all); do
    if ! git -c gpg.ssh.allowedSignersFile=%q verify-commit "$c" 2>/dev/null; then
      echo "commit $c is not signed by an allowed key" >&2
      exit 1
    fi
  done
done
`, gnupgHome, allowedSigners)
	if err := os.WriteFile(filepath.Join(u.bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSignedCommits: commits signed with an SSH or OpenPGP key pass a
// "require signed commits" server rule and `git verify-commit`; a key the
// server does not allow, or no key, pushes nothing.
func TestSignedCommits(t *testing.T) {
	for _, bin := range []string{"ssh-keygen", "gpg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not in PATH (Debian packages openssh-client, gnupg)", bin)
		}
	}
	dir := t.TempDir()
	sshGood, allowed := sshKey(t, "", DefaultAuthorEmail)
	sshEncrypted, allowedEncrypted := sshKey(t, "hunter2", DefaultAuthorEmail)
	sshStranger, _ := sshKey(t, "", DefaultAuthorEmail)
	pgpSecret, pgpPublic := pgpKey(t, "")
	pgpEncSecret, pgpEncPublic := pgpKey(t, "s3same")
	allowedFile := filepath.Join(dir, "allowed_signers")
	writeFile(t, allowedFile, allowed+"\n"+allowedEncrypted+"\n")
	gnupg := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, pub := range [][]byte{pgpPublic, pgpEncPublic} {
		cmd := exec.Command("gpg", "--batch", "--quiet", "--import")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
		cmd.Stdin = bytes.NewReader(pub)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg --import: %v: %s", err, out)
		}
	}
	tests := []struct {
		name       string
		key        []byte // nil: no signing
		passphrase string
		accepted   bool
		showSig    string // in `git log --show-signature`
	}{
		{name: "ssh key", key: sshGood, accepted: true, showSig: `Good "git" signature for ` + DefaultAuthorEmail},
		{name: "encrypted ssh key", key: sshEncrypted, passphrase: "hunter2", accepted: true, showSig: `Good "git" signature`},
		{name: "openpgp key", key: pgpSecret, accepted: true, showSig: "Good signature from"},
		{name: "encrypted openpgp key", key: pgpEncSecret, passphrase: "s3same", accepted: true, showSig: "Good signature from"},
		{name: "ssh key the server does not allow", key: sshStranger},
		{name: "no key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, seedFiles())
			requireSigned(t, u, allowedFile, gnupg)
			opts := Options{URL: "file://" + u.bare, CacheDir: t.TempDir()}
			if tc.key != nil {
				s, err := NewSigner(tc.key, []byte(tc.passphrase))
				if err != nil {
					t.Fatal(err)
				}
				opts.Signer = s
			}
			r, err := Open(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			before := u.head(t)
			res, err := r.Update(context.Background(), func(*Snapshot) (*Change, error) {
				return statusChange("signed: " + tc.name + "\n"), nil
			})
			if !tc.accepted {
				if err == nil || errors.Is(err, ErrRejected) || u.head(t) != before {
					t.Fatalf("Update = %+v, %v; head %s (was %s): want a refused push, nothing changed", res, err, u.head(t), before)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil || res.Pushed == nil || u.head(t) != res.Pushed.Commit() {
				t.Fatalf("Update = %+v, %v", res, err)
			}
			cmd := exec.Command("git", "-c", "gpg.ssh.allowedSignersFile="+allowedFile, "log", "-1", "--show-signature", "main")
			cmd.Dir, cmd.Env = u.bare, append(gitEnv(u.bare), "GNUPGHOME="+gnupg)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), tc.showSig) {
				t.Fatalf("git log --show-signature: %v:\n%s\nwant %q", err, out, tc.showSig)
			}
		})
	}
}

// TestNewSignerRefusesBadKeys: an unusable key is a clear error (wrapping
// ErrSigningKey, without the key), before anything is committed.
func TestNewSignerRefusesBadKeys(t *testing.T) {
	sshEnc, _ := sshKey(t, "right", "x@example.com")
	pgpEnc, _ := pgpKey(t, "right")
	tests := []struct {
		name       string
		key        []byte
		passphrase string
		want       string
	}{
		{name: "empty", key: []byte("\n"), want: "empty"},
		{name: "not a key", key: []byte("ghp_0123456789abcdef"), want: "neither an SSH nor an armored OpenPGP"},
		{name: "public ssh key", key: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), want: "parse SSH key"},
		{name: "encrypted ssh key, no passphrase", key: sshEnc, want: "no passphrase"},
		{name: "encrypted ssh key, wrong passphrase", key: sshEnc, passphrase: "wrong", want: "passphrase is wrong"},
		{name: "encrypted openpgp key, no passphrase", key: pgpEnc, want: "no passphrase"},
		{name: "encrypted openpgp key, wrong passphrase", key: pgpEnc, passphrase: "wrong", want: "passphrase is wrong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.key, []byte(tc.passphrase))
			if s != nil || !errors.Is(err, ErrSigningKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewSigner = %v, %v; want ErrSigningKey, %q", s, err, tc.want)
			}
			if len(tc.key) > 20 && strings.Contains(err.Error(), string(tc.key[20:40])) {
				t.Fatalf("error shows the key: %v", err)
			}
		})
	}
}
