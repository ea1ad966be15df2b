package provisioner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

func prepared(t *testing.T, raw map[string]interface{}) *Provisioner {
	t.Helper()
	p := new(Provisioner)
	if err := p.Prepare(raw); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTarget makes an image root with just enough of /etc for the install
// script and the collector, and a remote_dir for the staged scripts.
func newTarget(t *testing.T) (l *localTarget, remoteDir string) {
	t.Helper()
	testenv.NeedRoot(t, "the install script chowns to root")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644)
	os.WriteFile(filepath.Join(root, layout.MachineIDPath), nil, 0o444)
	return &localTarget{t: t, root: root}, t.TempDir()
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// The whole provisioner against a real root: one upload, one install
// command, one collection; then the files are as promised and the image
// passes its own verification.
func TestProvisionInstallsAndVerifies(t *testing.T) {
	target, remote := newTarget(t)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "packer_build_name": "hub"})
	comm, ui := target.comm(), newUI()
	if err := p.Provision(context.Background(), ui, comm, map[string]interface{}{"User": "root"}); err != nil {
		t.Fatalf("Provision: %v\n%s", err, ui.all())
	}
	if len(comm.uploads) != 1 || len(comm.commands) != 2 {
		t.Fatalf("want 1 upload and 2 commands (install, collect), got %d uploads, commands %q", len(comm.uploads), comm.commands)
	}
	stage := comm.uploads[0].path
	if filepath.Dir(stage) != remote || !strings.HasSuffix(stage, ".sh") {
		t.Errorf("staged at %s, want a .sh file in remote_dir %s", stage, remote)
	}
	wantCmd := "PACKER_BUILD_NAME='hub' PACKER_BUILDER_TYPE='' sh '" + stage + "'"
	if comm.commands[0] != wantCmd {
		t.Errorf("install command = %q, want %q", comm.commands[0], wantCmd)
	}
	if !strings.HasSuffix(comm.commands[1], "-collect.sh'") {
		t.Errorf("collect command = %q", comm.commands[1])
	}
	if left, _ := os.ReadDir(remote); len(left) != 0 {
		t.Errorf("staged files left in remote_dir: %v", left)
	}

	root := target.root
	dir := filepath.Join(root, "srv/jupyterhub")
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{dir, os.ModeDir | 0o755},
		{filepath.Join(dir, "dhparam.pem"), 0o600},
		{filepath.Join(root, layout.ScriptPath), 0o755},
		{filepath.Join(root, layout.UnitPath), 0o644},
		{filepath.Join(root, layout.DropInPath("jupyterhub.service")), 0o644},
		{filepath.Join(root, "usr/local/libexec"), os.ModeDir | 0o755}, // parents as a package makes them
	} {
		if got := mode(t, c.path); got != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.mode)
		}
	}
	if target, err := os.Readlink(filepath.Join(root, layout.WantsLink)); err != nil || target != layout.UnitPath {
		t.Errorf("enable link: %q, %v", target, err)
	}
	pemData, _ := os.ReadFile(filepath.Join(dir, "dhparam.pem"))
	params, err := dhparam.ParsePEM(pemData)
	if err != nil || dhparam.Inspect(params).Group != "ffdhe2048" {
		t.Errorf("dhparam.pem is not ffdhe2048: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the secrets directory holds %v, want only dhparam.pem: the provisioner never writes a secret", entries)
	}
	if out := ui.all(); !strings.Contains(out, "Verified") {
		t.Errorf("no verification in the output:\n%s", out)
	}
}

// The generated script runs under every POSIX shell an image may have.
func TestInstallScriptShells(t *testing.T) {
	for _, sh := range [][]string{{"dash"}, {"bash", "--posix"}, {"busybox", "sh"}} {
		if _, ok := testenv.HaveTool(t, sh[0], "the install script under "+strings.Join(sh, " ")); !ok {
			continue
		}
		t.Run(sh[0], func(t *testing.T) {
			target, remote := newTarget(t)
			cmd := "{{.Vars}} " + strings.Join(sh, " ") + " '{{.Path}}'"
			p := prepared(t, map[string]interface{}{"remote_dir": remote, "execute_command": cmd, "owner": "root"})
			ui := newUI()
			if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
				t.Fatalf("Provision with %s: %v\n%s", sh, err, ui.all())
			}
		})
	}
}

