package githubtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gitData answers the read calls of birdwatch's API mode from the bare
// repository, in the REST shapes of GitHub's branches and Git database
// endpoints: GET branches/{b}, git/commits/{sha}, git/trees/{sha} and
// git/blobs/{sha} (raw, as go-github's GetBlobRaw asks). It reports whether
// the path was one of them.
func (s *Server) gitData(w http.ResponseWriter, r *http.Request, parts []string) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch {
	case len(parts) >= 2 && parts[0] == "branches":
		sha, err := s.git("rev-parse", "--verify", "-q", "refs/heads/"+strings.Join(parts[1:], "/"))
		if err != nil {
			writeError(w, http.StatusNotFound, "Branch not found")
			return true
		}
		c, err := s.commitJSON(sha)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": strings.Join(parts[1:], "/"), "protected": false,
			"commit": map[string]any{"sha": sha, "commit": c, "parents": c["parents"]}})
	case len(parts) == 3 && parts[0] == "git" && parts[1] == "commits":
		c, err := s.commitJSON(parts[2])
		if err != nil {
			writeError(w, http.StatusNotFound, "Not Found")
			return true
		}
		writeJSON(w, http.StatusOK, c)
	case len(parts) == 3 && parts[0] == "git" && parts[1] == "trees":
		s.tree(w, parts[2])
	case len(parts) == 3 && parts[0] == "git" && parts[1] == "blobs":
		if t, err := s.git("cat-file", "-t", parts[2]); err != nil || t != "blob" {
			writeError(w, http.StatusNotFound, "Not Found")
			return true
		}
		out, err := s.gitRaw(nil, nil, "cat-file", "blob", parts[2])
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return true
		}
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		_, _ = w.Write(out)
	default:
		return false
	}
	return true
}

// commitJSON is a commit as GitHub's git/commits endpoint shows it.
func (s *Server) commitJSON(sha string) (map[string]any, error) {
	out, err := s.git("show", "-s", "--format=%T%n%P%n%cI%n%an%n%ae%n%B", sha)
	if err != nil {
		return nil, err
	}
	f := strings.SplitN(out, "\n", 6)
	if len(f) < 5 {
		return nil, fmt.Errorf("commit %s: %q", sha, out)
	}
	parents := []map[string]any{}
	for _, p := range strings.Fields(f[1]) {
		parents = append(parents, map[string]any{"sha": p})
	}
	msg := ""
	if len(f) == 6 {
		msg = f[5]
	}
	who := map[string]any{"name": f[3], "email": f[4], "date": f[2]}
	return map[string]any{"sha": sha, "tree": map[string]any{"sha": f[0]}, "parents": parents,
		"author": who, "committer": who, "message": msg}, nil
}

// tree answers git/trees/{sha} (not recursive): entries in Git's order.
func (s *Server) tree(w http.ResponseWriter, sha string) {
	if t, err := s.git("cat-file", "-t", sha); err != nil || t != "tree" {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	out, err := s.git("ls-tree", "-l", sha)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	entries := []map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		meta, path, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			continue
		}
		e := map[string]any{"path": path, "mode": f[0], "type": f[1], "sha": f[2]}
		if f[1] == "blob" {
			var n int
			fmt.Sscan(f[3], &n)
			e["size"] = n
		}
		entries = append(entries, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sha": sha, "tree": entries, "truncated": false})
}

// createCommitOnBranch applies GraphQL's createCommitOnBranch like GitHub:
// the additions and deletions on top of expectedHeadOid, committed by the
// app's bot, and the branch moved only if it is still at expectedHeadOid
// (`git update-ref <new> <old>` is the compare-and-swap); otherwise the
// STALE_DATA error GitHub returns.
func (s *Server) createCommitOnBranch(w http.ResponseWriter, vars map[string]any) {
	var in struct {
		Branch struct {
			RepositoryNameWithOwner, BranchName string
		}
		Message     struct{ Headline, Body string }
		FileChanges struct {
			Additions []struct{ Path, Contents string }
			Deletions []struct{ Path string }
		}
		ExpectedHeadOid string
	}
	if err := remarshal(vars["input"], &in); err != nil || in.ExpectedHeadOid == "" {
		writeGraphQLError(w, "createCommitOnBranch", "INVALID", fmt.Sprintf("invalid input: %v", err))
		return
	}
	ref := "refs/heads/" + in.Branch.BranchName
	head, err := s.git("rev-parse", "--verify", "-q", ref)
	if err != nil || in.Branch.RepositoryNameWithOwner != s.Owner+"/"+s.Repo {
		writeGraphQLError(w, "createCommitOnBranch", "NOT_FOUND", "Could not resolve to a Ref")
		return
	}
	stale := fmt.Sprintf("Expected branch to point to %q but it did not. Pull and try again.", in.ExpectedHeadOid)
	if head != in.ExpectedHeadOid {
		writeGraphQLError(w, "createCommitOnBranch", "STALE_DATA", stale)
		return
	}
	commit, err := s.commitChanges(head, in.Message.Headline, in.Message.Body, in.FileChanges.Additions, in.FileChanges.Deletions)
	if err != nil {
		writeGraphQLError(w, "createCommitOnBranch", "UNPROCESSABLE", err.Error())
		return
	}
	if _, err := s.git("update-ref", ref, commit, head); err != nil {
		writeGraphQLError(w, "createCommitOnBranch", "STALE_DATA", stale)
		return
	}
	tree, _ := s.git("rev-parse", commit+"^{tree}")
	date, _ := s.git("show", "-s", "--format=%cI", commit)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"createCommitOnBranch": map[string]any{
		"commit": map[string]any{"oid": commit, "committedDate": date, "tree": map[string]any{"oid": tree},
			"url": fmt.Sprintf("https://github.com/%s/%s/commit/%s", s.Owner, s.Repo, commit)}}}})
}

