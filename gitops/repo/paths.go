package repo

import (
	"fmt"
	"strings"
)

// cleanPath checks a repo-relative, slash-separated file path and returns its
// segments. It rejects what Git itself would refuse in a tree or what could
// escape the repository: absolute paths, empty, "." and ".." segments, NUL
// bytes and any ".git" segment (compared case-insensitively, as Git does on
// case-insensitive file systems).
func cleanPath(p string) ([]string, error) {
	if p == "" {
		return nil, fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	if strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w: %q is absolute", ErrInvalidPath, p)
	}
	if strings.ContainsRune(p, 0) {
		return nil, fmt.Errorf("%w: %q contains a NUL byte", ErrInvalidPath, p)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch {
		case s == "" || s == ".":
			return nil, fmt.Errorf("%w: %q has an empty or '.' segment", ErrInvalidPath, p)
		case s == "..":
			return nil, fmt.Errorf("%w: %q has a '..' segment", ErrInvalidPath, p)
		case strings.EqualFold(s, ".git"):
			return nil, fmt.Errorf("%w: %q is inside .git", ErrInvalidPath, p)
		}
	}
	return segs, nil
}

// cleanDir is cleanPath for a directory: "", "." and "/" mean the root (nil
// segments) and one trailing slash is allowed.
func cleanDir(dir string) ([]string, error) {
	if dir == "" || dir == "." || dir == "/" {
		return nil, nil
	}
	return cleanPath(strings.TrimSuffix(dir, "/"))
}
