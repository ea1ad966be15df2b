package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// testSSHConfigAlias scans the sshd through an ssh config Host alias:
// HostName, Port, User and IdentityFile (with ~) come from the config
// alone; no --identity, no default key, no agent. The same host named by
// its address too is scanned once.
func testSSHConfigAlias(t *testing.T, s *sshd, knownHosts string, broken *testtree.Tree) {
	install(t, broken, s.root)
	home := t.TempDir()
	key, err := os.ReadFile(s.key)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	if err := os.WriteFile(filepath.Join(home, ".ssh", "hub_test_key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(home, "ssh_config")
	os.WriteFile(conf, []byte("Host hub-alias\n  HostName 127.0.0.1\n  Port "+s.port+"\n  User root\n  IdentityFile ~/.ssh/hub_test_key\n"), 0o600)
	vars := map[string]string{"HOME": home, "USER": "nobody-here"}
	hosts := filepath.Join(home, "hosts.txt")
	os.WriteFile(hosts, []byte("hub-alias\nroot@127.0.0.1:"+s.port+"  # the same host\n"), 0o644)

	r := runCLIWith(t, nil, vars, "check", "--hosts", hosts, "--ssh-config", conf, "--known-hosts", knownHosts, "--format", "json")
	var rep struct {
		Host    string
		Summary struct{ Deny int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitDenied || rep.Host != "root@hub-alias:"+s.port || rep.Summary.Deny == 0 {
		t.Fatalf("exit %d, report %+v (%v): want 1 and one host root@hub-alias:%s with denials\n%s%s", r.code, rep, err, s.port, r.stdout, r.stderr)
	}
	wantDup := "hubsecrets check: " + hosts + ":2: root@127.0.0.1:" + s.port + " is root@127.0.0.1:" + s.port + " again (" + hosts + ":1 hub-alias): scanned once\n"
	if r.stderr != wantDup {
		t.Errorf("stderr %q, want %q", r.stderr, wantDup)
	}
	// The text report names the host with its user.
	r = runCLIWith(t, nil, vars, "check", "--ssh", "hub-alias", "--ssh-config", conf, "--known-hosts", knownHosts)
	if r.code != exitDenied || !strings.Contains(r.stdout, "(profile instance, host root@hub-alias:"+s.port+")") {
		t.Errorf("text: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The line's user wins over the config's: needspw cannot sudo.
	r = runCLIWith(t, nil, vars, "check", "--ssh", "needspw@hub-alias", "--ssh-config", conf, "--known-hosts", knownHosts)
	if r.code != exitFailure || !strings.Contains(r.stderr, "host needspw@hub-alias:"+s.port+": user needspw needs passwordless sudo") {
		t.Errorf("needspw@: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Without the config the alias is just a name that does not resolve.
	r = runCLIWith(t, nil, vars, "check", "--ssh", "hub-alias", "--ssh-config", "none", "--identity", s.key, "--known-hosts", knownHosts)
	if r.code != exitFailure || !strings.Contains(r.stderr, "host nobody-here@hub-alias: cannot connect") {
		t.Errorf("no config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// testProxyJump scans a host only the bastion can reach: the sshd itself,
// under a name only its root's /etc/hosts resolves, through the same sshd
// as ProxyJump bastion; then through a chain of two bastions. Both hops'
// host keys are verified: a known_hosts that lacks either one fails.
func testProxyJump(t *testing.T, s *sshd, knownHosts string, broken *testtree.Tree) {
	const behind = "hub-behind-bastion"
	if addrs, err := net.LookupHost(behind); err == nil {
		t.Fatalf("%s resolves here (%v): the test needs a name only the bastion knows", behind, addrs)
	}
	install(t, broken, s.root)
	f, err := os.OpenFile(filepath.Join(s.root, "etc/hosts"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("127.0.0.1 " + behind + "\n")
	f.Close()
	// Forwarding from the bastion only to what the test asks for.
	conf := "AllowTcpForwarding local\nPermitOpen " + behind + ":" + s.port + " 127.0.0.1:" + s.port + "\n"
	if err := os.WriteFile(filepath.Join(s.root, "etc/ssh/sshd_config.d/zz-hubsecrets-jump.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.reload(t)

	work := t.TempDir()
	sshConfig := filepath.Join(work, "ssh_config")
	os.WriteFile(sshConfig, []byte(`Host bastion bastion2
  HostName 127.0.0.1
  Port `+s.port+`
  User root
  IdentityFile `+s.key+`
Host `+behind+`
  Port `+s.port+`
  User root
  IdentityFile `+s.key+`
  ProxyJump bastion
Host chained
  HostName `+behind+`
  Port `+s.port+`
  User root
  IdentityFile `+s.key+`
  ProxyJump bastion,ssh://root@bastion2
`), 0o600)
	known, err := os.ReadFile(knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	bastionOnly := filepath.Join(work, "known_hosts.bastion")
	os.WriteFile(bastionOnly, known, 0o644)
	var behindLines []string
	for _, l := range strings.Split(strings.TrimSpace(string(known)), "\n") {
		if name, rest, ok := strings.Cut(l, " "); ok && name == "[127.0.0.1]:"+s.port {
			behindLines = append(behindLines, "["+behind+"]:"+s.port+" "+rest)
		}
	}
	if len(behindLines) == 0 {
		t.Fatalf("no [127.0.0.1]:%s line in %s", s.port, knownHosts)
	}
	behindOnly := filepath.Join(work, "known_hosts.behind")
	os.WriteFile(behindOnly, []byte(strings.Join(behindLines, "\n")+"\n"), 0o644)
	both := filepath.Join(work, "known_hosts")
	os.WriteFile(both, append(known, []byte(strings.Join(behindLines, "\n")+"\n")...), 0o644)
	vars := map[string]string{"HOME": work, "USER": "nobody-here"}

	for _, host := range []string{behind, "chained"} {
		r := runCLIWith(t, nil, vars, "check", "--ssh", host, "--ssh-config", sshConfig, "--known-hosts", both, "--format", "json")
		var rep struct {
			Host    string
			Summary struct{ Deny int }
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitDenied || rep.Host != "root@"+host+":"+s.port || rep.Summary.Deny == 0 {
			t.Errorf("%s: exit %d, report %+v (%v): want 1 and host root@%s:%s with denials\n%s%s", host, r.code, rep, err, host, s.port, r.stdout, r.stderr)
		}
	}
	for _, tt := range []struct{ known, want string }{
		{behindOnly, "host root@" + behind + ":" + s.port + ": jump host root@bastion:" + s.port + ": the host key of bastion:" + s.port + " is not known"},
		{bastionOnly, "host root@" + behind + ":" + s.port + ": through jump host root@bastion:" + s.port + ": the host key of " + behind + ":" + s.port + " is not known"},
	} {
		r := runCLIWith(t, nil, vars, "check", "--ssh", behind, "--ssh-config", sshConfig, "--known-hosts", tt.known)
		if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("known hosts %s: exit %d stderr %q, want %q", filepath.Base(tt.known), r.code, r.stderr, tt.want)
		}
	}
}
