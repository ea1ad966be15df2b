package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
)

// sshFlags say which hosts to scan over SSH and how to reach them.
type sshFlags struct {
	hosts       stringList // --ssh
	hostsFile   string
	sshConfig   string
	identities  stringList
	knownHosts  stringList
	insecure    bool
	timeout     time.Duration
	hostTimeout time.Duration
}

// sshOnly are the flags that mean nothing without a host.
var sshOnly = []string{"ssh-config", "identity", "known-hosts", "insecure-ignore-host-key", "timeout", "host-timeout", "parallel"}

func (s *sshFlags) register(fs *flag.FlagSet) {
	fs.Var(&s.hosts, "ssh", "scan `[user@]host[:port]` over SSH (repeatable; IPv6 as [addr]:port); needs root there or passwordless sudo")
	fs.StringVar(&s.hostsFile, "hosts", "", "scan the hosts listed in `FILE` (one [user@]host[:port] or ssh://user@host:port a line, # comments; - for stdin)")
	fs.StringVar(&s.sshConfig, "ssh-config", "", "resolve hosts through the OpenSSH client configuration `FILE` (Host, HostName, Port, User, IdentityFile, ProxyJump; none for no file; default ~/.ssh/config, then "+systemSSHConfig+")")
	fs.Var(&s.identities, "identity", "offer the private key in `FILE` first (repeatable), then a host's IdentityFile keys, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa when present, then ssh-agent's keys (SSH_AUTH_SOCK)")
	fs.Var(&s.knownHosts, "known-hosts", "verify host keys against `FILE` (repeatable; default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)")
	fs.BoolVar(&s.insecure, "insecure-ignore-host-key", false, "do not verify host keys (anyone on the path can impersonate a host)")
	fs.DurationVar(&s.timeout, "timeout", 10*time.Second, "give up connecting (TCP and SSH handshake) to a host after `DURATION`")
	fs.DurationVar(&s.hostTimeout, "host-timeout", time.Minute, "give up on a host after `DURATION` in all")
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

// setup loads the keys and known hosts for targets. Warnings (an
// unreachable agent, a missing IdentityFile, the host key opt-out) go to
// stderr; the error is one the user can act on.
func (s *sshFlags) setup(e *env, targets []source.SSHTarget, warn func(format string, a ...any)) (*sshSetup, error) {
	st := &sshSetup{cfg: source.SSHConfig{ConnectTimeout: s.timeout, Identities: map[string]ssh.Signer{}}, hostTimeout: s.hostTimeout}
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
			st.cfg.DefaultSigners = append(st.cfg.DefaultSigners, signer)
		}
	}
	// The ssh config's IdentityFile keys, each read once. One that cannot
	// be read is skipped, as ssh(1) does: the agent may hold it.
	skipped := map[string]bool{}
	for _, h := range hopsOf(targets) {
		for _, f := range h.IdentityFiles {
			if _, ok := st.cfg.Identities[f]; ok || skipped[f] {
				continue
			}
			signer, err := source.LoadIdentity(f)
			if err != nil {
				skipped[f] = true
				warn("IdentityFile %s (ssh config, for %s): %v; not offered", f, h.Name(), err)
				continue
			}
			st.cfg.Identities[f] = signer
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
	var keyless []string
	for _, h := range hopsOf(targets) {
		if !st.cfg.HasKeyFor(h) {
			keyless = append(keyless, h.String())
		}
	}
	if len(keyless) > 0 {
		msg := "no SSH key to offer"
		if len(keyless) < len(hopsOf(targets)) {
			msg += " to " + strings.Join(keyless, ", ")
		}
		msg += ": pass --identity FILE, name an IdentityFile in the ssh config, or run ssh-agent with the key loaded (SSH_AUTH_SOCK)"
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		st.Close()
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

// hopsOf lists every host a connection is made to: the targets and their
// jump hosts.
func hopsOf(targets []source.SSHTarget) []source.SSHTarget {
	var hs []source.SSHTarget
	for _, t := range targets {
		hs = append(hs, t.Jump...)
		hs = append(hs, t)
	}
	return hs
}

// source is a scan of t over SSH, bounded by --host-timeout.
func (st *sshSetup) source(t source.SSHTarget, opt source.Options) runner.Source {
	return runner.Source{Label: "host " + t.String(), Host: t.String(), Root: "/", Kind: "ssh", Collect: func(ctx context.Context) (*facts.Document, error) {
		ctx, cancel := context.WithTimeoutCause(ctx, st.hostTimeout,
			fmt.Errorf("gave up after %s (--host-timeout)", st.hostTimeout))
		defer cancel()
		fsys, err := source.OpenSSH(ctx, t, st.cfg, opt)
		if err != nil {
			return nil, err
		}
		return source.Collect(ctx, fsys, facts.Source{Kind: "ssh", Root: "/", Host: t.String()}, opt)
	}}
}
