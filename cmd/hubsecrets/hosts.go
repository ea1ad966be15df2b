package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
)

// The hosts of --ssh and --hosts, resolved as ssh(1) would resolve them:
// what the line says, then the ssh config files, then the defaults.

// systemSSHConfig is read after the user's, as ssh(1) does.
const systemSSHConfig = "/etc/ssh/ssh_config"

// hostLine is one host as written, and where.
type hostLine struct {
	where string // "hosts.txt:3" or "--ssh"
	spec  string
}

// targets lists the hosts of --ssh and --hosts, in that order, each
// resolved through the ssh config files. Every bad line is reported at
// once; a host named twice (the same user, address and jump hosts after
// resolution) is scanned once, and warn says so.
func (s *sshFlags) targets(e *env, warn func(format string, a ...any)) ([]source.SSHTarget, error) {
	var lines []hostLine
	for _, spec := range s.hosts {
		lines = append(lines, hostLine{"--ssh", spec})
	}
	var bad []string
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
		more, errs, err := readHostsFile(r, name)
		if err != nil {
			return nil, fmt.Errorf("--hosts %w", err)
		}
		if len(more) == 0 && len(errs) == 0 {
			return nil, fmt.Errorf("--hosts %s: no hosts in it", name)
		}
		lines, bad = append(lines, more...), errs
	}
	cfg, err := s.loadSSHConfig(e)
	if err != nil {
		return nil, err
	}
	me := source.LocalUser{Name: defaultUser(e), Home: e.getenv("HOME")}
	ts, errs, dups := resolveHosts(lines, cfg, me)
	bad = append(bad, errs...)
	if len(bad) > 0 {
		return nil, badHosts(bad)
	}
	for _, d := range dups {
		warn("%s", d)
	}
	return ts, nil
}

// badHosts is the error for bad lines: one a line, all of them.
func badHosts(bad []string) error {
	if len(bad) == 1 {
		return errors.New(bad[0])
	}
	return fmt.Errorf("%d hosts are wrong, nothing was scanned:\n  %s", len(bad), strings.Join(bad, "\n  "))
}

// readHostsFile reads one host a line ([user@]host[:port] or
// ssh://user@host:port); "#" starts a comment, blank lines are skipped.
// The lines that are not one host are returned as errors naming the file
// and line; err is for a file that cannot be read.
func readHostsFile(r io.Reader, name string) (lines []hostLine, bad []string, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) > 1:
			bad = append(bad, fmt.Sprintf("%s:%d: %q: one host a line: write each on its own line, as [user@]host[:port] or ssh://user@host:port", name, n, strings.TrimSpace(line)))
			continue
		}
		lines = append(lines, hostLine{fmt.Sprintf("%s:%d", name, n), f[0]})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return lines, bad, nil
}

// resolveHosts parses and resolves every line; errs names each bad one,
// dups each host named again (scanned once, where it was first named).
func resolveHosts(lines []hostLine, cfg *source.SSHConfigFiles, me source.LocalUser) (ts []source.SSHTarget, errs, dups []string) {
	first := map[string]hostLine{}
	for _, l := range lines {
		t, err := source.ParseSSHSpec(l.spec)
		if err == nil {
			t, err = cfg.Resolve(t, me)
		}
		if err != nil {
			if l.where == "--ssh" {
				errs = append(errs, fmt.Sprintf("--ssh %v", err))
			} else {
				errs = append(errs, fmt.Sprintf("%s: %v", l.where, err))
			}
			continue
		}
		key := t.Route()
		if f, ok := first[key]; ok {
			dups = append(dups, fmt.Sprintf("%s: %s is %s again (%s %s): scanned once", l.where, l.spec, key, f.where, f.spec))
			continue
		}
		first[key] = l
		ts = append(ts, t)
	}
	return ts, errs, dups
}

// loadSSHConfig reads --ssh-config FILE ("none": no file), else the
// user's ~/.ssh/config and the system's, those that exist.
func (s *sshFlags) loadSSHConfig(e *env) (*source.SSHConfigFiles, error) {
	var files []string
	switch {
	case s.sshConfig == "none":
	case s.sshConfig != "":
		files = []string{s.sshConfig}
	default:
		if home := e.getenv("HOME"); home != "" {
			files = append(files, filepath.Join(home, ".ssh", "config"))
		}
		files = append(files, systemSSHConfig)
		files = existing(files)
	}
	cfg, err := source.LoadSSHConfigFiles(files...)
	if err != nil {
		if s.sshConfig != "" {
			return nil, fmt.Errorf("--ssh-config: %w", err)
		}
		return nil, fmt.Errorf("ssh config: %w (pass --ssh-config FILE, or --ssh-config none to read none)", err)
	}
	return cfg, nil
}

// existing keeps the files that exist.
func existing(files []string) []string {
	var out []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			out = append(out, f)
		}
	}
	return out
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
