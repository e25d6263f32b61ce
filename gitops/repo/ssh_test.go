package repo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshGit is an SSH server (golang.org/x/crypto/ssh, in process, as no sshd
// is installed) that runs the real git-upload-pack / git-receive-pack for
// repositories under root, for one user and one public key.
type sshGit struct {
	root    string
	user    string
	allowed ssh.PublicKey
	config  *ssh.ServerConfig
}

func startSSHGit(tb testing.TB, root, user string, allowed ssh.PublicKey) (addr string, hostKey ssh.PublicKey) {
	tb.Helper()
	for _, bin := range []string{"git-upload-pack", "git-receive-pack"} {
		if _, err := exec.LookPath(bin); err != nil {
			tb.Skipf("%s not in PATH", bin)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	s := &sshGit{root: root, user: user, allowed: allowed}
	s.config = &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	s.config.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serveConn(c) })
		}
	})
	tb.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), signer.PublicKey()
}

func (s *sshGit) checkKey(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if c.User() == s.user && string(key.Marshal()) == string(s.allowed.Marshal()) {
		return &ssh.Permissions{}, nil
	}
	return nil, errors.New("key not authorised")
}

func (s *sshGit) serveConn(c net.Conn) {
	defer func() { _ = c.Close() }()
	_, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() { s.serveSession(ch, chReqs) })
	}
	wg.Wait()
}

func (s *sshGit) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(req.Type == "env", nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		status := s.run(ch, payload.Command)
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// run executes "git-upload-pack '<path>'" or "git-receive-pack '<path>'".
func (s *sshGit) run(ch ssh.Channel, command string) uint32 {
	bin, quoted, _ := strings.Cut(command, " ")
	dir := strings.ReplaceAll(strings.Trim(quoted, "'"), `'\''`, "'")
	if (bin != "git-upload-pack" && bin != "git-receive-pack") || !strings.HasPrefix(filepath.Clean(dir), s.root+"/") {
		_, _ = fmt.Fprintf(ch.Stderr(), "refused: %s\n", command)
		return 128
	}
	cmd := exec.Command(bin, dir)
	cmd.Env = gitEnv(s.root)
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 128
	}
	if err := cmd.Start(); err != nil {
		return 128
	}
	go func() { // not awaited: the client may never half-close
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		return 1
	}
	return 0
}

// writeKey writes an ed25519 private key (OpenSSH format, optionally
// encrypted) and returns its path and public key.
func writeKey(t *testing.T, dir, name, passphrase string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "birdwatch test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "birdwatch test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, sshPub
}

// writeKnownHosts writes a known_hosts file accepting key for addr.
func writeKnownHosts(t *testing.T, dir, name, addr string, key ssh.PublicKey) string {
	t.Helper()
	path := filepath.Join(dir, name)
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSSH(t *testing.T) {
	u := newUpstream(t, seedFiles())
	keys := t.TempDir()
	plainKey, plainPub := writeKey(t, keys, "id_plain", "")
	lockedKey, lockedPub := writeKey(t, keys, "id_locked", "correct horse")
	strangerKey, _ := writeKey(t, keys, "id_stranger", "")
	addr, hostKey := startSSHGit(t, u.root, "git", plainPub)
	addr2, hostKey2 := startSSHGit(t, u.root, "deploy", lockedPub)
	knownHosts := func(name, addr string, key ssh.PublicKey) string { return writeKnownHosts(t, keys, name, addr, key) }
	_, otherHostKey := writeKey(t, keys, "other_host", "")
	t.Setenv("SSH_AUTH_SOCK", startAgent(t, keys, plainKey))
	tests := []struct {
		name    string
		url     string
		auth    Auth
		wantErr error
	}{
		{name: "key file, default user git", url: "ssh://" + addr + u.bare,
			auth: Auth{SSHKeyFile: plainKey, SSHKnownHostsFile: knownHosts("kh1", addr, hostKey)}},
		{name: "encrypted key, user in URL", url: "ssh://deploy@" + addr2 + u.bare,
			auth: Auth{SSHKeyFile: lockedKey, SSHKeyPassphrase: "correct horse", SSHKnownHostsFile: knownHosts("kh2", addr2, hostKey2)}},
		{name: "ssh agent", url: "ssh://git@" + addr + u.bare,
			auth: Auth{SSHKnownHostsFile: knownHosts("kh5", addr, hostKey)}},
		{name: "unknown host key", url: "ssh://" + addr + u.bare,
			auth: Auth{SSHKeyFile: plainKey, SSHKnownHostsFile: knownHosts("kh3", addr, otherHostKey)}, wantErr: ErrAuth},
		{name: "key not authorised", url: "ssh://" + addr + u.bare,
			auth: Auth{SSHKeyFile: strangerKey, SSHKnownHostsFile: knownHosts("kh4", addr, hostKey)}, wantErr: ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fetchCommitPush(t, u, Options{URL: tc.url, Auth: tc.auth, CacheDir: t.TempDir()}, tc.wantErr)
		})
	}
}

// fetchCommitPush fetches, commits a status change and pushes it, checking
// that the upstream head follows; with wantErr, Fetch must fail with it.
func fetchCommitPush(t *testing.T, u *upstream, opts Options, wantErr error) {
	t.Helper()
	ctx := context.Background()
	before := u.head(t)
	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	snap, err := r.Fetch(ctx)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Fetch error = %v, want %v", err, wantErr)
		}
		t.Logf("Fetch error: %v", err)
		return
	}
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if snap.Commit() != before {
		t.Fatalf("fetched %s, head is %s", snap.Commit(), before)
	}
	commit, err := r.Commit(ctx, snap, *statusChange("ssh: " + opts.URL + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, commit, snap); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if u.head(t) != commit.Commit() {
		t.Fatalf("head %s, want %s", u.head(t), commit.Commit())
	}
}

// startAgent serves an in-memory SSH agent (x/crypto/ssh/agent) holding the
// key in keyFile on a unix socket and returns the socket path.
func startAgent(t *testing.T, dir, keyFile string) string {
	t.Helper()
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn // clients keep agent connections open: close them at the end
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _ = agent.ServeAgent(keyring, c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return sock
}
