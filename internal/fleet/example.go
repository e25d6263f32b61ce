package fleet

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"testing/fstest"

	"github.com/birdwatch-gitops/birdwatch/templates"
)

// ExampleFiles returns the files of the embedded example repository name
// (templates/examples/<name>, e.g. "aleph") as repository path -> content.
// Callers edit the map (replace a spec, drop it, add a status file) and
// hand it to CreateFiles.
func ExampleFiles(name string) (map[string]string, error) {
	root := path.Join("examples", name)
	files := map[string]string{}
	err := fs.WalkDir(templates.Examples, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templates.Examples.ReadFile(p)
		files[p[len(root)+1:]] = string(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read example %s: %w", name, err)
	}
	return files, nil
}

// CreateFiles is Create with the first commit given as path -> content.
func CreateFiles(ctx context.Context, dir string, files map[string]string, message string) (*Repo, error) {
	m := fstest.MapFS{}
	for p, content := range files {
		m[p] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	return Create(ctx, dir, m, message)
}
