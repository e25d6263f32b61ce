package repo

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// ErrSigningKey means the commit signing key cannot be used: it is not an
// OpenSSH/PEM or armored OpenPGP private key, its passphrase is missing or
// wrong, or it cannot sign.
var ErrSigningKey = errors.New("unusable commit signing key")

// Signer signs commits. Sign receives the commit object as Git encodes it
// without a signature and returns the armored signature that goes into the
// commit's gpgsig header. It has the shape of go-git's git.Signer.
type Signer interface {
	Sign(message io.Reader) ([]byte, error)
}

// NewSigner returns the Signer for a private key: an SSH key (OpenSSH or
// PEM; Git's gpg.format=ssh, verified with gpg.ssh.allowedSignersFile) or an
// armored OpenPGP secret key (gpg.format=openpgp). passphrase decrypts an
// encrypted key. Errors wrap ErrSigningKey and never contain the key.
func NewSigner(key, passphrase []byte) (Signer, error) {
	text := strings.TrimSpace(string(key))
	switch {
	case text == "":
		return nil, fmt.Errorf("%w: the key is empty", ErrSigningKey)
	case strings.HasPrefix(text, "-----BEGIN PGP PRIVATE KEY BLOCK-----"):
		return newPGPSigner(key, passphrase)
	case strings.HasPrefix(text, "-----BEGIN "):
		return newSSHSigner(key, passphrase)
	}
	return nil, fmt.Errorf("%w: neither an SSH nor an armored OpenPGP private key", ErrSigningKey)
}

// sshSigner makes SSH signatures (the SSHSIG format, namespace "git").
type sshSigner struct{ s ssh.Signer }

func newSSHSigner(key, passphrase []byte) (Signer, error) {
	var s ssh.Signer
	var err error
	if len(passphrase) > 0 {
		s, err = ssh.ParsePrivateKeyWithPassphrase(key, passphrase)
	} else {
		s, err = ssh.ParsePrivateKey(key)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%w: the SSH key is encrypted and no passphrase was given", ErrSigningKey)
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("%w: the SSH key's passphrase is wrong", ErrSigningKey)
	case err != nil:
		return nil, fmt.Errorf("%w: parse SSH key: %s", ErrSigningKey, sshParseReason(err))
	}
	return sshSigner{s}, nil
}

// sshParseReason is x/crypto/ssh's reason without key material (its errors
// name formats and types only, but keep the first line to be sure).
func sshParseReason(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

func (s sshSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.s, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, fmt.Errorf("%w: ssh sign: %w", ErrSigningKey, err)
	}
	return sshsig.Armor(sig), nil
}

// pgpSigner makes detached, armored OpenPGP signatures.
type pgpSigner struct{ e *openpgp.Entity }

func newPGPSigner(key, passphrase []byte) (Signer, error) {
	ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil {
		return nil, fmt.Errorf("%w: read OpenPGP key: %w", ErrSigningKey, err)
	}
	if len(ents) != 1 || ents[0].PrivateKey == nil {
		return nil, fmt.Errorf("%w: want exactly one OpenPGP secret key, found %d keys", ErrSigningKey, len(ents))
	}
	e := ents[0]
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%w: the OpenPGP key is encrypted and no passphrase was given", ErrSigningKey)
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("%w: the OpenPGP key's passphrase is wrong", ErrSigningKey)
		}
	}
	return pgpSigner{e}, nil
}

func (s pgpSigner) Sign(message io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.e, message, &packet.Config{}); err != nil {
		return nil, fmt.Errorf("%w: OpenPGP sign: %w", ErrSigningKey, err)
	}
	return b.Bytes(), nil
}
