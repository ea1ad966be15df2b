package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/sudo"
)

// The SSH transport for the remote collector: one connection and one
// command per host (RemoteCommand), whose output ParseRemote reads. The
// Packer provisioner runs the same RemoteScript over its communicator.

// RemoteCommand is the one command an SSH session runs for opt:
// RemoteScript as root. The login shell runs sh, which runs the script
// itself when the login's uid is 0 (root, or another uid-0 account) and
// otherwise through `sudo -n` (never a password prompt): the test and the
// script travel together, one round trip. The script is sh's $1, so it is
// quoted once.
func RemoteCommand(opt Options) string {
	return `exec sh -c 'if [ "$(id -u)" = 0 ]; then exec sh -c "$1"; fi; exec sudo -n sh -c "$1"' hubsecrets ` +
		shQuote(RemoteScript(opt))
}

// KnownHosts verifies host keys against OpenSSH known_hosts files.
type KnownHosts struct {
	files    []string
	appendTo string
	check    ssh.HostKeyCallback
}

// LoadKnownHosts reads known_hosts files (hashed names, patterns, markers
// as OpenSSH writes them). With no files every host is unknown. appendTo
// is the file the fix for an unknown host names.
func LoadKnownHosts(appendTo string, files ...string) (*KnownHosts, error) {
	check, err := knownhosts.New(files...)
	if err != nil {
		return nil, err
	}
	return &KnownHosts{files: files, appendTo: appendTo, check: check}, nil
}

