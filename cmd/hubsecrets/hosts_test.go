package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
)

const testSSHConfig = `# as ssh users write them
Host hub1
    HostName 10.0.0.5
    User admin
    Port 2222
    IdentityFile ~/.ssh/hub_key
    IdentityFile "/keys/shared key"

Host hub2
    HostName %h.example.org

Host *.internal
    User ops
    ProxyJump bastion

Host bastion
    HostName 192.0.2.1
    User jump
    IdentityFile %d/.ssh/bastion_%r

Host inner
    ProxyJump outer,ssh://root@bastion:2200

Host outer
    ProxyJump gateway

Host inner2
    ProxyJump bastion,viacmd

Host loop1
    ProxyJump loop2
Host loop2
    ProxyJump loop1

Host viacmd
    ProxyCommand nc %h %p

Host badport
    Port ssh
`

func loadTestSSHConfig(t *testing.T) *source.SSHConfigFiles {
	t.Helper()
	f := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(f, []byte(testSSHConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := source.LoadSSHConfigFiles(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestResolveHosts: a line says what it says, the ssh config fills the
// rest, then the defaults; duplicates after resolution are scanned once.
func TestResolveHosts(t *testing.T) {
	cfg := loadTestSSHConfig(t)
	me := source.LocalUser{Name: "me", Home: "/home/me"}
	bastion := source.SSHTarget{User: "jump", Host: "192.0.2.1", Port: 22, Alias: "bastion", IdentityFiles: []string{"/home/me/.ssh/bastion_jump"}}
	tests := []struct {
		spec string
		want source.SSHTarget
		name string // as reports show it
	}{
		{"hub1", source.SSHTarget{User: "admin", Host: "10.0.0.5", Port: 2222, Alias: "hub1",
			IdentityFiles: []string{"/home/me/.ssh/hub_key", "/keys/shared key"}}, "admin@hub1:2222"},
		// the line wins over the config
		{"root@hub1:22", source.SSHTarget{User: "root", Host: "10.0.0.5", Port: 22, Alias: "hub1",
			IdentityFiles: []string{"/home/me/.ssh/hub_key", "/keys/shared key"}}, "root@hub1"},
		{"ssh://root@hub2:2200", source.SSHTarget{User: "root", Host: "hub2.example.org", Port: 2200, Alias: "hub2"}, "root@hub2:2200"},
		{"hub2", source.SSHTarget{User: "me", Host: "hub2.example.org", Port: 22, Alias: "hub2"}, "me@hub2"},
		{"db.internal", source.SSHTarget{User: "ops", Host: "db.internal", Port: 22, Jump: []source.SSHTarget{bastion}}, "ops@db.internal"},
		// the first hop's own ProxyJump comes first, as with ssh -J
		{"inner", source.SSHTarget{User: "me", Host: "inner", Port: 22, Jump: []source.SSHTarget{
			{User: "me", Host: "gateway", Port: 22},
			{User: "me", Host: "outer", Port: 22},
			{User: "root", Host: "192.0.2.1", Port: 2200, Alias: "bastion", IdentityFiles: []string{"/home/me/.ssh/bastion_root"}},
		}}, "me@inner"},
		// a later hop is reached through the one before: its own ProxyCommand is not used
		{"inner2", source.SSHTarget{User: "me", Host: "inner2", Port: 22, Jump: []source.SSHTarget{bastion, {User: "me", Host: "viacmd", Port: 22}}}, "me@inner2"},
		{"[::1]:2222", source.SSHTarget{User: "me", Host: "::1", Port: 2222}, "me@[::1]:2222"},
		{"ssh://ops@[2001:db8::7]:2200/", source.SSHTarget{User: "ops", Host: "2001:db8::7", Port: 2200}, "ops@[2001:db8::7]:2200"},
		{"plain", source.SSHTarget{User: "me", Host: "plain", Port: 22}, "me@plain"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			ts, errs, dups := resolveHosts([]hostLine{{"hosts.txt:1", tt.spec}}, cfg, me)
			if len(errs) > 0 || len(dups) > 0 || len(ts) != 1 {
				t.Fatalf("errs %q dups %q targets %+v", errs, dups, ts)
			}
			if !reflect.DeepEqual(ts[0], tt.want) || ts[0].String() != tt.name {
				t.Errorf("got %+v (%s),\nwant %+v (%s)", ts[0], ts[0].String(), tt.want, tt.name)
			}
		})
	}

	// No config at all: the old meaning of every line.
	ts, errs, dups := resolveHosts([]hostLine{{"--ssh", "hub1"}}, nil, me)
	if len(errs) > 0 || len(dups) > 0 || !reflect.DeepEqual(ts, []source.SSHTarget{{User: "me", Host: "hub1", Port: 22}}) {
		t.Errorf("without a config: %+v %q", ts, errs)
	}

	lines := []hostLine{
		{"hosts.txt:1", "hub1"},
		{"hosts.txt:2", "admin@10.0.0.5:2222"}, // hub1 again
		{"hosts.txt:3", "db.internal"},
		{"hosts.txt:4", "ops@db.internal"},              // again, through the same bastion
		{"hosts.txt:5", "ops@192.0.2.1"},                // not bastion: no jump, another user
		{"hosts.txt:6", "ssh://admin@10.0.0.5:2222"},    // hub1 a third time
		{"hosts.txt:7", "jump@bastion"},                 // the bastion itself, directly
		{"hosts.txt:8", "jump@192.0.2.1"},               // and again by address
		{"hosts.txt:9", "ops@db.internal:22"},           // the explicit default port is the same host
		{"hosts.txt:10", "admin@hub1.example.org:2222"}, // another name: not resolved by DNS
	}
	ts, errs, dups = resolveHosts(lines, cfg, me)
	var got []string
	for _, t := range ts {
		got = append(got, t.String())
	}
	want := []string{"admin@hub1:2222", "ops@db.internal", "ops@192.0.2.1", "jump@bastion", "admin@hub1.example.org:2222"}
	if len(errs) > 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("scanned %q (errs %q), want %q", got, errs, want)
	}
	wantDups := []string{
		"hosts.txt:2: admin@10.0.0.5:2222 is admin@10.0.0.5:2222 again (hosts.txt:1 hub1): scanned once",
		"hosts.txt:4: ops@db.internal is ops@db.internal:22 via jump@192.0.2.1:22 again (hosts.txt:3 db.internal): scanned once",
		"hosts.txt:6: ssh://admin@10.0.0.5:2222 is admin@10.0.0.5:2222 again (hosts.txt:1 hub1): scanned once",
		"hosts.txt:8: jump@192.0.2.1 is jump@192.0.2.1:22 again (hosts.txt:7 jump@bastion): scanned once",
		"hosts.txt:9: ops@db.internal:22 is ops@db.internal:22 via jump@192.0.2.1:22 again (hosts.txt:3 db.internal): scanned once",
	}
	if !reflect.DeepEqual(dups, wantDups) {
		t.Errorf("duplicates:\n%s\nwant\n%s", strings.Join(dups, "\n"), strings.Join(wantDups, "\n"))
	}
}

// TestResolveHostsErrors: every bad line is named, with what to write.
func TestResolveHostsErrors(t *testing.T) {
	cfg := loadTestSSHConfig(t)
	for _, tt := range []struct{ spec, want string }{
		{"loop1", "hosts.txt:1: loop1: jump host loop2: jump host loop1: "},
		{"loop1", "ProxyJump goes more than 8 hops deep (loop1 -> loop2 -> loop1"},
		{"viacmd", "ProxyCommand (for Host viacmd in "},
		{"viacmd", "is not supported (hubsecrets runs no local command to connect): for a bastion write ProxyJump [user@]bastion[:port] instead"},
		{"badport", `Port (for Host badport in `},
		{"badport", `port "ssh": want a number from 1 to 65535`},
		{"http://hub1", "only ssh:// addresses are hosts: write ssh://user@host:port"},
		{"ssh://hub1/srv", "an ssh:// address has no path"},
		{"ssh://root:pw@hub1", "no password in an address"},
		{"hub1:", "empty port after the colon: write host:port, or leave out the colon"},
		{"[hub1]:22", "brackets are for IPv6 addresses, as in [::1]:2222"},
	} {
		_, errs, _ := resolveHosts([]hostLine{{"hosts.txt:1", tt.spec}}, cfg, source.LocalUser{Name: "me", Home: "/home/me"})
		if len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
			t.Errorf("%s: %q, want %q", tt.spec, errs, tt.want)
		}
	}
	if _, errs, _ := resolveHosts([]hostLine{{"--ssh", "hub2"}}, cfg, source.LocalUser{}); len(errs) != 1 || errs[0] != "--ssh hub2: no user: write user@hub2, or User in the ssh config" {
		t.Errorf("no user: %q", errs)
	}
}

// TestHostsFileErrorsAllAtOnce: a hosts file with several bad lines
// names every one, and nothing is scanned.
func TestHostsFileErrorsAllAtOnce(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	conf := filepath.Join(dir, "ssh_config")
	os.WriteFile(conf, []byte(testSSHConfig), 0o600)
	hosts := filepath.Join(dir, "hosts.txt")
	os.WriteFile(hosts, []byte("root@hub1\nhub2 hub3\nroot@hub4:0\n# ok\nroot@viacmd\nssh://root@hub5:2222\n"), 0o644)
	r := runCLIWith(t, nil, map[string]string{"HOME": dir}, "check", "--hosts", hosts, "--ssh", "root@", "--identity", key, "--ssh-config", conf)
	want := []string{
		"hubsecrets check: 4 hosts are wrong, nothing was scanned:\n",
		"\n  hosts.txt:2: ",
		`"hub2 hub3": one host a line: write each on its own line, as [user@]host[:port] or ssh://user@host:port`,
		"\n  --ssh \"root@\": empty host: want [user@]host[:port] or ssh://user@host:port\n",
		"\n  " + hosts + `:3: "root@hub4:0": port "0": want a number from 1 to 65535`,
		"\n  " + hosts + ":5: viacmd: ProxyCommand",
	}
	want[1] = "\n  " + hosts + ":2: "
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if r.code != exitFailure || r.stdout != "" {
		t.Errorf("exit %d stdout %q: want 2 and nothing scanned", r.code, r.stdout)
	}

	// A config file that is not one names itself.
	os.WriteFile(conf, []byte("Match exec \"true\"\n  User x\n"), 0o600)
	r = runCLIWith(t, nil, nil, "check", "--ssh", "root@a", "--identity", key, "--ssh-config", conf)
	if r.code != exitFailure || !strings.Contains(r.stderr, "--ssh-config: "+conf+": ") {
		t.Errorf("bad config: exit %d stderr %q", r.code, r.stderr)
	}
}