// commitChanges writes the commit of the changes on top of head with a
// temporary index, keeping existing files' modes.
func (s *Server) commitChanges(head, headline, body string, adds []struct{ Path, Contents string }, dels []struct{ Path string }) (string, error) {
	dir, err := os.MkdirTemp("", "githubtest-index-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(dir, "index")}
	if _, err := s.gitRaw(env, nil, "read-tree", head); err != nil {
		return "", err
	}
	for _, a := range adds {
		data, err := base64.StdEncoding.DecodeString(a.Contents)
		if err != nil {
			return "", fmt.Errorf("contents of %s: not base64", a.Path)
		}
		blob, err := s.gitRaw(env, data, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		mode := "100644"
		if out, err := s.gitRaw(env, nil, "ls-files", "-s", "--", a.Path); err == nil && len(out) > 6 {
			mode = string(out[:6])
		}
		if _, err := s.gitRaw(env, nil, "update-index", "--add", "--cacheinfo", mode+","+strings.TrimSpace(string(blob))+","+a.Path); err != nil {
			return "", err
		}
	}
	for _, d := range dels {
		if _, err := s.gitRaw(env, nil, "update-index", "--remove", "--force-remove", "--", d.Path); err != nil {
			return "", err
		}
	}
	tree, err := s.gitRaw(env, nil, "write-tree")
	if err != nil {
		return "", err
	}
	msg := headline
	if body != "" {
		msg += "\n\n" + body
	}
	now := s.now().UTC().Format(time.RFC3339)
	commit, err := s.gitRaw(append(env, "GIT_AUTHOR_NAME=birdwatch[bot]", "GIT_AUTHOR_EMAIL=birdwatch[bot]@users.noreply.github.com",
		"GIT_AUTHOR_DATE="+now, "GIT_COMMITTER_DATE="+now), []byte(msg), "commit-tree", strings.TrimSpace(string(tree)), "-p", head)
	return strings.TrimSpace(string(commit)), err
}

// gitRaw runs git on the bare repository with extra environment and stdin.
func (s *Server) gitRaw(env []string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"--git-dir", s.bare}, args...)...)
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=GitHub", "GIT_AUTHOR_EMAIL=noreply@github.com",
		"GIT_COMMITTER_NAME=GitHub", "GIT_COMMITTER_EMAIL=noreply@github.com"), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %v: %w: %s", args, err, errb.String())
	}
	return out, nil
}

func writeGraphQLError(w http.ResponseWriter, field, typ, msg string) {
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{field: nil},
		"errors": []map[string]any{{"type": typ, "path": []string{field},
			"locations": []map[string]int{{"line": 2, "column": 3}}, "message": msg}}})
}

// remarshal converts a decoded JSON value into out.
func remarshal(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
