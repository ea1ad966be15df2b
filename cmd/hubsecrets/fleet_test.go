package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// runCLIWith runs the CLI in-process with stdin and an environment.
func runCLIWith(t *testing.T, stdin io.Reader, vars map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin:      stdin,
		stdout:     &stdout,
		stderr:     &stderr,
		getenv:     func(k string) string { return vars[k] },
		isTerminal: func(io.Writer) bool { return false },
		geteuid:    os.Geteuid,
	}
	code := run(e, args)
	return result{code, stdout.String(), stderr.String()}
}

// writeKey writes a fresh unencrypted ed25519 key and returns its path.
func writeKey(t *testing.T, dir string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckSourceFlags: contradictory or incomplete source flags exit 2
// before anything is scanned, naming the flag, file or line at fault.
func TestCheckSourceFlags(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	hosts := filepath.Join(dir, "hosts.txt")
	os.WriteFile(hosts, []byte("hub1\n# fine\nhub2 extra\n"), 0o644)
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("# nobody\n\n"), 0o644)
	home := t.TempDir()

	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"root and ssh", nil, []string{"check", "--root", "/", "--ssh", "hub1"}, "--root and --ssh/--hosts: scan one kind of source at a time"},
		{"tar and root", nil, []string{"check", "--tar", "x.tar", "--root", "/"}, "--root and --tar"},
		{"tar and hosts", nil, []string{"check", "--tar", "x.tar", "--hosts", hosts}, "--tar and --ssh/--hosts"},
		{"empty tar", nil, []string{"check", "--tar", ""}, "--tar: want an archive FILE"},
		{"identity without host", nil, []string{"check", "--identity", key}, "--identity is for SSH scans"},
		{"parallel without host", nil, []string{"check", "--parallel", "4"}, "--parallel is for SSH scans"},
		{"ssh config without host", nil, []string{"check", "--ssh-config", hosts}, "--ssh-config is for SSH scans"},
		{"parallel 0", nil, []string{"check", "--ssh", "root@hub1", "--parallel", "0"}, "--parallel 0: want 1 or more"},
		{"zero timeout", nil, []string{"check", "--ssh", "root@hub1", "--timeout", "0s"}, "--timeout and --host-timeout must be positive"},
		{"insecure and known hosts", nil, []string{"check", "--ssh", "root@hub1", "--insecure-ignore-host-key", "--known-hosts", hosts}, "verify host keys or do not"},
		{"bad spec", nil, []string{"check", "--ssh", "root@hub1:ssh", "--identity", key}, `--ssh "root@hub1:ssh": port "ssh"`},
		{"bad hosts line", nil, []string{"check", "--hosts", hosts, "--identity", key}, hosts + `:3: "hub2 extra": one host a line`},
		{"empty hosts file", nil, []string{"check", "--hosts", empty, "--identity", key}, "no hosts in it"},
		{"hosts on stdin", nil, []string{"check", "--hosts", "-", "--identity", key}, `stdin:2: "a@": empty host`},
		{"missing hosts file", nil, []string{"check", "--hosts", filepath.Join(dir, "nope")}, "--hosts: open"},
		{"no key", map[string]string{"HOME": home}, []string{"check", "--ssh", "root@hub1", "--ssh-config", "none"}, "no SSH key to offer: pass --identity FILE, name an IdentityFile in the ssh config, or run ssh-agent"},
		{"missing identity", nil, []string{"check", "--ssh", "root@hub1", "--identity", filepath.Join(dir, "nope")}, "--identity: open"},
		{"missing known hosts", nil, []string{"check", "--ssh", "root@hub1", "--identity", key, "--known-hosts", filepath.Join(dir, "nope")}, "--known-hosts: stat"},
		{"facts with two hosts", nil, []string{"facts", "--ssh", "root@hub1", "--ssh", "root@hub2", "--identity", key, "--insecure-ignore-host-key"}, "facts prints one host's document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLIWith(t, strings.NewReader("root@hub1\na@\n"), tt.vars, tt.args...)
			if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", r.code, r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q: nothing was scanned", r.stdout)
			}
		})
	}
}