func TestProvisionTwiceIsHarmless(t *testing.T) {
	target, remote := newTarget(t)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "directory_mode": "0750"})
	for i := 0; i < 2; i++ {
		ui := newUI()
		if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
			t.Fatalf("Provision #%d: %v\n%s", i+1, err, ui.all())
		}
		if strings.Contains(ui.all(), "WARNING") {
			t.Errorf("run #%d warned:\n%s", i+1, ui.all())
		}
	}
	if got := mode(t, filepath.Join(target.root, "srv/jupyterhub")); got != os.ModeDir|0o750 {
		t.Errorf("directory mode %v", got)
	}
}

// A directory made by someone else is brought to the configured mode.
func TestProvisionFixesExistingDirectory(t *testing.T) {
	target, remote := newTarget(t)
	dir := filepath.Join(target.root, "srv/jupyterhub")
	os.MkdirAll(dir, 0o777)
	os.Chmod(dir, 0o777)
	os.WriteFile(filepath.Join(dir, "dhparam.pem"), []byte("old"), 0o644)
	// A leftover of an interrupted install: not a secret, quietly replaced.
	os.WriteFile(filepath.Join(dir, ".hubsecrets-install.99.dhparam.pem"), []byte("half"), 0o600)
	p := prepared(t, map[string]interface{}{"remote_dir": remote})
	ui := newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
		t.Fatalf("%v\n%s", err, ui.all())
	}
	if strings.Contains(ui.all(), "WARNING") {
		t.Errorf("warned about a leftover that holds no secret:\n%s", ui.all())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v, want only dhparam.pem", entries)
	}
	if got := mode(t, dir); got != os.ModeDir|0o755 {
		t.Errorf("directory mode %v, want 0755", got)
	}
	if got := mode(t, filepath.Join(dir, "dhparam.pem")); got != 0o600 {
		t.Errorf("dhparam.pem mode %v, want 0600", got)
	}
}

func bakeSecrets(t *testing.T, root string) []string {
	t.Helper()
	dir := filepath.Join(root, "srv/jupyterhub")
	os.MkdirAll(dir, 0o755)
	var paths []string
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.TempPrefix + "1234"} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, "/srv/jupyterhub/"+name)
	}
	return paths
}

func TestProvisionRemovesBakedSecrets(t *testing.T) {
	target, remote := newTarget(t)
	baked := bakeSecrets(t, target.root)
	p := prepared(t, map[string]interface{}{"remote_dir": remote})
	ui := newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
		t.Fatalf("Provision: %v\n%s", err, ui.all())
	}
	warn := ui.errs.String()
	if !strings.Contains(warn, "WARNING") || !strings.Contains(warn, "may survive in the disk snapshot") {
		t.Errorf("no loud warning about surviving blocks:\n%s", warn)
	}
	for _, b := range baked {
		if !strings.Contains(warn, "!!!   "+b) {
			t.Errorf("warning does not list %s:\n%s", b, warn)
		}
		if _, err := os.Lstat(filepath.Join(target.root, b)); !os.IsNotExist(err) {
			t.Errorf("%s still in the image: %v", b, err)
		}
	}
	if strings.Contains(ui.all(), "0123456789abcdef") {
		t.Error("a secret's value reached the build output")
	}
}

func TestProvisionExistingSecretsFail(t *testing.T) {
	target, remote := newTarget(t)
	baked := bakeSecrets(t, target.root)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "existing_secrets": "fail"})
	comm, ui := target.comm(), newUI()
	err := p.Provision(context.Background(), ui, comm, nil)
	if err == nil || !strings.Contains(err.Error(), `existing_secrets = "fail"`) || !strings.Contains(err.Error(), baked[0]) {
		t.Fatalf("want an existing_secrets error listing %s, got %v", baked[0], err)
	}
	if len(comm.commands) != 2 || comm.commands[1] != "rm -f -- '"+comm.uploads[0].path+"'" {
		t.Errorf("want the install, then the staged script's removal, got %q", comm.commands)
	}
	for _, b := range baked {
		if _, err := os.Lstat(filepath.Join(target.root, b)); err != nil {
			t.Errorf("fail mode changed the image: %s: %v", b, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(target.root, layout.UnitPath)); !os.IsNotExist(err) {
		t.Error("fail mode installed the unit anyway")
	}
}

// Verification failing fails the build, prints the report as the CLI
// does, and still saves report_file.
func TestProvisionVerificationFails(t *testing.T) {
	target, remote := newTarget(t)
	// Between install and collection, the enable link goes and dhparam.pem
	// becomes world-readable: the image profile must deny.
	target.mutate = func(root string) {
		os.Remove(filepath.Join(root, layout.WantsLink))
		os.Chmod(filepath.Join(root, "srv/jupyterhub/dhparam.pem"), 0o644)
	}
	reportFile := filepath.Join(t.TempDir(), "report.json")
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "report_file": reportFile, "report_format": "json"})
	ui := newUI()
	err := p.Provision(context.Background(), ui, target.comm(), nil)
	if err == nil || !strings.Contains(err.Error(), "verify") {
		t.Fatalf("want a verification error, got %v", err)
	}
	if !strings.Contains(ui.errs.String(), layout.WantsLink) {
		t.Errorf("the report does not name the missing link:\n%s", ui.errs.String())
	}
	data, rerr := os.ReadFile(reportFile)
	if rerr != nil {
		t.Fatalf("report_file not written: %v", rerr)
	}
	var doc interface{}
	if err := json.Unmarshal(data, &doc); err != nil || !strings.Contains(string(data), "deny") {
		t.Errorf("report_file is not a JSON report with deny findings: %v\n%s", err, data)
	}
}

