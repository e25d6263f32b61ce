package repo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deltaRepo makes a repository whose history packs into deltas: 20 files of
// 8 KB, each edited a little by each of 15 commits.
func deltaRepo(tb testing.TB) string {
	tb.Helper()
	requireGit(tb)
	dir := filepath.Join(tb.TempDir(), "work")
	mustGit(tb, tb.TempDir(), "init", "-q", "-b", "main", dir)
	for c := range 15 {
		for f := range 20 {
			var b strings.Builder
			for line := range 200 {
				fmt.Fprintf(&b, "file %d line %d value %d\n", f, line, line*f)
			}
			fmt.Fprintf(&b, "edit %d\n", c)
			writeFile(tb, filepath.Join(dir, "apps", fmt.Sprintf("f%02d.yaml", f)), b.String())
		}
		mustGit(tb, dir, "add", "-A")
		mustGit(tb, dir, "commit", "-q", "-m", fmt.Sprintf("commit %d", c))
	}
	return dir
}

// packObjects runs `git pack-objects --stdout` with revs on stdin.
func packObjects(tb testing.TB, dir, revs string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command("git", append([]string{"pack-objects", "--stdout", "--revs", "-q"}, args...)...)
	cmd.Dir, cmd.Env = dir, gitEnv(dir)
	cmd.Stdin = strings.NewReader(revs)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("git pack-objects: %v: %s", err, errb.String())
	}
	return out.Bytes()
}

// TestWritePackMatchesGit indexes packs made by git (offset deltas, ref
// deltas, no deltas) and compares the index byte for byte with the one
// `git index-pack` writes for the same pack.
func TestWritePackMatchesGit(t *testing.T) {
	work := deltaRepo(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ofs-delta", []string{"--delta-base-offset"}},
		{"ref-delta", nil},
		{"no-delta", []string{"--window=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pack := packObjects(t, work, "main\n", tc.args...)
			store := t.TempDir()
			sum, err := writePack(store, bytes.NewReader(pack))
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(store, "objects", "pack", "pack-"+sum.String())
			got, err := os.ReadFile(base + ".idx")
			if err != nil {
				t.Fatal(err)
			}
			stored, err := os.ReadFile(base + ".pack")
			if err != nil || !bytes.Equal(stored, pack) {
				t.Fatalf("stored pack differs from the one sent (%v)", err)
			}
			ref := filepath.Join(t.TempDir(), "ref.pack")
			if err := os.WriteFile(ref, pack, 0o644); err != nil {
				t.Fatal(err)
			}
			mustGit(t, work, "index-pack", ref)
			want, err := os.ReadFile(strings.TrimSuffix(ref, ".pack") + ".idx")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("index differs from git index-pack's (%d vs %d bytes)", len(got), len(want))
			}
			if tc.name != "no-delta" {
				verify := mustGit(t, work, "verify-pack", "-v", base+".idx")
				if !strings.Contains(verify, "chain length = ") {
					t.Fatalf("the %s pack has no deltas, the case tests nothing:\n%s", tc.name, verify)
				}
			}
			if left := leftovers(t, store); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// TestWritePackBadInput feeds broken packs: each is refused with an error
// and leaves neither a pack nor a temporary file behind.
func TestWritePackBadInput(t *testing.T) {
	work := deltaRepo(t)
	good := packObjects(t, work, "main\n", "--delta-base-offset")
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	for _, tc := range []struct {
		name string
		pack []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"not a pack", []byte("<html>proxy error</html>"), "signature"},
		{"truncated", good[:len(good)-100], "EOF"},
		{"flipped byte", flipped, ""},
		{"data after the checksum", append(bytes.Clone(good), "garbage"...), "after the checksum"},
		// A thin pack's deltas name bases the receiver already has; a
		// self-contained pack was asked for, so they cannot resolve.
		{"thin", packObjects(t, work, "main\n^main~1\n", "--thin"), "base is not in the pack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := t.TempDir()
			_, err := writePack(store, bytes.NewReader(tc.pack))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if left, _ := filepath.Glob(filepath.Join(store, "objects", "pack", "*")); len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
		})
	}
}

// leftovers lists the files in store's objects/pack.
func leftovers(tb testing.TB, store string) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(store, "objects", "pack", "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(filepath.Base(n), "pack-") || !(strings.HasSuffix(n, ".pack") || strings.HasSuffix(n, ".idx")) {
			out = append(out, filepath.Base(n))
		}
	}
	return out
}
