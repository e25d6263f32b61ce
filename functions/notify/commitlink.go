package notify

import (
	"net/url"
	"strings"
)

// CommitLinker returns the function that links a commit of the repository
// at repoURL on its host's web pages: /-/commit/HASH on GitLab hosts (a host
// name containing "gitlab"), /commit/HASH elsewhere (GitHub, Gitea,
// Bitbucket Server's /commits/ aside). It understands https:// and ssh://
// URLs and scp-like user@host:path; nil for anything else (file://, local
// paths), which leaves hashes unlinked. Credentials in the URL are dropped.
func CommitLinker(repoURL string) func(hash string) string {
	host, path, ok := webLocation(repoURL)
	if !ok {
		return nil
	}
	base := "https://" + host + "/" + path
	sep := "/commit/"
	if strings.Contains(strings.ToLower(host), "gitlab") {
		sep = "/-/commit/"
	}
	return func(hash string) string { return base + sep + url.PathEscape(hash) }
}

// webLocation reads the host and repository path of a Git URL.
func webLocation(repoURL string) (host, path string, ok bool) {
	if u, err := url.Parse(repoURL); err == nil && (u.Scheme == "https" || u.Scheme == "http" || u.Scheme == "ssh") {
		host, path = u.Hostname(), u.Path
		if u.Scheme != "ssh" && u.Port() != "" {
			host = u.Host
		}
	} else if at, rest, found := strings.Cut(repoURL, "@"); found && !strings.Contains(at, "/") {
		host, path, ok = strings.Cut(rest, ":")
		if !ok {
			return "", "", false
		}
	} else {
		return "", "", false
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	return host, path, host != "" && path != ""
}
