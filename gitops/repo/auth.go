package repo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Auth holds the credentials for the remote. The zero Auth is anonymous for
// file://, git:// and https remotes; for ssh it means "use the SSH agent and
// the default known_hosts files". Auth is never logged or put in an error.
type Auth struct {
	// Username for https basic auth; "" means "x-access-token" (GitHub App
	// and fine-grained tokens; GitLab accepts any name with a token). For
	// ssh it is the login name; "" means the URL's user, else "git".
	Username string
	// Token is the https password or access token; "" means anonymous https.
	Token string
	// SSHKeyFile is a PEM/OpenSSH private key file for ssh remotes; "" means
	// use the SSH agent at $SSH_AUTH_SOCK.
	SSHKeyFile string
	// SSHKeyPassphrase decrypts SSHKeyFile; "" for an unencrypted key.
	SSHKeyPassphrase string
	// SSHKnownHostsFile lists the accepted host keys for ssh remotes; "" means
	// $SSH_KNOWN_HOSTS, else ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
	// Unknown host keys are always refused.
	SSHKnownHostsFile string
}

// defaultTokenUser is the basic-auth user name sent with a bare token.
const defaultTokenUser = "x-access-token"

// transportAuth builds the go-git auth method for the endpoint (nil means
// anonymous) and the resource it holds open (an SSH agent connection), to
// close with the Repo; the closer may be nil.
func (a Auth) transportAuth(ep *transport.Endpoint) (transport.AuthMethod, io.Closer, error) {
	switch ep.Protocol {
	case "http", "https":
		if a.Token == "" {
			return nil, nil, nil
		}
		user := a.Username
		if user == "" {
			user = defaultTokenUser
		}
		return &githttp.BasicAuth{Username: user, Password: a.Token}, nil, nil
	case "ssh":
		return a.sshAuth(ep)
	default: // file, git: no authentication exists
		return nil, nil, nil
	}
}

func (a Auth) sshAuth(ep *transport.Endpoint) (transport.AuthMethod, io.Closer, error) {
	user := a.Username
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	var files []string
	if a.SSHKnownHostsFile != "" {
		files = []string{a.SSHKnownHostsFile}
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: load ssh known_hosts: %w", ErrAuth, err)
	}
	port := ep.Port
	if port <= 0 {
		port = gitssh.DefaultPort
	}
	hostKeys := gitssh.HostKeyCallbackHelper{
		HostKeyCallback: db.HostKeyCallback(),
		// Offer only the key types known_hosts has for this host, else the
		// server may present another type and verification fails.
		HostKeyAlgorithms: db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port))),
	}
	if a.SSHKeyFile != "" {
		keys, err := gitssh.NewPublicKeysFromFile(user, a.SSHKeyFile, a.SSHKeyPassphrase)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: load ssh key %s: %w", ErrAuth, a.SSHKeyFile, err)
		}
		keys.HostKeyCallbackHelper = hostKeys
		return keys, nil, nil
	}
	// go-git's NewSSHAgentAuth never closes its agent connection; dial it
	// here so that Repo.Close can.
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, fmt.Errorf("%w: no ssh key file and SSH_AUTH_SOCK is not set", ErrAuth)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: no ssh key file and no ssh agent: %w", ErrAuth, err)
	}
	return &gitssh.PublicKeysCallback{
		User:                  user,
		Callback:              agent.NewClient(conn).Signers,
		HostKeyCallbackHelper: hostKeys,
	}, conn, nil
}

// classifyTransport marks credential failures with ErrAuth: an https 401 or
// 403, an ssh key the server refused, or an ssh host key that known_hosts
// does not accept. What an http server wrote in an error response's body is
// dropped (see withoutServerText). Other errors pass through unchanged.
func classifyTransport(err error) error {
	err = withoutServerText(err)
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod):
		return fmt.Errorf("%w: %w", ErrAuth, err)
	case errors.As(err, &keyErr), errors.As(err, &revoked):
		return fmt.Errorf("%w: ssh host key not accepted by known_hosts: %w", ErrAuth, err)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		// x/crypto/ssh has no error type for a refused client key.
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return err
}

// serverStatuses are the go-git errors that carry the body of an http error
// response after the sentinel's text, with the status each stands for.
var serverStatuses = []struct {
	err    error
	status int
}{
	{transport.ErrAuthenticationRequired, http.StatusUnauthorized},
	{transport.ErrAuthorizationFailed, http.StatusForbidden},
	{transport.ErrRepositoryNotFound, http.StatusNotFound},
}

// withoutServerText replaces an error that go-git built from an http error
// response and its whole body ("authentication required: <body>") by the
// status and a short reason: a server or proxy that echoes the request's
// credentials would otherwise put the token into birdwatch's logs. Other
// http statuses go-git reports without the body.
func withoutServerText(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range serverStatuses {
		if errors.Is(err, s.err) && err.Error() != s.err.Error() {
			return fmt.Errorf("%w (%d %s; the server's message is not shown)", s.err, s.status, http.StatusText(s.status))
		}
	}
	return err
}

// redactedURL is the endpoint without user name or password, for messages,
// logs and the cache key.
func redactedURL(ep *transport.Endpoint) string {
	e := *ep
	e.User, e.Password = "", ""
	return e.String()
}
