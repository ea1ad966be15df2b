package source

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// SSHTarget is one host to scan, and how to reach it.
type SSHTarget struct {
	User string
	Host string // the name or IP address dialed (ssh_config's HostName), without brackets
	Port int
	// Alias is the host as the user wrote it, when an ssh_config Host entry
	// resolved it to another HostName: reports name the host by it.
	Alias string
	// IdentityFiles are the ssh_config IdentityFile keys for this host,
	// offered before the agent's (SSHConfig.Identities holds them loaded).
	IdentityFiles []string
	// Jump lists the ProxyJump hosts, in the order they are dialed: the
	// first directly, each next one (and then this host) through the one
	// before. A hop has no Jump of its own.
	Jump []SSHTarget
}

const specHelp = "want [user@]host[:port] or ssh://user@host:port"

// ParseSSHTarget reads "[user@]host[:port]" or "ssh://[user@]host[:port]";
// an IPv6 address with a port is bracketed ("[::1]:2222"), without one it
// may be bare ("::1"). A missing user is defaultUser, a missing port 22.
func ParseSSHTarget(spec, defaultUser string) (SSHTarget, error) {
	t, err := ParseSSHSpec(spec)
	if err != nil {
		return t, err
	}
	if t.User == "" {
		t.User = defaultUser
	}
	if t.User == "" {
		return t, fmt.Errorf("%q: no user: write user@%s", spec, t.Name())
	}
	if t.Port == 0 {
		t.Port = 22
	}
	return t, nil
}

// ParseSSHSpec reads a host as ParseSSHTarget does, leaving what the spec
// does not say empty (User "", Port 0) for ssh_config and the defaults.
func ParseSSHSpec(spec string) (SSHTarget, error) {
	var t SSHTarget
	if spec == "" {
		return t, errors.New("empty host: " + specHelp)
	}
	if strings.IndexFunc(spec, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return t, fmt.Errorf("%q: a host has no spaces or control characters: %s", spec, specHelp)
	}
	rest := spec
	if scheme, after, ok := strings.Cut(spec, "://"); ok {
		if !strings.EqualFold(scheme, "ssh") {
			return t, fmt.Errorf("%q: only ssh:// addresses are hosts: write ssh://user@host:port or user@host:port", spec)
		}
		rest = strings.TrimSuffix(after, "/")
		if strings.Contains(rest, "/") {
			return t, fmt.Errorf("%q: an ssh:// address has no path: write ssh://user@host:port", spec)
		}
	}
	hostport := rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		t.User, hostport = rest[:i], rest[i+1:]
		if t.User == "" {
			return t, fmt.Errorf("%q: empty user before @: write user@host, or leave out the @", spec)
		}
		if rest != spec && strings.Contains(t.User, ":") {
			return t, fmt.Errorf("%q: no password in an address (keys only): write ssh://user@host:port", spec)
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return t, fmt.Errorf("%q: missing ] after the IPv6 address: write [address]:port", spec)
		}
		t.Host, port = hostport[1:end], hostport[end+1:]
		if port != "" {
			if port[0] != ':' {
				return t, fmt.Errorf("%q: want [address]:port", spec)
			}
			port = port[1:]
			if port == "" {
				return t, fmt.Errorf("%q: empty port after the colon: write [address]:port, or leave out the colon", spec)
			}
		}
		if net.ParseIP(t.Host) == nil {
			return t, fmt.Errorf("%q: %q in brackets is not an IP address: brackets are for IPv6 addresses, as in [::1]:2222", spec, t.Host)
		}
	case strings.Count(hostport, ":") > 1: // a bare IPv6 address: no port
		t.Host = hostport
		if net.ParseIP(t.Host) == nil {
			return t, fmt.Errorf("%q: not an IPv6 address; write [address]:port for a port", spec)
		}
	default:
		t.Host, port, _ = strings.Cut(hostport, ":")
		if strings.Contains(hostport, ":") && port == "" {
			return t, fmt.Errorf("%q: empty port after the colon: write host:port, or leave out the colon", spec)
		}
	}
	if t.Host == "" {
		return t, fmt.Errorf("%q: empty host: %s", spec, specHelp)
	}
	if err := checkHostName(t.Host); err != nil {
		return t, fmt.Errorf("%q: %w", spec, err)
	}
	if port != "" {
		n, err := parsePort(port)
		if err != nil {
			return t, fmt.Errorf("%q: %w", spec, err)
		}
		t.Port = n
	}
	return t, nil
}

// checkHostName refuses what cannot be a host and could be read as an
// option by a tool the name is passed to.
func checkHostName(h string) error {
	if h == "" || strings.ContainsAny(h, "/[]@ \t") || h[0] == '-' ||
		strings.IndexFunc(h, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("%q is not a host name or address", h)
	}
	return nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q: want a number from 1 to 65535", s)
	}
	return n, nil
}

// Addr is host:port for dialing.
func (t SSHTarget) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Name is the host as reports show it: its alias when it has one, the
// port only when it is not 22.
func (t SSHTarget) Name() string {
	h := t.Host
	if t.Alias != "" {
		h = t.Alias
	}
	if t.Port == 22 || t.Port == 0 {
		return h
	}
	return net.JoinHostPort(h, strconv.Itoa(t.Port))
}

// String is user@host[:port].
func (t SSHTarget) String() string { return t.User + "@" + t.Name() }

// Route is where the connection goes, for messages: "root@10.0.0.5:22
// via ops@bastion:22" (the hops in ProxyJump order).
func (t SSHTarget) Route() string {
	s := t.User + "@" + t.Addr()
	for i, j := range t.Jump {
		sep := ","
		if i == 0 {
			sep = " via "
		}
		s += sep + j.User + "@" + j.Addr()
	}
	return s
}
