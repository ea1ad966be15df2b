package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// SSHConfigFiles are the OpenSSH client configuration files a host is
// resolved through, read with github.com/kevinburke/ssh_config: for each
// keyword the first value found wins, file by file (the user's, then the
// system's), as ssh(1) does. The keywords that say where and as whom to
// connect are honoured: HostName, Port, User, IdentityFile, ProxyJump.
type SSHConfigFiles struct {
	files []sshConfigFile
}

type sshConfigFile struct {
	name string
	cfg  *ssh_config.Config
}

// LoadSSHConfigFiles reads files in order; each must exist.
func LoadSSHConfigFiles(files ...string) (*SSHConfigFiles, error) {
	c := &SSHConfigFiles{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		cfg, err := ssh_config.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		c.files = append(c.files, sshConfigFile{f, cfg})
	}
	return c, nil
}

// Files names the files read, in order.
func (c *SSHConfigFiles) Files() []string {
	var names []string
	if c != nil {
		for _, f := range c.files {
			names = append(names, f.name)
		}
	}
	return names
}

func (c *SSHConfigFiles) get(alias, key string) (string, error) {
	if c == nil {
		return "", nil
	}
	for _, f := range c.files {
		v, err := f.cfg.Get(alias, key)
		if err != nil {
			return "", fmt.Errorf("%s: %s for %s: %v", f.name, key, alias, err)
		}
		if v != "" {
			return v, nil
		}
	}
	return "", nil
}

func (c *SSHConfigFiles) getAll(alias, key string) ([]string, error) {
	if c == nil {
		return nil, nil
	}
	var all []string
	for _, f := range c.files {
		vs, err := f.cfg.GetAll(alias, key)
		if err != nil {
			return nil, fmt.Errorf("%s: %s for %s: %v", f.name, key, alias, err)
		}
		all = append(all, vs...)
	}
	return all, nil
}

// LocalUser is who runs the scan, for the defaults and % tokens.
type LocalUser struct {
	Name string // the login for a host no one names a user for
	Home string // ~ in IdentityFile; empty when unknown
}

// maxJumps bounds a ProxyJump chain, the hops' own ProxyJump included: a
// longer one is a loop in the configuration.
const maxJumps = 8

// Resolve completes spec (from ParseSSHSpec) as ssh(1) would: what spec
// says wins, then the configuration files (c may be nil), then the
// defaults (port 22, user me.Name). Errors name the file and keyword
// and what to write.
func (c *SSHConfigFiles) Resolve(spec SSHTarget, me LocalUser) (SSHTarget, error) {
	t, err := c.resolve(spec, me, true, 0, spec.Host)
	if err != nil {
		return t, fmt.Errorf("%s: %w", spec.Host, err)
	}
	return t, nil
}

// resolve follows the host's own ProxyJump (or refuses its ProxyCommand)
// when follow is set: a hop after the first of a chain is reached through
// the one before, whatever its configuration says.
func (c *SSHConfigFiles) resolve(spec SSHTarget, me LocalUser, follow bool, depth int, chain string) (SSHTarget, error) {
	alias := spec.Host
	t := SSHTarget{User: spec.User, Host: alias, Port: spec.Port}
	where := func(key string) string {
		return fmt.Sprintf("%s (for Host %s in %s)", key, alias, strings.Join(c.Files(), ", "))
	}
	hostName, err := c.get(alias, "HostName")
	if err != nil {
		return t, err
	}
	if hostName != "" {
		hostName, err = expandTokens(hostName, map[byte]string{'h': alias})
		if err != nil {
			return t, fmt.Errorf("%s: %w", where("HostName"), err)
		}
		if err := checkHostName(hostName); err != nil {
			return t, fmt.Errorf("%s: %w: write HostName NAME-OR-ADDRESS", where("HostName"), err)
		}
		t.Host = hostName
	}
	if t.Host != alias {
		t.Alias = alias
	}
	if t.Port == 0 {
		p, err := c.get(alias, "Port")
		if err != nil {
			return t, err
		}
		if p == "" {
			t.Port = 22
		} else if t.Port, err = parsePort(p); err != nil {
			return t, fmt.Errorf("%s: %w", where("Port"), err)
		}
	}
	if t.User == "" {
		if t.User, err = c.get(alias, "User"); err != nil {
			return t, err
		}
	}
	if t.User == "" {
		t.User = me.Name
	}
	if t.User == "" {
		return t, fmt.Errorf("no user: write user@%s, or User in the ssh config", alias)
	}

	ids, err := c.getAll(alias, "IdentityFile")
	if err != nil {
		return t, err
	}
	tokens := map[byte]string{'d': me.Home, 'h': t.Host, 'p': strconv.Itoa(t.Port), 'r': t.User, 'u': me.Name, 'n': alias}
	for _, id := range ids {
		if strings.EqualFold(id, "none") {
			continue
		}
		f, err := expandPath(id, me.Home, tokens)
		if err != nil {
			return t, fmt.Errorf("%s %q: %w", where("IdentityFile"), id, err)
		}
		if !slices.Contains(t.IdentityFiles, f) {
			t.IdentityFiles = append(t.IdentityFiles, f)
		}
	}

	if !follow {
		return t, nil
	}
	jump, err := c.get(alias, "ProxyJump")
	if err != nil {
		return t, err
	}
	if jump == "" || strings.EqualFold(jump, "none") {
		cmd, err := c.get(alias, "ProxyCommand")
		if err != nil {
			return t, err
		}
		if cmd != "" && !strings.EqualFold(cmd, "none") {
			return t, fmt.Errorf("%s is not supported (hubsecrets runs no local command to connect): for a bastion write ProxyJump [user@]bastion[:port] instead", where("ProxyCommand"))
		}
		return t, nil
	}
	// As ssh -J does: the first hop is reached as its own configuration
	// says (its ProxyJump too), each next one through the one before.
	for i, hop := range strings.Split(jump, ",") {
		hs, err := ParseSSHSpec(strings.TrimSpace(hop))
		if err != nil {
			return t, fmt.Errorf("%s: %w", where("ProxyJump"), err)
		}
		next := chain + " -> " + hs.Host
		if depth+1 > maxJumps {
			return t, fmt.Errorf("ProxyJump goes more than %d hops deep (%s): is there a loop in %s?", maxJumps, next, strings.Join(c.Files(), ", "))
		}
		h, err := c.resolve(hs, me, i == 0, depth+1, next)
		if err != nil {
			return t, fmt.Errorf("jump host %s: %w", hs.Host, err)
		}
		if i == 0 {
			t.Jump = append(t.Jump, h.Jump...)
		}
		h.Jump = nil
		t.Jump = append(t.Jump, h)
		if len(t.Jump) > maxJumps {
			return t, fmt.Errorf("ProxyJump goes more than %d hops deep (%s): is there a loop in %s?", maxJumps, next, strings.Join(c.Files(), ", "))
		}
	}
	return t, nil
}

// expandTokens replaces ssh_config's %x tokens from vals; %% is a %.
func expandTokens(s string, vals map[byte]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends with a lone %%: write %%%% for a percent sign", s)
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := vals[s[i]]
		if !ok || v == "" {
			return "", fmt.Errorf("%q: token %%%c is not supported here", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// expandPath expands ~ and the tokens in an IdentityFile value.
func expandPath(p, home string, tokens map[byte]string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			return "", fmt.Errorf("~ but HOME is not set: write an absolute path")
		}
		p = filepath.Join(home, p[1:])
	} else if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("~user is not supported: write an absolute path")
	}
	return expandTokens(p, tokens)
}