// TestCheckTar: an archive of a tree scans as the tree does, from a file
// or stdin; one that is not an archive exits 2 naming --tar.
func TestCheckTar(t *testing.T) {
	tar := testenv.NeedTool(t, "tar", "check --tar reads archives GNU tar makes")
	dir := t.TempDir()
	archive := func(tr *testtree.Tree, name string) string {
		p := filepath.Join(dir, name)
		if out, err := exec.Command(tar, "-C", tr.Root, "-czf", p, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		return p
	}
	good := archive(testtree.Correct(t), "good.tar.gz")
	bad := testtree.Tutorial(t)
	tutorial := archive(bad, "tutorial.tar.gz")

	r := runCLI(t, "check", "--tar", good)
	if r.code != exitOK || !strings.Contains(r.stdout, "no findings: root "+good) {
		t.Errorf("good archive: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	f, err := os.Open(tutorial)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r = runCLIWith(t, f, nil, "check", "--tar", "-", "--format", "json")
	if r.code != exitDenied || !strings.Contains(r.stdout, `"root": "(stdin)"`) || !strings.Contains(r.stdout, "HUB016") {
		t.Errorf("tutorial archive on stdin: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertNoSecret(t, bad, r.stdout+r.stderr)
	notTar := filepath.Join(dir, "notes.txt")
	os.WriteFile(notTar, bytes.Repeat([]byte("not an archive\n"), 100), 0o644)
	if r := runCLI(t, "check", "--tar", notTar); r.code != exitFailure || !strings.Contains(r.stderr, "--tar "+notTar+": ") {
		t.Errorf("not an archive: exit %d, stderr %q", r.code, r.stderr)
	}
}

// sshd is a real sshd chrooted in a throwaway Debian root on 127.0.0.1
// (scripts/testenv/sshd-root.sh): users root, builder (passwordless sudo),
// needspw (sudo wants a password), one key for all.
type sshd struct {
	repo, state, root, port, key string
}

// startSSHD starts the sshd, or skips the test when it cannot be had here;
// it is stopped (every process in its root killed, the root removed) when
// the test ends.
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	why := "the SSH source is tested against a real sshd on 127.0.0.1"
	testenv.NeedRoot(t, why+" (sshd-root.sh runs it chrooted in a debootstrapped Debian root)")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cache := os.Getenv("HUBSECRETS_CACHE")
	if cache == "" {
		cache = filepath.Join(repo, ".cache")
	}
	if _, err := os.Stat(filepath.Join(cache, "rootfs", "bookworm-sshd.tar.gz")); err != nil {
		testenv.NeedTool(t, "debootstrap", why+" (debootstrap builds its root once, then it is cached)")
	}
	for _, tool := range []string{"ssh-keyscan", "ssh-keygen", "ss"} {
		testenv.NeedTool(t, tool, why+" (apt-get install openssh-client iproute2)")
	}
	s := &sshd{repo: repo, state: filepath.Join(t.TempDir(), "sshd")}
	script := filepath.Join(repo, "scripts/testenv/sshd-root.sh")
	out, err := exec.Command(script, "start", s.state).Output()
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", s.state).CombinedOutput(); err != nil {
			t.Errorf("sshd-root.sh stop: %v\n%s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("sshd-root.sh start: %v\n%s", err, stderrOf(err))
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	s.root, s.port, s.key = vars["HUBSECRETS_SSH_ROOT"], vars["HUBSECRETS_SSH_PORT"], vars["HUBSECRETS_SSH_KEY"]
	if s.root == "" || s.port == "" || s.key == "" {
		t.Fatalf("sshd-root.sh start printed no environment:\n%s", out)
	}
	return s
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// install replaces dir (inside root) with tr's /srv/jupyterhub, modes kept;
// the files are ours, and we are root: owner root, as on a real host.
func install(t *testing.T, tr *testtree.Tree, root string) {
	t.Helper()
	dst := filepath.Join(root, "srv/jupyterhub")
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	src := tr.Path("/srv/jupyterhub")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		to := filepath.Join(dst, strings.TrimPrefix(p, src))
		if d.IsDir() {
			if err := os.MkdirAll(to, 0o700); err != nil {
				return err
			}
		} else {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				return err
			}
		}
		return os.Chmod(to, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reload makes sshd re-read its configuration (SIGHUP re-executes it on
// the same port) and waits until it listens again.
func (s *sshd) reload(t *testing.T) {
	t.Helper()
	logFile := filepath.Join(s.state, "sshd.log")
	listening := func() int {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "Server listening on 127.0.0.1 port "+s.port)
	}
	before := listening()
	b, err := os.ReadFile(filepath.Join(s.state, "sshd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); listening() == before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("sshd did not listen again after SIGHUP:\n%s", b)
		}
	}
}

// addBusyboxTarget adds user bbroot (uid 0, another root account) whose
// sessions sshd chroots into /opt/bbroot: a root holding busybox, the libc
// it links and applet symlinks, nothing else. Whatever the remote command
// runs there is a busybox applet. It returns that root, on this host.
func (s *sshd) addBusyboxTarget(t *testing.T) string {
	t.Helper()
	bb := testenv.NeedTool(t, "busybox", "the remote script over SSH on a busybox-only target")
	nested := filepath.Join(s.root, "opt/bbroot")
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(bb, filepath.Join(nested, "bin/busybox"))
	libs, err := exec.Command("ldd", bb).Output()
	if err != nil && !strings.Contains(string(libs), "not a dynamic executable") {
		t.Fatalf("ldd %s: %v", bb, err)
	}
	for _, f := range strings.Fields(string(libs)) {
		if strings.HasPrefix(f, "/") {
			copyFile(f, filepath.Join(nested, f))
		}
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(nested, "bin", applet)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"dev", "etc", "home/bbroot"} {
		os.MkdirAll(filepath.Join(nested, d), 0o755)
	}
	if err := syscall.Mknod(filepath.Join(nested, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(nested, "dev/null"), 0o666)
	os.WriteFile(filepath.Join(nested, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(nested, "etc/group"), []byte("root:x:0:\n"), 0o644)

	if out, err := exec.Command("chroot", s.root, "useradd", "-o", "-u", "0", "-g", "0", "-M",
		"-d", "/home/bbroot", "-s", "/bin/sh", "-p", "*", "bbroot").CombinedOutput(); err != nil {
		t.Fatalf("useradd bbroot: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(s.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(s.root, "home/bbroot/.ssh"), 0o700)
	if err := os.WriteFile(filepath.Join(s.root, "home/bbroot/.ssh/authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := "Match User bbroot\n\tChrootDirectory /opt/bbroot\n"
	if err := os.WriteFile(filepath.Join(s.root, "etc/ssh/sshd_config.d/zz-hubsecrets-busybox.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.reload(t)
	return nested
}

// run runs cmd on the sshd as user, outside the CLI.
func (s *sshd) run(t *testing.T, user, cmd string) string {
	t.Helper()
	signer, err := source.LoadIdentity(s.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", "127.0.0.1:"+s.port, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // our own sshd, a moment old
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// keyscan writes what ssh-keyscan sees of the sshd under names, as a
// user adding the hosts would.
func (s *sshd) keyscan(t *testing.T, file string, extra ...string) {
	t.Helper()
	out, err := exec.Command("ssh-keyscan", append(append([]string{"-p", s.port}, extra...), "127.0.0.1", "localhost")...).Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("ssh-keyscan: %v\n%s", err, stderrOf(err))
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckSSH scans a real sshd on 127.0.0.1 with the CLI: as root, as a
// sudoer, as a user whose sudo wants a password, on a busybox-only root,
// with known, unknown, changed and partly known host keys, and as a fleet.
func TestCheckSSH(t *testing.T) {
	s := startSSHD(t)
	work := t.TempDir()
	knownHosts := filepath.Join(work, "known_hosts")
	s.keyscan(t, knownHosts)
	host := "127.0.0.1:" + s.port
	scan := func(t *testing.T, user string, args ...string) result {
		t.Helper()
		return runCLI(t, append([]string{"check", "--ssh", user + "@" + host, "--identity", s.key, "--known-hosts", knownHosts}, args...)...)
	}

	good := testtree.Correct(t)
	broken := testtree.Correct(t)
	broken.Chmod("/srv/jupyterhub/jupyterhub_cookie_secret", 0o644)
	secrets := &testtree.Tree{Secrets: append(append([]string{}, good.Secrets...), broken.Secrets...)}

	t.Run("root passes", func(t *testing.T) {
		install(t, good, s.root)
		r := scan(t, "root")
		if r.code != exitOK || !strings.Contains(r.stdout, "no findings: host root@"+host+" passes the instance profile") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		assertNoSecret(t, secrets, r.stdout+r.stderr)
	})

	t.Run("root denied in every format", func(t *testing.T) {
		install(t, broken, s.root)
		for _, format := range []string{"text", "json", "sarif", "junit"} {
			r := scan(t, "root", "--format", format)
			if r.code != exitDenied {
				t.Fatalf("%s: exit %d\n%s%s", format, r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{"HUB012", "/srv/jupyterhub/jupyterhub_cookie_secret", host} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s report lacks %q:\n%.2000s", format, want, r.stdout)
				}
			}
			if format == "json" {
				var rep struct{ Host, Root string }
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Host != "root@"+host || rep.Root != "/" {
					t.Errorf("json: one object for one host, got %+v (%v)", rep, err)
				}
			}
			assertNoSecret(t, secrets, r.stdout+r.stderr)
		}
	})

	t.Run("sudoer", func(t *testing.T) {
		install(t, good, s.root)
		if r := scan(t, "builder"); r.code != exitOK {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		install(t, broken, s.root) // the 0600 files are read as root
		if r := scan(t, "builder"); r.code != exitDenied || !strings.Contains(r.stdout, "HUB012") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("sudo wants a password", func(t *testing.T) {
		r := scan(t, "needspw", "--format", "json")
		want := "hubsecrets check: host needspw@" + host + ": user needspw needs passwordless sudo (or connect as root)"
		if r.code != exitFailure || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d stderr %q: want 2 and %q", r.code, r.stderr, want)
		}
		// The report says so too: the host, not checked, no findings.
		var rep struct {
			Host     string
			Findings []any
			Errors   []string
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Host != "needspw@"+host || len(rep.Findings) != 0 ||
			len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "user needspw needs passwordless sudo") {
			t.Errorf("json report %+v (%v), want host needspw@%s not checked:\n%s", rep, err, host, r.stdout)
		}
	})

	t.Run("host keys", func(t *testing.T) {
		install(t, good, s.root)
		empty := filepath.Join(work, "known_hosts.empty")
		os.WriteFile(empty, nil, 0o644)
		edOnly := filepath.Join(work, "known_hosts.ed25519")
		s.keyscan(t, edOnly, "-t", "ed25519")
		changed := filepath.Join(work, "known_hosts.changed")
		os.WriteFile(changed, []byte("[127.0.0.1]:"+s.port+" "+publicKeyOf(t, writeKey(t, t.TempDir()))), 0o644)

		for _, tt := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"unknown", []string{"--known-hosts", empty}, exitFailure, "the host key of " + host + " is not known (checked " + empty + "): check its fingerprint out of band, then add it: ssh-keyscan -p " + s.port + " 127.0.0.1 >> " + empty},
			{"changed", []string{"--known-hosts", changed}, exitFailure, "does NOT match " + changed + ":1"},
			// OpenSSH records only the ed25519 key; the server offers three.
			{"only the ed25519 key known", []string{"--known-hosts", edOnly}, exitOK, ""},
			{"not verified", []string{"--insecure-ignore-host-key"}, exitOK, "WARNING: --insecure-ignore-host-key: host keys are not verified"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := runCLI(t, append([]string{"check", "--ssh", "root@" + host, "--identity", s.key}, tt.args...)...)
				if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("exit %d stderr %q: want %d and %q", r.code, r.stderr, tt.code, tt.want)
				}
				// A host refused for its key is in the report, not checked.
				if notChecked := strings.Contains(r.stdout, "NOT CHECKED: host root@"+host); notChecked != (tt.code == exitFailure) ||
					strings.Contains(r.stdout, "passes") == (tt.code == exitFailure) {
					t.Errorf("exit %d, report:\n%s", r.code, r.stdout)
				}
			})
		}
	})

	t.Run("busybox-only target", func(t *testing.T) {
		nested := s.addBusyboxTarget(t)
		// Proof that nothing but busybox can answer there: the only program
		// in that root is busybox (and the libc it links), every command is
		// a symlink to it, and a session there runs busybox's stat.
		err := filepath.WalkDir(nested, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, nested)
			switch {
			case d.IsDir(), rel == "/dev/null", rel == "/bin/busybox", strings.Contains(rel, ".so"),
				strings.HasPrefix(rel, "/etc/"), strings.HasPrefix(rel, "/srv/"):
			case strings.HasPrefix(rel, "/bin/") && d.Type() == fs.ModeSymlink:
				if target, _ := os.Readlink(p); target != "busybox" {
					t.Errorf("%s -> %s, not busybox", rel, target)
				}
			default:
				t.Errorf("%s in the busybox root", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out := s.run(t, "bbroot", "stat --help 2>&1 | head -n 1; readlink /bin/sh"); !strings.HasPrefix(out, "BusyBox v") || !strings.HasSuffix(out, "\nbusybox\n") {
			t.Fatalf("a bbroot session does not run busybox:\n%s", out)
		}
		// The outer root is broken, the busybox one correct: a pass proves
		// the busybox root was the one scanned.
		install(t, broken, s.root)
		install(t, good, nested)
		r := scan(t, "bbroot")
		if r.code != exitOK {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		install(t, broken, nested)
		r = scan(t, "bbroot", "--format", "json")
		if r.code != exitDenied || !strings.Contains(r.stdout, "HUB012") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		assertNoSecret(t, secrets, r.stdout+r.stderr)
	})

	t.Run("fleet", func(t *testing.T) {
		install(t, broken, s.root)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		hosts := filepath.Join(work, "hosts.txt")
		os.WriteFile(hosts, []byte("# the same sshd under two names, and a closed port\nroot@127.0.0.1:"+s.port+"\nroot@localhost:"+s.port+"  # by name\n\nroot@"+closed+"\n"), 0o644)
		base := []string{"check", "--hosts", hosts, "--parallel", "2", "--identity", s.key, "--known-hosts", knownHosts}

		r := runCLI(t, append(base, "--format", "json")...)
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 2: one host could not be scanned\n%s%s", r.code, r.stdout, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		wantHosts := []string{"root@" + host, "root@localhost:" + s.port, "root@" + closed}
		if len(lines) != len(wantHosts) {
			t.Fatalf("%d JSON lines, want one per host asked for:\n%s", len(lines), r.stdout)
		}
		for i, line := range lines {
			var rep struct {
				Host    string
				Summary struct{ Deny int }
				Errors  []string
			}
			err := json.Unmarshal([]byte(line), &rep)
			switch {
			case err != nil || rep.Host != wantHosts[i]:
				t.Errorf("line %d: %+v (%v), want host %s", i+1, rep, err, wantHosts[i])
			case i < 2 && (rep.Summary.Deny == 0 || len(rep.Errors) > 0):
				t.Errorf("line %d: %+v, want denials", i+1, rep)
			case i == 2 && (len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "connection refused")):
				t.Errorf("line %d: %+v, want the closed port not checked", i+1, rep)
			}
		}
		for _, want := range []string{"host root@" + closed + ": cannot connect", "connection refused", "1 of 3 hosts could not be scanned"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}

		r = runCLI(t, base...)
		for _, want := range []string{"host root@" + host + "\n", "host root@localhost:" + s.port + "\n", "HUB012"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("text report lacks %q:\n%s", want, r.stdout)
			}
		}
		// Two hosts asked for, one answering: two JSON lines.
		r = runCLI(t, "check", "--ssh", "root@"+host, "--ssh", "root@"+closed, "--identity", s.key, "--known-hosts", knownHosts, "--format", "json")
		if r.code != exitFailure || strings.Count(r.stdout, "\n") != 2 || !strings.HasPrefix(r.stdout, `{"profile"`) {
			t.Errorf("exit %d, stdout %q: want 2 and two JSON lines", r.code, r.stdout)
		}
		// One SARIF run for the fleet, the closed port a notification.
		r = runCLI(t, append(base, "--format", "sarif")...)
		var log struct {
			Runs []struct {
				Invocations []struct {
					ExecutionSuccessful        bool `json:"executionSuccessful"`
					ToolExecutionNotifications []struct{ Properties map[string]string }
				}
				Results []struct{ Properties map[string]string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || len(log.Runs) != 1 {
			t.Fatalf("sarif: %v, %d runs, want 1", err, len(log.Runs))
		}
		run := log.Runs[0]
		if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful || len(run.Invocations[0].ToolExecutionNotifications) != 1 ||
			run.Invocations[0].ToolExecutionNotifications[0].Properties["host"] != "root@"+closed {
			t.Errorf("sarif invocations %+v: want one, unsuccessful, naming root@%s", run.Invocations, closed)
		}
		seen := map[string]bool{}
		for _, res := range run.Results {
			seen[res.Properties["host"]] = true
		}
		if !seen["root@"+host] || !seen["root@localhost:"+s.port] || len(seen) != 2 {
			t.Errorf("sarif results on hosts %v", seen)
		}
	})

	t.Run("ssh config alias", func(t *testing.T) { testSSHConfigAlias(t, s, knownHosts, broken) })
	t.Run("proxy jump", func(t *testing.T) { testProxyJump(t, s, knownHosts, broken) })

	t.Run("facts", func(t *testing.T) {
		r := runCLI(t, "facts", "--ssh", "root@"+host, "--identity", s.key, "--known-hosts", knownHosts)
		if r.code != exitOK || !strings.Contains(r.stdout, `"kind": "ssh"`) || !strings.Contains(r.stdout, `"host": "root@`+host+`"`) {
			t.Errorf("exit %d\n%.500s%s", r.code, r.stdout, r.stderr)
		}
		validFactsOutput(t, r.stdout)
		assertNoSecret(t, secrets, r.stdout)
	})
}

// publicKeyOf is the public half of a key file, as authorized_keys and
// known_hosts write it.
func publicKeyOf(t *testing.T, keyFile string) string {
	t.Helper()
	s, err := source.LoadIdentity(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(s.PublicKey()))
}
