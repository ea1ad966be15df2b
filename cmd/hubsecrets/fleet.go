package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh/agent"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
)

// sshFlags say which hosts to scan over SSH and how to reach them.
type sshFlags struct {
	hosts       stringList // --ssh
	hostsFile   string
	identities  stringList
	knownHosts  stringList
	insecure    bool
	timeout     time.Duration
	hostTimeout time.Duration
}

// sshOnly are the flags that mean nothing without a host.
var sshOnly = []string{"identity", "known-hosts", "insecure-ignore-host-key", "timeout", "host-timeout", "parallel"}

func (s *sshFlags) register(fs *flag.FlagSet) {
	fs.Var(&s.hosts, "ssh", "scan `[user@]host[:port]` over SSH (repeatable; IPv6 as [addr]:port); needs root there or passwordless sudo")
	fs.StringVar(&s.hostsFile, "hosts", "", "scan the hosts listed in `FILE` (one [user@]host[:port] a line, # comments; - for stdin)")
	fs.Var(&s.identities, "identity", "offer the private key in `FILE` (repeatable; default ~/.ssh/id_ed25519, id_ecdsa, id_rsa when present), with ssh-agent's keys (SSH_AUTH_SOCK)")
	fs.Var(&s.knownHosts, "known-hosts", "verify host keys against `FILE` (repeatable; default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)")
	fs.BoolVar(&s.insecure, "insecure-ignore-host-key", false, "do not verify host keys (anyone on the path can impersonate a host)")
	fs.DurationVar(&s.timeout, "timeout", 10*time.Second, "give up connecting (TCP and SSH handshake) to a host after `DURATION`")
	fs.DurationVar(&s.hostTimeout, "host-timeout", time.Minute, "give up on a host after `DURATION` in all")
}

// targets lists the hosts of --ssh and --hosts, in that order.
func (s *sshFlags) targets(e *env) ([]source.SSHTarget, error) {
	defUser := defaultUser(e)
	var ts []source.SSHTarget
	for _, spec := range s.hosts {
		t, err := source.ParseSSHTarget(spec, defUser)
		if err != nil {
			return nil, fmt.Errorf("--ssh %w", err)
		}
		ts = append(ts, t)
	}
	if s.hostsFile != "" {
		r, name := e.stdin, "stdin"
		if s.hostsFile != "-" {
			f, err := os.Open(s.hostsFile)
			if err != nil {
				return nil, fmt.Errorf("--hosts: %w", err)
			}
			defer f.Close()
			r, name = f, s.hostsFile
		}
		more, err := parseHostsFile(r, name, defUser)
		if err != nil {
			return nil, fmt.Errorf("--hosts %w", err)
		}
		if len(more) == 0 {
			return nil, fmt.Errorf("--hosts %s: no hosts in it", name)
		}
		ts = append(ts, more...)
	}
	return ts, nil
}

// parseHostsFile reads one [user@]host[:port] a line; "#" starts a
// comment, blank lines are skipped. Errors name the file and line.
func parseHostsFile(r io.Reader, name, defUser string) ([]source.SSHTarget, error) {
	var ts []source.SSHTarget
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) > 1:
			return nil, fmt.Errorf("%s:%d: %q: want one [user@]host[:port] a line", name, n, strings.TrimSpace(line))
		}
		t, err := source.ParseSSHTarget(f[0], defUser)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		ts = append(ts, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ts, nil
}

// defaultUser is the login for a host without user@, as ssh picks it.
func defaultUser(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// sshSetup is the connection setup shared by every host of a run.
type sshSetup struct {
	cfg         source.SSHConfig
	hostTimeout time.Duration
	agent       io.Closer // the agent connection, if any
}

func (s *sshSetup) Close() {
	if s.agent != nil {
		s.agent.Close()
	}
}

// setup loads the keys and known hosts. Warnings (an unreachable agent,
// the host key opt-out) go to stderr; the error is one the user can act on.
func (s *sshFlags) setup(e *env, warn func(format string, a ...any)) (*sshSetup, error) {
	st := &sshSetup{cfg: source.SSHConfig{ConnectTimeout: s.timeout}, hostTimeout: s.hostTimeout}
	home := e.getenv("HOME")
	var notes []string
	if len(s.identities) > 0 {
		for _, f := range s.identities {
			signer, err := source.LoadIdentity(f)
			if err != nil {
				return nil, fmt.Errorf("--identity: %w", err)
			}
			st.cfg.Signers = append(st.cfg.Signers, signer)
		}
	} else if home != "" {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			f := filepath.Join(home, ".ssh", name)
			if _, err := os.Stat(f); err != nil {
				continue
			}
			signer, err := source.LoadIdentity(f)
			if err != nil {
				notes = append(notes, err.Error())
				continue
			}
			st.cfg.Signers = append(st.cfg.Signers, signer)
		}
	}
	if sock := e.getenv("SSH_AUTH_SOCK"); sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			warn("SSH_AUTH_SOCK=%s: cannot reach ssh-agent (%v); going on without it", sock, err)
		} else {
			st.agent = conn
			st.cfg.Agent = agent.NewClient(conn)
		}
	}
	if len(st.cfg.Signers) == 0 && st.cfg.Agent == nil {
		msg := "no SSH key to offer: pass --identity FILE, or run ssh-agent with the key loaded (SSH_AUTH_SOCK)"
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		return nil, errors.New(msg)
	}

	if s.insecure {
		warn("WARNING: --insecure-ignore-host-key: host keys are not verified; anyone on the network path can pose as these hosts")
		return st, nil
	}
	files, appendTo := []string(s.knownHosts), ""
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			st.Close()
			return nil, fmt.Errorf("--known-hosts: %w", err)
		}
	}
	if len(files) > 0 {
		appendTo = files[0]
	} else {
		appendTo = "~/.ssh/known_hosts"
		var defaults []string
		if home != "" {
			appendTo = filepath.Join(home, ".ssh", "known_hosts")
			defaults = append(defaults, appendTo)
		}
		for _, f := range append(defaults, "/etc/ssh/ssh_known_hosts") {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
			}
		}
	}
	kh, err := source.LoadKnownHosts(appendTo, files...)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	st.cfg.HostKeys = kh
	return st, nil
}

// source is a scan of t over SSH, bounded by --host-timeout.
func (st *sshSetup) source(t source.SSHTarget, opt source.Options) runner.Source {
	return runner.Source{Label: "host " + t.String(), Host: t.Name(), Root: "/", Kind: "ssh", Collect: func(ctx context.Context) (*facts.Document, error) {
		ctx, cancel := context.WithTimeoutCause(ctx, st.hostTimeout,
			fmt.Errorf("gave up after %s (--host-timeout)", st.hostTimeout))
		defer cancel()
		fsys, err := source.OpenSSH(ctx, t, st.cfg, opt)
		if err != nil {
			return nil, err
		}
		return source.Collect(ctx, fsys, facts.Source{Kind: "ssh", Root: "/", Host: t.Name()}, opt)
	}}
}