func TestProvisionSkipVerify(t *testing.T) {
	target, remote := newTarget(t)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "skip_verify": true})
	comm := target.comm()
	if err := p.Provision(context.Background(), newUI(), comm, nil); err != nil {
		t.Fatal(err)
	}
	if len(comm.uploads) != 1 || len(comm.commands) != 1 {
		t.Errorf("skip_verify: %d uploads, commands %q", len(comm.uploads), comm.commands)
	}
	if left, _ := os.ReadDir(remote); len(left) != 0 {
		t.Errorf("staged files left: %v", left)
	}
}

func TestProvisionMissingOwner(t *testing.T) {
	target, remote := newTarget(t)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "owner": "hubsecrets-no-such-user"})
	ui := newUI()
	err := p.Provision(context.Background(), ui, target.comm(), nil)
	if err == nil || !strings.Contains(err.Error(), "owner") {
		t.Fatalf("want an owner error, got %v", err)
	}
	if !strings.Contains(ui.errs.String(), "useradd") {
		t.Errorf("the script's error does not say how to fix it:\n%s", ui.errs.String())
	}
	if _, err := os.Lstat(filepath.Join(target.root, "srv/jupyterhub")); !os.IsNotExist(err) {
		t.Error("the directory was made although the owner is missing")
	}
}

func TestProvisionRefusesSymlinkedDirectory(t *testing.T) {
	target, remote := newTarget(t)
	elsewhere := t.TempDir()
	os.MkdirAll(filepath.Join(target.root, "srv"), 0o755)
	os.Symlink(elsewhere, filepath.Join(target.root, "srv/jupyterhub"))
	p := prepared(t, map[string]interface{}{"remote_dir": remote})
	ui := newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), nil); err == nil {
		t.Fatal("a symlinked secrets directory was accepted")
	}
	if !strings.Contains(ui.errs.String(), "symlink") {
		t.Errorf("error output does not say why:\n%s", ui.errs.String())
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("wrote through the symlink: %v", entries)
	}
}

// Canned answers: what sudo and a non-root user look like to the plugin.
func TestProvisionCommandFailures(t *testing.T) {
	tests := []struct {
		name    string
		raw     map[string]interface{}
		reply   reply
		wantCmd string
		wantErr string
	}{
		{"sudo wants a password", map[string]interface{}{"use_sudo": true},
			reply{stderr: "sudo: a password is required\n", status: 1},
			"sudo -n PACKER_BUILD_NAME='' PACKER_BUILDER_TYPE='' sh '", `needs passwordless sudo for "builder"`},
		{"sudo missing", map[string]interface{}{"use_sudo": true},
			reply{stderr: "sh: 1: sudo: not found\n", status: 127},
			"sudo -n ", "sudo is not installed"},
		{"sudo wants a tty", map[string]interface{}{"use_sudo": true},
			reply{stderr: "sudo: sorry, you must have a tty to run sudo\n", status: 1},
			"sudo -n ", `"Defaults:builder !requiretty"`},
		{"not a sudoer", map[string]interface{}{"use_sudo": true},
			reply{stderr: "builder is not in the sudoers file.  This incident will be reported.\n", status: 1},
			"sudo -n ", `"builder" may not run sh as root through sudo`},
		{"not root", map[string]interface{}{},
			reply{stderr: "hubsecrets: error: must run as root\n", status: exitNotRoot},
			"PACKER_BUILD_NAME=", "set use_sudo = true"},
		{"other failure", map[string]interface{}{},
			reply{stderr: "mkdir: cannot create directory\n", status: 1},
			"PACKER_BUILD_NAME=", "exited with status 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := prepared(t, tc.raw)
			comm := &recComm{respond: func(string) reply { return tc.reply }}
			ui := newUI()
			err := p.Provision(context.Background(), ui, comm, map[string]interface{}{"User": "builder"})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			// The install, then the removal of the script sudo did not run.
			if len(comm.commands) != 2 || !strings.HasPrefix(comm.commands[0], tc.wantCmd) ||
				comm.commands[1] != "rm -f -- '"+comm.uploads[0].path+"'" {
				t.Errorf("commands %q, want the install starting %q, then rm of the staged script", comm.commands, tc.wantCmd)
			}
		})
	}
}