// algorithms returns the host key algorithms of the keys known for addr,
// so the server is asked for a key we can verify: Go's default order
// prefers ECDSA, and a known_hosts holding only the host's ed25519 key
// (what OpenSSH records) would otherwise look like a changed key. Nil when
// nothing is known: the handshake then fails as unknown.
func (k *KnownHosts) algorithms(addr string) []string {
	err := k.check(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range ke.Want {
		for _, a := range algorithmsFor(w.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms that prove it:
// an RSA key signs with SHA-2 (ssh-rsa's SHA-1 is not offered).
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{keyType}
}

// probeKey matches no known key, so checking it lists the keys known for a
// host (knownhosts has no lookup of its own).
type probeKey struct{}

func (probeKey) Type() string                        { return "hubsecrets-probe" }
func (probeKey) Marshal() []byte                     { return []byte("hubsecrets-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

// hostKeyCallback checks the host key and keeps the verdict in *failed,
// so the handshake's error can be told apart and explained.
func (k *KnownHosts) hostKeyCallback(failed *error) ssh.HostKeyCallback {
	return func(addr string, remote net.Addr, key ssh.PublicKey) error {
		err := k.check(addr, remote, key)
		*failed = err
		return err
	}
}

// explain turns a host key failure into what to do about it.
func (k *KnownHosts) explain(t SSHTarget, err error) error {
	keyscan := fmt.Sprintf("ssh-keyscan -p %d %s >> %s", t.Port, t.Host, k.appendTo)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("the host key of %s is revoked (%s:%d): refusing to connect", t.Name(), re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		checked := "no known_hosts file"
		if len(k.files) > 0 {
			checked = strings.Join(k.files, ", ")
		}
		return fmt.Errorf("the host key of %s is not known (checked %s): check its fingerprint out of band, then add it: %s (or pass --known-hosts FILE)", t.Name(), checked, keyscan)
	case errors.As(err, &ke):
		w := ke.Want[0]
		return fmt.Errorf("the host key of %s does NOT match %s:%d: the host was reinstalled, or someone is intercepting the connection. If the change is expected: ssh-keygen -R '%s' -f %s && %s",
			t.Name(), w.Filename, w.Line, knownhosts.Normalize(t.Addr()), w.Filename, keyscan)
	}
	return fmt.Errorf("host key of %s: %w", t.Name(), err)
}

// SSHConfig says how to reach every host.
type SSHConfig struct {
	// Signers are offered first to every host (--identity).
	Signers []ssh.Signer
	// Identities are the keys of the ssh_config IdentityFile entries, by
	// path: a host is offered those its IdentityFiles name, after Signers.
	Identities map[string]ssh.Signer
	// DefaultSigners are offered after Signers to a host whose ssh_config
	// names no IdentityFile, as ssh(1) tries ~/.ssh/id_* only then.
	DefaultSigners []ssh.Signer
	// Agent, when set, adds its keys last.
	Agent agent.Agent
	// HostKeys verifies host keys (of jump hosts too). Nil means no
	// verification at all: only for an explicit opt-out.
	HostKeys *KnownHosts
	// ConnectTimeout bounds the TCP connect and the SSH handshake, per hop.
	ConnectTimeout time.Duration
}

// signersFor lists the keys from files offered to t, in order.
func (c SSHConfig) signersFor(t SSHTarget) []ssh.Signer {
	signers := append([]ssh.Signer(nil), c.Signers...)
	for _, f := range t.IdentityFiles {
		if s, ok := c.Identities[f]; ok {
			signers = append(signers, s)
		}
	}
	if len(t.IdentityFiles) == 0 {
		signers = append(signers, c.DefaultSigners...)
	}
	return signers
}

// HasKeyFor says whether anything would be offered to t.
func (c SSHConfig) HasKeyFor(t SSHTarget) bool {
	return c.Agent != nil || len(c.signersFor(t)) > 0
}

// auth is one publickey method with every key for t: the client tries
// only the first method of each kind, so keys from files and the agent go
// together.
func (c SSHConfig) auth(t SSHTarget) ssh.AuthMethod {
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		signers := c.signersFor(t)
		if c.Agent != nil {
			if more, err := c.Agent.Signers(); err == nil {
				signers = append(signers, more...)
			}
		}
		return signers, nil
	})
}

// LoadIdentity reads an unencrypted private key file (OpenSSH, PEM or
// PKCS#8). A passphrase-protected key is for ssh-agent: this tool never
// prompts.
func LoadIdentity(file string) (ssh.Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	s, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, fmt.Errorf("%s is passphrase-protected: load it into ssh-agent (ssh-add %s) and set SSH_AUTH_SOCK", file, file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a private key: %w", file, err)
	}
	return s, nil
}

// Bounds on what a host may send back. The collector's output is at most
// the two account files hex-encoded (2 x 4 MiB x 2), the configuration
// files (the hub's, nginx's within their budget, the DH parameters they
// name) hex-encoded, and a few small files; anything larger is not our
// command's output. It is preallocated for the
// usual size so that the buffer holding hex-encoded secrets is not copied
// around as it grows.
const (
	maxRemoteOutput  = 5*accountReadLimit + 2*(hubconfig.MaxTotal+2*hubconfig.MaxFileSize+maxDHFiles*dhparamReadLimit)
	usualRemoteBytes = 64 << 10
	maxRemoteStderr  = 16 << 10
)

var errOutputTooLarge = fmt.Errorf("the remote command printed more than %d MiB: not the collector's output", maxRemoteOutput>>20)

// capped is a buffer that refuses to grow past max; overflow says whether
// anything was refused.
type capped struct {
	buf      bytes.Buffer
	max      int
	overflow bool
	fail     bool // refuse with an error (stdout) or drop silently (stderr)
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		c.overflow = true
		if c.fail {
			return 0, errOutputTooLarge
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// OpenSSH connects to t, runs RemoteCommand(opt) once and returns what it
// observed as an FS for Collect. ctx bounds the whole exchange. Errors say
// what went wrong and what to change; none carries the command's output,
// which holds the secrets (hex-encoded) and stays in this process.
func OpenSSH(ctx context.Context, t SSHTarget, cfg SSHConfig, opt Options) (FS, error) {
	out := &capped{max: maxRemoteOutput, fail: true}
	out.buf.Grow(usualRemoteBytes)
	defer func() { clear(out.buf.Bytes()) }()
	if err := runSSH(ctx, t, cfg, RemoteCommand(opt), out); err != nil {
		return nil, err
	}
	return ParseRemote(out.buf.Bytes())
}

// runSSH runs cmd on t with its standard output going to out.
func runSSH(ctx context.Context, t SSHTarget, cfg SSHConfig, cmd string, out *capped) error {
	client, done, err := connect(ctx, t, cfg)
	if err != nil {
		return err
	}
	defer done()

	sess, err := client.NewSession()
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("open an SSH session: %w", err)
	}
	defer sess.Close()
	stderr := &capped{max: maxRemoteStderr}
	sess.Stdout, sess.Stderr = out, stderr
	err = sess.Run(cmd)
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case out.overflow:
		return errOutputTooLarge
	case err == nil:
		return nil
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		return remoteFailure(t.User, exit.ExitStatus(), stderr.buf.String())
	}
	return fmt.Errorf("the remote command did not finish: %w", err)
}

// remoteFailure explains a non-zero exit of RemoteCommand from its
// standard error: sudo's refusals first, which have a known fix. The
// script itself prints nothing on stderr but the shell's own complaints,
// never a file's content.
func remoteFailure(user string, status int, stderr string) error {
	switch sudo.Parse(stderr) {
	case sudo.Password:
		return fmt.Errorf("user %s needs passwordless sudo (or connect as root): sudo asked for a password. Allow it on the host with %q in a file under /etc/sudoers.d/", user, sudo.NoPasswdRule(user))
	case sudo.TTY:
		return fmt.Errorf("user %s: sudo requires a terminal there (Defaults requiretty): add %q under /etc/sudoers.d/, or connect as root", user, sudo.NoRequireTTYRule(user))
	case sudo.Missing:
		return fmt.Errorf("user %s is not root and the host has no sudo: connect as root, or install sudo and give %s passwordless sudo", user, user)
	case sudo.Denied:
		return fmt.Errorf("user %s may not run sh as root through sudo: allow it (NOPASSWD) under /etc/sudoers.d/, or connect as root", user)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	if first == "" {
		return fmt.Errorf("the remote command exited %d without a message", status)
	}
	return fmt.Errorf("the remote command exited %d: %q", status, truncate(first, 200))
}
