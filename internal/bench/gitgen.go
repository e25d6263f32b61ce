// Package bench makes the inputs of birdwatch's scale benchmarks: GitOps
// repositories of realistic shape and size (thousands of manifests, thousands
// of commits), written with `git fast-import` so that 10,000 commits take
// seconds. The benchmarks themselves (build tag benchgit) and `make bench-git`
// use it; see the README's figures.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// Spec describes a generated repository. The zero value is not useful; see
// DefaultSpec.
type Spec struct {
	// Commits is the length of main's history, at least 1 (the first commit
	// adds every file; each later one edits 1-3 manifests).
	Commits int
	// Files is the number of generated manifests, spread over 50 teams of
	// 10 apps each, besides Extra.
	Files int
	// Padding adds this many bytes of random base64 to each manifest (a
	// ConfigMap binaryData value), to reach a repository size; 0 for none.
	// Padding is incompressible, so the packed size is about Files*Padding.
	Padding int
	// Extra files (path -> content) added by the first commit, e.g. a
	// Canary spec and the manifests it names.
	Extra map[string][]byte
	// Seed makes the content and the edit sequence deterministic.
	Seed uint64
	// NoRepack keeps fast-import's pack as it is (a 1 GB repository of
	// incompressible data gains nothing from `git repack -a -d`, which
	// would take minutes).
	NoRepack bool
}

// DefaultSpec is the repository of the "Git at scale" figures: 10,000
// commits over 5,000 manifests.
func DefaultSpec() Spec { return Spec{Commits: 10000, Files: 5000, Seed: 1} }

// epoch is the first commit's time; each later commit is a minute later.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate writes a bare repository at dir (created, must not exist) with
// spec's history on branch main, using the git CLI's fast-import.
func Generate(ctx context.Context, dir string, spec Spec) error {
	if spec.Commits < 1 || spec.Files < 1 {
		return fmt.Errorf("generate %s: need at least one commit and one file", dir)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("generate %s: %w", dir, fs.ErrExist)
	}
	if err := git(ctx, "", nil, "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		err := writeStream(w, spec)
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	err := git(ctx, dir, pr, "fast-import", "--quiet", "--done")
	pr.CloseWithError(io.ErrClosedPipe) // unblock the writer if fast-import died
	if werr := <-done; werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("generate %s: %w", dir, err)
	}
	if spec.NoRepack {
		return nil
	}
	return git(ctx, dir, nil, "repack", "-a", "-d", "-q")
}

// ManifestPath is the path of generated manifest i (0 <= i < Spec.Files).
func ManifestPath(i int) string {
	return fmt.Sprintf("apps/team%02d/app%d/manifest-%04d.yaml", i%50, (i/50)%10, i)
}

// writeStream writes the fast-import stream of spec's history.
func writeStream(w io.Writer, spec Spec) error {
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	revision := make([]int, spec.Files)
	for c := 0; c < spec.Commits; c++ {
		at := epoch.Add(time.Duration(c) * time.Minute).Unix()
		who := fmt.Sprintf("dev%d <dev%d@example.com> %d +0000", c%7, c%7, at)
		msg := fmt.Sprintf("commit %d", c)
		if _, err := fmt.Fprintf(w, "commit refs/heads/main\nauthor %s\ncommitter %s\ndata %d\n%s\n", who, who, len(msg), msg); err != nil {
			return err
		}
		var edits []int
		if c == 0 {
			for i := range spec.Files {
				edits = append(edits, i)
			}
			if err := writeExtra(w, spec.Extra); err != nil {
				return err
			}
		} else {
			for range 1 + rng.IntN(3) {
				edits = append(edits, rng.IntN(spec.Files))
			}
		}
		for _, i := range edits {
			if c > 0 {
				revision[i]++
			}
			body := manifest(i, revision[i], spec.Padding, spec.Seed)
			if _, err := fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", ManifestPath(i), len(body), body); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprint(w, "done\n")
	return err
}

func writeExtra(w io.Writer, extra map[string][]byte) error {
	paths := make([]string, 0, len(extra))
	for p := range extra {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if _, err := fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", p, len(extra[p]), extra[p]); err != nil {
			return err
		}
	}
	return nil
}

// manifest is manifest i at a revision: a Deployment-like document, plus
// padding bytes of random base64 (fixed per file, so edits stay small).
func manifest(i, revision, padding int, seed uint64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: team%02[2]d
  labels: {app: app-%[1]d, revision: "%[3]d"}
spec:
  replicas: %[4]d
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      containers:
        - name: main
          image: registry.example.com/team%02[2]d/app-%[1]d:v%[3]d
          resources: {requests: {cpu: 100m, memory: 128Mi}}
`, i, i%50, revision, 1+revision%5)
	if padding > 0 {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		raw := make([]byte, padding*3/4)
		for k := range raw {
			raw[k] = byte(rng.Uint32())
		}
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-%d-blob}\nbinaryData:\n  blob: %s\n", i, base64.StdEncoding.EncodeToString(raw))
	}
	return b.Bytes()
}

// git runs the git CLI in dir (none: the current one) without user or
// system configuration.
func git(ctx context.Context, dir string, stdin io.Reader, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stderr = stdin, &stderr
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+filepath.Join(os.TempDir(), "bench-nohome"))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %v: %w: %s", args, err, stderr.String())
	}
	return nil
}