// The uploaded script states every mode and owner itself.
func TestInstallScriptContent(t *testing.T) {
	p := prepared(t, map[string]interface{}{"owner": "jupyterhub", "group": "jupyterhub", "directory_mode": "0700"})
	comm := &recComm{respond: func(string) reply { return reply{status: 1} }}
	p.Provision(context.Background(), newUI(), comm, nil)
	if len(comm.uploads) != 1 {
		t.Fatalf("uploads: %d", len(comm.uploads))
	}
	s := comm.uploads[0].data
	for _, want := range []string{
		"#!/bin/sh\n",
		"\nrm -f -- \"$0\"",
		"\numask 077\n",
		"\nOWNER='jupyterhub'\nGROUP='jupyterhub'\nMODE='0700'\nEXISTING='remove'\n",
		"\nput '/srv/jupyterhub/dhparam.pem' 0600 \"$OWNER\" \"$GROUP\" '-----BEGIN DH PARAMETERS-----",
		"\nput '" + layout.ScriptPath + "' 0755 root root '",
		"\nput '" + layout.UnitPath + "' 0644 root root '",
		"\nput '" + layout.DropInPath("jupyterhub.service") + "' 0644 root root '",
		"\nlink '" + layout.WantsLink + "' '" + layout.UnitPath + "'\n",
		"-collect.sh'",
		// the SSH user runs the collector, maybe not as root: it must read it
		"\n(umask 022 && set -C && printf '%s' ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("install script lacks %q", want)
		}
	}
	// As root (through sudo -n for another user), then removed at once.
	lines := strings.SplitN(s, "\n", 5)
	if !strings.HasPrefix(s, "#!/bin/sh\n# ") || !strings.Contains(lines[2], "exec sudo -n") || !strings.Contains(lines[3], `rm -f -- "$0"`) {
		t.Errorf("the script must remove its staged copy first:\n%s", s[:200])
	}
}

