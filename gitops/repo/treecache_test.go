package repo

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestChainedCommitsMatchGit commits a chain in which each commit's trees
// are the next one's parents (read from the tree cache, not the store) and
// checks every commit's tree against git write-tree of the same files, and
// that reads through the chain see each commit's own content.
func TestChainedCommitsMatchGit(t *testing.T) {
	u := newUpstream(t, seedFiles())
	r, parent := openFetch(t, Options{URL: u.bare, CacheDir: t.TempDir(), Clock: fixedClock})
	// Names that sort differently as files and as directories ("a.b" <
	// "a/" < "a0"), new and changed files, a new deep directory.
	changes := []map[string][]byte{
		{"many/x-1": []byte("1\n"), "a.b": []byte("a.b v2\n")},
		{"many/x-0": []byte("0\n")},
		{"many/x": []byte("file x\n")},
		{"many/x.y/z": []byte("dir x.y\n"), "many/x0": []byte("x0\n")},
		{"many/x-1": []byte("1 changed\n"), "a/c": []byte("a/c v2\n")},
		{"many/w/deep/er/file": []byte("deep\n"), "many/x": []byte("file x v2\n")},
	}
	head := parent
	var commits []*Snapshot
	for i, files := range changes {
		c, err := r.Commit(context.Background(), head, Change{Files: files, Message: Message{Subject: fmt.Sprintf("step %d", i)}})
		if err != nil {
			t.Fatalf("Commit %d: %v", i, err)
		}
		for p, want := range files {
			got, err := c.ReadFile(p)
			if err != nil || string(got) != string(want) {
				t.Fatalf("commit %d: ReadFile(%s) = %q, %v; want %q", i, p, got, err, want)
			}
		}
		commits = append(commits, c)
		head = c
	}
	if got, err := commits[0].ReadFile("many/x"); err == nil {
		t.Fatalf("commit 0 reads many/x = %q, written only by commit 2", got)
	}
	// Git itself reads the loose objects Commit wrote into the cache.
	if got := mustGit(t, r.dir, "--git-dir=.", "cat-file", "-p", head.Commit()+":many/x"); got != "file x v2" {
		t.Fatalf("git reads many/x from the cache as %q", got)
	}
	mustGit(t, r.dir, "--git-dir=.", "ls-tree", "-r", head.Commit())
	if err := r.Push(context.Background(), head, parent); err != nil {
		t.Fatalf("Push: %v", err)
	}
	mustGit(t, u.work, "pull", "-q", "--ff-only", "origin", "main")
	mustGit(t, u.work, "reset", "-q", "--hard", parent.Commit())
	for i, files := range changes {
		for p, c := range files {
			writeFile(t, filepath.Join(u.work, p), string(c))
		}
		mustGit(t, u.work, "add", "-A")
		want := mustGit(t, u.work, "write-tree")
		got := mustGit(t, u.bare, "rev-parse", commits[i].Commit()+"^{tree}")
		if got != want {
			t.Fatalf("commit %d: tree %s, git write-tree gives %s", i, got, want)
		}
	}
	mustGit(t, u.bare, "fsck", "--strict", "--no-progress")
}

func TestApplyEntries(t *testing.T) {
	h := plumbing.NewHash("1111111111111111111111111111111111111111")
	file := func(n string) object.TreeEntry { return object.TreeEntry{Name: n, Mode: filemode.Regular, Hash: h} }
	dir := func(n string) object.TreeEntry { return object.TreeEntry{Name: n, Mode: filemode.Dir, Hash: h} }
	names := func(es []object.TreeEntry) []string {
		var out []string
		for _, e := range es {
			n := e.Name
			if e.Mode == filemode.Dir {
				n += "/"
			}
			out = append(out, n)
		}
		return out
	}
	tests := []struct {
		name    string
		base    []object.TreeEntry
		set     []object.TreeEntry
		want    []string
		wantErr bool
	}{
		{name: "into empty", set: []object.TreeEntry{file("b"), dir("a"), file("a.b"), file("a0")},
			want: []string{"a.b", "a/", "a0", "b"}},
		{name: "replace keeps place", base: []object.TreeEntry{file("a.b"), dir("a"), file("a0")},
			set: []object.TreeEntry{dir("a")}, want: []string{"a.b", "a/", "a0"}},
		{name: "insert between", base: []object.TreeEntry{file("a.b"), file("a0")},
			set: []object.TreeEntry{dir("a"), file("a-"), file("z")}, want: []string{"a-", "a.b", "a/", "a0", "z"}},
		{name: "file over directory refused", base: []object.TreeEntry{dir("a")},
			set: []object.TreeEntry{file("a")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := &cachedTree{entries: tc.base}
			before := slices.Clone(tc.base)
			got, err := applyEntries(base.entries, base.find, tc.set)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("applyEntries = %v, want an error", names(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tc.want) {
				t.Fatalf("applyEntries = %v, want %v", names(got), tc.want)
			}
			if !slices.Equal(tc.base, before) {
				t.Fatalf("base changed to %v", names(tc.base))
			}
		})
	}
}