func TestProvisionNeedsACommunicator(t *testing.T) {
	p := prepared(t, nil)
	err := p.Provision(context.Background(), newUI(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "communicator") {
		t.Errorf("Provision without a communicator: %v", err)
	}
}

// TestProvisionHubOwnUser is the documented example, a hub run as its own
// user (here nobody:nogroup, which the test machine has): the build passes
// its own verification (it denied HUB005 and HUB024), the directory stays
// root's with the group, and the image's contract carries the owner, so an
// instance's check needs no --data.
func TestProvisionHubOwnUser(t *testing.T) {
	target, remote := newTarget(t)
	os.WriteFile(filepath.Join(target.root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"), 0o644)
	os.WriteFile(filepath.Join(target.root, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	p := prepared(t, map[string]interface{}{
		"remote_dir": remote, "owner": "nobody", "group": "nogroup", "directory_mode": "0750", "existing_secrets": "fail",
	})
	ui := newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), map[string]interface{}{"User": "root"}); err != nil {
		t.Fatalf("Provision: %v\n%s", err, ui.all())
	}
	dir := filepath.Join(target.root, "srv/jupyterhub")
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 65534 || fi.Mode().Perm() != 0o750 {
		t.Errorf("directory %d:%d %v, want 0:65534 0750", st.Uid, st.Gid, fi.Mode().Perm())
	}
	fi, _ = os.Stat(filepath.Join(dir, "dhparam.pem"))
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 || fi.Mode().Perm() != 0o600 {
		t.Errorf("dhparam.pem %d:%d %v, want nobody:nogroup 0600", st.Uid, st.Gid, fi.Mode().Perm())
	}
	k, err := os.ReadFile(filepath.Join(target.root, "etc/hubsecrets/params.json"))
	if err != nil || !strings.Contains(string(k), `"owner": "nobody"`) || !strings.Contains(string(k), `"group": "nogroup"`) {
		t.Errorf("contract: %v\n%s", err, k)
	}
	if !strings.Contains(ui.all(), "Verified: no deny findings") {
		t.Errorf("not verified:\n%s", ui.all())
	}
}

// TestPrepareDHThroughThePolicy: dhparam_file and dhparam_group are judged
// by the policy with the min_dh_bits in force (policy_data), not by a Go
// threshold of their own.
func TestPrepareDHThroughThePolicy(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "site.json")
	os.WriteFile(data, []byte(`{"hubsecrets": {"params": {"min_dh_bits": 3072}}}`), 0o644)
	var p Provisioner
	err := p.Prepare(map[string]interface{}{"policy_data": []string{data}, "dhparam_group": "ffdhe2048"})
	if err == nil || !strings.Contains(err.Error(), "dhparam_group") || !strings.Contains(err.Error(), "HUB026") {
		t.Errorf("ffdhe2048 under min_dh_bits 3072: %v", err)
	}
	// With no DH option, the default is the smallest group the policy takes.
	if err := p.Prepare(map[string]interface{}{"policy_data": []string{data}}); err != nil || p.config.DHParamGroup != "ffdhe3072" {
		t.Errorf("default under min_dh_bits 3072: %v, group %q", err, p.config.DHParamGroup)
	}
	if err := p.Prepare(map[string]interface{}{"policy_data": []string{data}, "dhparam_group": "ffdhe3072"}); err != nil {
		t.Errorf("ffdhe3072 under min_dh_bits 3072: %v", err)
	}
	if err := p.Prepare(map[string]interface{}{"policy_data": []string{data}, "dhparam_bits": 2048}); err == nil || !strings.Contains(err.Error(), "min_dh_bits") {
		t.Errorf("dhparam_bits 2048 under min_dh_bits 3072: %v", err)
	}
}

// The install leaves nothing clones would share: the machine ID emptied,
// D-Bus's own ID replaced by a link, cloud-init's record of the build
// machine removed (and nothing else of cloud-init's), each said; and the
// image then passes HUB032, HUB063 and HUB064.
func TestProvisionClearsImageIdentity(t *testing.T) {
	target, remote := newTarget(t)
	root := target.root
	write := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	write(layout.MachineIDPath, "0123456789abcdef0123456789abcdef\n")
	write(layout.DBusMachineIDPath, "0123456789abcdef0123456789abcdef\n")
	write(layout.CloudInstanceIDPath, "i-0123\n")
	write("/var/lib/cloud/instances/i-0123/boot-finished", "done\n")
	if err := os.Symlink("/var/lib/cloud/instances/i-0123", filepath.Join(root, layout.CloudInstanceLinkPath)); err != nil {
		t.Fatal(err)
	}
	p := prepared(t, map[string]interface{}{"remote_dir": remote})
	ui := newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
		t.Fatalf("Provision: %v\n%s", err, ui.all())
	}
	if fi, err := os.Lstat(filepath.Join(root, layout.MachineIDPath)); err != nil || fi.Size() != 0 || fi.Mode() != 0o444 {
		t.Errorf("/etc/machine-id: %v %v, want an empty 0444 file", fi, err)
	}
	if got, err := os.Readlink(filepath.Join(root, layout.DBusMachineIDPath)); err != nil || got != layout.MachineIDPath {
		t.Errorf("dbus machine-id links to %q (%v), want %s", got, err, layout.MachineIDPath)
	}
	for _, gone := range []string{layout.CloudInstanceIDPath, layout.CloudInstanceLinkPath} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "/var/lib/cloud/instances/i-0123/boot-finished")); err != nil {
		t.Errorf("removed more of cloud-init's state than its instance record: %v", err)
	}
	out := ui.all()
	for _, want := range []string{
		"hubsecrets: emptied /etc/machine-id",
		"hubsecrets: replaced /var/lib/dbus/machine-id, an ID of its own, by a link to /etc/machine-id",
		"hubsecrets: removed /var/lib/cloud/data/instance-id: cloud-init's record of the build machine",
		"hubsecrets: removed /var/lib/cloud/instance: cloud-init's record of the build machine",
		"Verified",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A second run finds nothing to do, and says nothing about it.
	ui = newUI()
	if err := p.Provision(context.Background(), ui, target.comm(), nil); err != nil {
		t.Fatalf("Provision again: %v\n%s", err, ui.all())
	}
	for _, quiet := range []string{"emptied", "machine-id, an ID", "relinked", "cloud-init's record"} {
		if strings.Contains(ui.all(), quiet) {
			t.Errorf("second run says %q:\n%s", quiet, ui.all())
		}
	}
}
