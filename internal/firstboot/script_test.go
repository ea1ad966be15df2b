package firstboot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// These tests run the rendered script, as rendered, under dash with coreutils
// and under busybox sh with nothing but busybox applets on PATH, on temporary
// trees.

// shell is one way to run the script: the interpreter and the environment.
type shell struct {
	name string
	argv []string
	env  []string
}

// busyboxDir holds a link per busybox applet: as PATH, it hides coreutils.
var busyboxDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if bb, err := testenv.LookPath("busybox"); err == nil {
			dir, err := makeBusyboxDir(bb)
			if err != nil {
				fmt.Fprintln(os.Stderr, "busybox applets:", err)
				return 1
			}
			defer os.RemoveAll(dir)
			busyboxDir = dir
		}
		return m.Run()
	}())
}

func makeBusyboxDir(bb string) (string, error) {
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "hubsecrets-busybox-")
	if err != nil {
		return "", err
	}
	for _, applet := range append(strings.Fields(string(list)), "busybox") {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil && !errors.Is(err, fs.ErrExist) {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// shellsWhy is what a missing shell leaves out.
const shellsWhy = "the first-boot script runs under dash and busybox sh, as images do"

// testShells are the shells installed here; each missing one is recorded
// (testenv: a failure under HUBSECRETS_REQUIRE_TOOLS=1).
func testShells(t *testing.T) []shell {
	t.Helper()
	var shells []shell
	if p, ok := testenv.HaveTool(t, "dash", shellsWhy); ok {
		shells = append(shells, shell{"dash", []string{p}, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}})
	}
	if _, ok := testenv.HaveTool(t, "busybox", shellsWhy); ok && busyboxDir != "" {
		shells = append(shells, shell{"busybox", []string{filepath.Join(busyboxDir, "busybox"), "sh"}, []string{"PATH=" + busyboxDir}})
	}
	return shells
}

// forShells runs test once per shell, at the same time.
func forShells(t *testing.T, test func(t *testing.T, sh shell)) {
	t.Helper()
	shells := testShells(t)
	if len(shells) == 0 {
		testenv.Missing(t, "dash or busybox", shellsWhy)
	}
	runAll(t, len(shells), func(i int) string { return shells[i].name }, func(t *testing.T, i int) { test(t, shells[i]) })
}

// runAll runs n subtests at once. Not t.Parallel: go test runs only
// GOMAXPROCS of those at a time, and a script run mostly waits for fork and
// exec, not for a CPU.
func runAll(t *testing.T, n int, name func(int) string, test func(t *testing.T, i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { t.Run(name(i), func(t *testing.T) { test(t, i) }) })
	}
	wg.Wait()
}

// Identity sources, in the script's order.
const (
	idRun = iota
	idVar
	idDMI
	idMachine
)

// fixture is a secrets directory, identity sources and the script rendered
// for them.
type fixture struct {
	t            *testing.T
	sh           shell
	dir          string
	ids          []string
	script       string
	owner, group string
	uid, gid     int
	params       params.Params
	// Where the script looks to judge identity sources.
	cloudRun, marker, mountinfo string

	mu   sync.Mutex
	seen map[string]bool // every secret value seen, to look for in outputs
}

// newFixture renders the script for a new tree; the secrets' owner is the
// current user, unless owned names another one (user, group, uid, gid).
func newFixture(t *testing.T, sh shell, owned ...func(*fixture)) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{t: t, sh: sh, dir: filepath.Join(base, "srv", "jupyterhub"), seen: map[string]bool{}}
	for _, name := range []string{"run-instance-id", "var-instance-id", "product_uuid", "machine-id"} {
		f.ids = append(f.ids, filepath.Join(base, "id", name))
	}
	mustMkdir(t, filepath.Join(base, "id"))
	f.owner, f.group, f.uid, f.gid = currentOwner(t)
	// cloud-init ran on this boot unless a test says otherwise; no
	// container marker; an empty mount table.
	f.cloudRun = filepath.Join(base, "run-cloud-init")
	mustMkdir(t, f.cloudRun)
	f.marker = filepath.Join(base, "container-marker")
	f.mountinfo = filepath.Join(base, "mountinfo")
	must(t, os.WriteFile(f.mountinfo, nil, 0o644))
	f.params = defaultParams()
	for _, o := range owned {
		o(f)
	}
	f.params.Owner, f.params.Group = f.owner, f.group
	script, err := Script(f.config())
	if err != nil {
		t.Fatal(err)
	}
	f.script = filepath.Join(base, "jupyterhub-secrets")
	must(t, os.WriteFile(f.script, script, 0o755))
	return f
}

// config is the fixture's Config: its tree, identity sources and probes.
func (f *fixture) config() Config {
	kinds := []string{IDCloudInitRun, IDCloudInitData, IDDMI, IDMachineID}
	var ids []IdentitySource
	for i, p := range f.ids {
		ids = append(ids, IdentitySource{Path: p, Kind: kinds[i]})
	}
	return Config{
		Dir: f.dir, Params: f.params, IdentitySources: ids,
		CloudInitRunDir: f.cloudRun, ContainerMarkers: []string{f.marker}, MountInfo: f.mountinfo,
		DHParamCopy: filepath.Join(filepath.Dir(f.ids[0]), "dhparam-copy.pem"),
	}
}

// currentOwner is root when the tests run as root, else the current user.
func currentOwner(t *testing.T) (owner, group string, uid, gid int) {
	if os.Getuid() == 0 {
		return "root", "root", 0, 0
	}
	u, err := user.Current()
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a name for the current user (%v)", err), "the script gives the secrets to the user running it")
	}
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a name for the current group (%v)", err), "the script gives the secrets to the user running it")
	}
	return u.Username, g.Name, os.Getuid(), os.Getgid()
}

func (f *fixture) setID(i int, content string) {
	f.t.Helper()
	must(f.t, os.WriteFile(f.ids[i], []byte(content), 0o644))
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// seeded returns a new fixture whose directory holds src's secrets and stamp,
// copied with their modes and owners: the state a run leaves, for much less
// than a run costs. Set the same identity in both.
func seeded(t *testing.T, src *fixture) *fixture {
	t.Helper()
	f := newFixture(t, src.sh)
	mustMkdir(t, f.dir)
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile} {
		b, err := os.ReadFile(src.path(name))
		must(t, err)
		fi, err := os.Stat(src.path(name))
		must(t, err)
		must(t, os.WriteFile(f.path(name), b, fi.Mode().Perm()))
		st := fi.Sys().(*syscall.Stat_t)
		must(t, os.Chown(f.path(name), int(st.Uid), int(st.Gid)))
	}
	return f
}

type result struct {
	stdout, stderr string
	code           int // -1: killed
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the script to the end and checks what it printed.
func (f *fixture) run(args ...string) result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stdout, stderr, err := runShell(ctx, f.sh.argv, f.sh.env, f.script, args...)
	r := result{stdout: string(stdout), stderr: string(stderr)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		f.t.Errorf("run: %v", err) // Errorf: run may be on another goroutine
		r.code = -1
	}
	f.checkOutput(r)
	return r
}

// runKilled starts the script and SIGKILLs it and its children after delay,
// unless it ends first. It reports whether it was killed.
func (f *fixture) runKilled(delay time.Duration, args ...string) (result, bool) {
	f.t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(f.sh.argv[0], append(append(f.sh.argv[1:len(f.sh.argv):len(f.sh.argv)], f.script), args...)...)
	cmd.Env = f.sh.env
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(f.t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	killed := false
	select {
	case err = <-done:
	case <-time.After(delay):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
		killed = cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled()
	}
	r := result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
	if err != nil && !killed && r.code <= 0 {
		f.t.Fatalf("run: %v", err)
	}
	f.checkOutput(r)
	return r, killed
}

var hexRun = regexp.MustCompile(`[0-9a-f]{32}`)

// checkOutput fails the test if r shows any secret, now or earlier in the
// fixture, or any long hex string at all, or (for a run that ended) a line
// without the script's prefix. It may run on any goroutine.
func (f *fixture) checkOutput(r result) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile} {
		if fi, err := os.Lstat(f.path(name)); err != nil || !fi.Mode().IsRegular() {
			continue // not a FIFO: reading would block
		}
		if b, err := os.ReadFile(f.path(name)); err == nil && len(b) > 0 {
			f.seen[strings.TrimSpace(string(b))] = true
		}
	}
	for _, out := range []string{r.stdout, r.stderr} {
		for v := range f.seen {
			if strings.Contains(out, v) {
				f.t.Errorf("the script printed a secret:\n%s", r)
			}
		}
		if hexRun.MatchString(out) {
			f.t.Errorf("the script printed a long hex string:\n%s", r)
		}
	}
	if r.code < 0 {
		return
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code == 0 {
		lines = append(lines, strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")...)
	} else if last := strings.TrimSuffix(r.stderr, "\n"); !strings.HasPrefix(last[strings.LastIndexByte(last, '\n')+1:], "jupyterhub-secrets: error: ") {
		f.t.Errorf("the last line on stderr is not the script's error:\n%s", r)
	}
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(l, "jupyterhub-secrets: ") {
			f.t.Errorf("line without the jupyterhub-secrets: prefix: %q\n%s", l, r)
		}
	}
}

var validSecret = regexp.MustCompile(`\A[0-9a-f]{64}\n\z`)

// secretProblem is what is wrong with the secret file name, or "".
func (f *fixture) secretProblem(name string) string {
	fi, err := os.Lstat(f.path(name))
	if err != nil {
		return err.Error()
	}
	st := fi.Sys().(*syscall.Stat_t)
	b, err := os.ReadFile(f.path(name))
	switch {
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return fmt.Sprintf("%s: mode %v", name, fi.Mode())
	case fi.Mode().Perm() != 0o600:
		return fmt.Sprintf("%s: mode %#o", name, fi.Mode().Perm())
	case int(st.Uid) != f.uid || int(st.Gid) != f.gid:
		return fmt.Sprintf("%s: owned by %d:%d", name, st.Uid, st.Gid)
	case !validSecret.Match(b):
		return fmt.Sprintf("%s: %d bytes, not 64 hex digits and a newline", name, len(b))
	}
	return ""
}

// stampFor is what the script records for identity ("" for none).
func stampFor(identity string) string {
	if identity == "" {
		return "none\n"
	}
	sum := sha256.Sum256([]byte(identity + "\n"))
	return hex.EncodeToString(sum[:]) + "\n"
}

// assertValid checks both secrets are valid and distinct and the stamp
// records identity; it returns the secrets.
func (f *fixture) assertValid(identity string) (cookie, token []byte) {
	f.t.Helper()
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile} {
		if p := f.secretProblem(name); p != "" {
			f.t.Fatalf("invalid secret: %s", p)
		}
	}
	cookie, _ = os.ReadFile(f.path(layout.CookieSecretFile))
	token, _ = os.ReadFile(f.path(layout.ProxyTokenFile))
	if bytes.Equal(cookie, token) {
		f.t.Fatal("the cookie secret and the proxy token are equal")
	}
	stamp, err := os.ReadFile(f.path(layout.StampFile))
	if err != nil {
		f.t.Fatal(err)
	}
	if string(stamp) != stampFor(identity) {
		f.t.Fatalf("stamp %q, want the hash of %q", stamp, identity)
	}
	if identity != "" && strings.Contains(string(stamp), identity) {
		f.t.Fatal("the stamp holds the identity itself")
	}
	f.assertNoLeftovers()
	return cookie, token
}

// assertNoLeftovers checks that no temporary file or lock is left behind.
func (f *fixture) assertNoLeftovers() {
	f.t.Helper()
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), layout.TempPrefix) || e.Name() == layout.LockFile {
			f.t.Errorf("left behind: %s", e.Name())
		}
	}
}

func (f *fixture) mustSucceed(r result) {
	f.t.Helper()
	if r.code != 0 {
		f.t.Fatalf("the script failed:\n%s", r)
	}
}

const nothingToDo = "jupyterhub-secrets: secrets valid for this instance; nothing to do\n"

func TestScriptFirstRunAndReboot(t *testing.T) {
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		f.setID(idVar, "i-0123456789abcdef0\n")
		f.mustSucceed(f.run())
		cookie, token := f.assertValid("i-0123456789abcdef0")
		if fi, _ := os.Stat(f.dir); fi.Mode().Perm() != 0o755 {
			t.Errorf("made %s with mode %v, want 0755", f.dir, fi.Mode().Perm())
		}
		before := statAll(t, f.dir)

		// A reboot: same identity, nothing changes, one line.
		r := f.run()
		f.mustSucceed(r)
		if r.stdout != nothingToDo || r.stderr != "" {
			t.Errorf("second run printed:\n%s", r)
		}
		c2, t2 := f.assertValid("i-0123456789abcdef0")
		if !bytes.Equal(cookie, c2) || !bytes.Equal(token, t2) {
			t.Error("a second run for the same instance changed the secrets")
		}
		for name, st := range statAll(t, f.dir) {
			if b := before[name]; b != st {
				t.Errorf("%s changed: %+v, was %+v", name, st, b)
			}
		}

		// A new instance from the same image: both replaced.
		f.setID(idVar, "i-0fedcba9876543210\n")
		f.mustSucceed(f.run())
		c3, t3 := f.assertValid("i-0fedcba9876543210")
		if bytes.Equal(c3, cookie) || bytes.Equal(t3, token) {
			t.Error("a new instance kept a secret")
		}
	})
}

// fileStat is what must not change when nothing is to do.
type fileStat struct {
	ino   uint64
	mtime time.Time
	size  int64
	mode  fs.FileMode
}

func statAll(t *testing.T, dir string) map[string]fileStat {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]fileStat{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fileStat{fi.Sys().(*syscall.Stat_t).Ino, fi.ModTime(), fi.Size(), fi.Mode()}
	}
	return m
}

func TestScriptIdentitySources(t *testing.T) {
	tests := []struct {
		name    string
		sources [4]string // content per source; "-" means the file is absent
		want    string    // the identity used; "" for none
	}{
		{"cloud-init run file first", [4]string{"i-run\n", "i-var\n", "dmi-uuid\n", "machine\n"}, "i-run"},
		{"recorded instance-id next", [4]string{"-", "i-var\n", "dmi-uuid\n", "machine\n"}, "i-var"},
		{"empty run file skipped", [4]string{"", "i-var\n", "dmi-uuid\n", "machine\n"}, "i-var"},
		{"DMI next", [4]string{"-", "-", "dmi-uuid\n", "machine\n"}, "dmi-uuid"},
		{"blank instance-id skipped", [4]string{"-", " \n", "dmi-uuid\n", "machine\n"}, "dmi-uuid"},
		{"machine-id last", [4]string{"-", "-", "-", "machine\n"}, "machine"},
		{"no trailing newline", [4]string{"-", "-", "-", "machine"}, "machine"},
		{"cloud-init's no-datasource id skipped", [4]string{"iid-datasource-none\n", "iid-datasource-none\n", "dmi-uuid\n", "machine\n"}, "dmi-uuid"},
		{"no-datasource run file, real recorded id", [4]string{"iid-datasource-none\n", "i-var\n", "dmi-uuid\n", "machine\n"}, "i-var"},
		{"uninitialized machine-id skipped", [4]string{"-", "-", "-", "uninitialized\n"}, ""},
		{"empty machine-id skipped", [4]string{"-", "-", "-", ""}, ""},
		{"nothing at all", [4]string{"-", "-", "-", "-"}, ""},
	}
	forShells(t, func(t *testing.T, sh shell) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, sh)
				for i, c := range tt.sources {
					if c != "-" {
						f.setID(i, c)
					}
				}
				r := f.run()
				f.mustSucceed(r)
				f.assertValid(tt.want)
				if noID := strings.Contains(r.stderr, "no instance identity found"); noID != (tt.want == "") {
					t.Errorf("warning about no identity: %v, want %v\n%s", noID, tt.want == "", r)
				}
			})
		}
	})
}

// TestScriptNoIdentity: with nothing to tell a reboot from a clone, valid
// secrets stay and missing ones are made; an identity that shows up later
// makes new ones.
func TestScriptNoIdentity(t *testing.T) {
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		f.mustSucceed(f.run())
		cookie, _ := f.assertValid("")
		r := f.run()
		f.mustSucceed(r)
		if r.stdout != nothingToDo {
			t.Errorf("second run without an identity:\n%s", r)
		}
		must(t, os.Remove(f.path(layout.ProxyTokenFile)))
		f.mustSucceed(f.run())
		if c, _ := f.assertValid(""); bytes.Equal(c, cookie) {
			t.Error("a missing token did not renew the cookie secret too")
		}
		f.setID(idMachine, "4b6f1c0e9d2a4c8e8f3a2b1c0d9e8f7a\n")
		f.mustSucceed(f.run())
		f.assertValid("4b6f1c0e9d2a4c8e8f3a2b1c0d9e8f7a")
	})
}

func TestScriptRegenerates(t *testing.T) {
	const (
		cookie = layout.CookieSecretFile
		token  = layout.ProxyTokenFile
	)
	write := func(name, content string, mode os.FileMode) func(*fixture) {
		return func(f *fixture) {
			must(f.t, os.Remove(f.path(name)))
			must(f.t, os.WriteFile(f.path(name), []byte(content), mode))
		}
	}
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name   string
		change func(*fixture)
		args   []string
	}{
		{"cookie missing", func(f *fixture) { must(f.t, os.Remove(f.path(cookie))) }, nil},
		{"token missing", func(f *fixture) { must(f.t, os.Remove(f.path(token))) }, nil},
		{"cookie empty", write(cookie, "", 0o600), nil},
		{"cookie newline inside", write(cookie, hex64[:32]+"\n"+hex64[33:]+"\n", 0o600), nil},
		{"token with a NUL", write(token, hex64[:63]+"\x00\n", 0o600), nil},
		{"token base64", write(token, strings.Repeat("QUJD", 16)+"\n", 0o600), nil},
		{"cookie short", write(cookie, hex64[:62]+"\n", 0o600), nil},
		{"cookie hex with a space inside", write(cookie, hex64[:32]+" "+hex64[32:]+"\n", 0o600), nil},
		{"cookie too large", write(cookie, hex64+strings.Repeat(" ", 4096)+"\n", 0o600), nil},
		{"cookie all zeros", write(cookie, strings.Repeat("0", 64)+"\n", 0o600), nil},
		{"token deadbeef x 8", write(token, strings.Repeat("deadbeef", 8)+"\n", 0o600), nil},
		{"cookie counting up", write(cookie, "0123456789abcdef"+hex64[16:]+"\n", 0o600), nil},
		{"token few digits", write(token, strings.Repeat("0a1b2c3", 10)[:64]+"\n", 0o600), nil},
		{"same secret in other cases", func(f *fixture) {
			b, _ := os.ReadFile(f.path(cookie))
			write(token, strings.ToUpper(strings.TrimSpace(string(b)))+"\r\n", 0o600)(f)
		}, nil},
		{"cookie mode 0644", func(f *fixture) { must(f.t, os.Chmod(f.path(cookie), 0o644)) }, nil},
		{"token mode 0640", func(f *fixture) { must(f.t, os.Chmod(f.path(token), 0o640)) }, nil},
		{"identical secrets", func(f *fixture) {
			b, _ := os.ReadFile(f.path(cookie))
			write(token, string(b), 0o600)(f)
		}, nil},
		{"stamp missing", func(f *fixture) { must(f.t, os.Remove(f.path(layout.StampFile))) }, nil},
		{"stamp empty", write(layout.StampFile, "", 0o600), nil},
		{"stamp of another instance", write(layout.StampFile, stampFor("i-other"), 0o600), nil},
		{"force", func(*fixture) {}, []string{"--force"}},
		{"rotate", func(*fixture) {}, []string{"--rotate"}},
	}
	if os.Getuid() == 0 {
		tests = append(tests, struct {
			name   string
			change func(*fixture)
			args   []string
		}{"cookie owned by someone else", func(f *fixture) { must(f.t, os.Chown(f.path(cookie), 65534, 0)) }, nil})
	} else {
		testenv.Lacking(t, "root", "the case of a cookie owned by someone else")
	}
	forShells(t, func(t *testing.T, sh shell) {
		src := newFixture(t, sh)
		src.setID(idDMI, "dmi-uuid\n")
		src.mustSucceed(src.run())
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := seeded(t, src)
				f.setID(idDMI, "dmi-uuid\n")
				c0, t0 := f.assertValid("dmi-uuid")
				tt.change(f)
				r := f.run(tt.args...)
				f.mustSucceed(r)
				if !strings.Contains(r.stdout, "making a new cookie secret and proxy token") {
					t.Errorf("no word of new secrets:\n%s", r)
				}
				c1, t1 := f.assertValid("dmi-uuid")
				if bytes.Equal(c0, c1) || bytes.Equal(t0, t1) {
					t.Error("not both secrets were replaced")
				}
			})
		}
	})
}

// TestScriptKeepsWhatJupyterHubReads: JupyterHub strips whitespace and
// reads hex in either case, and the policy accepts 0400: the script keeps
// such secrets byte for byte (the property test covers the whole matrix).
func TestScriptKeepsWhatJupyterHubReads(t *testing.T) {
	// Test values, random-looking: the script refuses easy-to-guess ones.
	hex64 := "dce24e84cce19e40070b6c47e74d33892ff966144b91b2bec18353d05ca57c7b"
	other := "fca57ab079bea64b189205f4c2d5885f2b0e8ead3be5637de0123fb43f5bec1c"
	tests := []struct {
		name, cookie, token string
		mode                os.FileMode
	}{
		{"upper case", strings.ToUpper(hex64) + "\n", other + "\n", 0o600},
		{"no newline", hex64, other, 0o600},
		{"two newlines", hex64 + "\n\n", other + "\n", 0o600},
		{"newline first", "\n" + hex64, other + "\n", 0o600},
		{"CRLF", hex64 + "\r\n", other + "\r\n", 0o600},
		{"spaces and tabs around", " \t" + hex64 + " \t\n", other + "\n", 0o600},
		{"mode 0400", hex64 + "\n", other + "\n", 0o400},
	}
	forShells(t, func(t *testing.T, sh shell) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, sh)
				f.setID(idDMI, "dmi-uuid\n")
				f.mustSucceed(f.run())
				must(t, os.WriteFile(f.path(layout.CookieSecretFile), []byte(tt.cookie), tt.mode))
				must(t, os.WriteFile(f.path(layout.ProxyTokenFile), []byte(tt.token), tt.mode))
				must(t, os.Chmod(f.path(layout.CookieSecretFile), tt.mode))
				must(t, os.Chmod(f.path(layout.ProxyTokenFile), tt.mode))
				before := tree(t, f.dir)
				r := f.run()
				f.mustSucceed(r)
				if r.stdout != nothingToDo {
					t.Errorf("a secret JupyterHub reads as valid was not kept:\n%s", r)
				}
				if after := tree(t, f.dir); !maps.Equal(before, after) {
					t.Error("the directory changed")
				}
			})
		}
	})
}

// tree is every entry under a directory: type, mode, and a file's or link's
// mtime and content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		// Not a directory's mtime: taking the lock changes it.
		s := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			s += " " + fi.ModTime().String() + " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			s += " " + fi.ModTime().String() + " " + string(b)
		}
		m[p] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScriptRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture, outside string)
		want  string
	}{
		{"dir is a symlink", func(f *fixture, outside string) {
			must(f.t, os.RemoveAll(f.dir))
			must(f.t, os.Symlink(outside, f.dir))
		}, "is a symbolic link"},
		{"dir is a dangling symlink", func(f *fixture, outside string) {
			must(f.t, os.RemoveAll(f.dir))
			must(f.t, os.Symlink(filepath.Join(outside, "nowhere"), f.dir))
		}, "is a symbolic link"},
		{"dir is a file", func(f *fixture, outside string) {
			must(f.t, os.RemoveAll(f.dir))
			must(f.t, os.WriteFile(f.dir, nil, 0o644))
		}, "is not a directory"},
		{"dir writable by others", func(f *fixture, outside string) { must(f.t, os.Chmod(f.dir, 0o757)) }, "writable by group or others"},
		{"dir writable by group", func(f *fixture, outside string) { must(f.t, os.Chmod(f.dir, 0o775)) }, "writable by group or others"},
		{"cookie is a symlink", func(f *fixture, outside string) {
			must(f.t, os.Remove(f.path(layout.CookieSecretFile)))
			must(f.t, os.Symlink(filepath.Join(outside, layout.CookieSecretFile), f.path(layout.CookieSecretFile)))
		}, "is a symbolic link"},
		{"token is a dangling symlink", func(f *fixture, outside string) {
			must(f.t, os.Remove(f.path(layout.ProxyTokenFile)))
			must(f.t, os.Symlink(filepath.Join(outside, "nowhere"), f.path(layout.ProxyTokenFile)))
		}, "is a symbolic link"},
		{"stamp is a symlink", func(f *fixture, outside string) {
			must(f.t, os.Remove(f.path(layout.StampFile)))
			must(f.t, os.Symlink(filepath.Join(outside, "stamp"), f.path(layout.StampFile)))
		}, "is a symbolic link"},
		{"cookie is a directory", func(f *fixture, outside string) {
			must(f.t, os.Remove(f.path(layout.CookieSecretFile)))
			must(f.t, os.Mkdir(f.path(layout.CookieSecretFile), 0o700))
		}, "is not a regular file"},
		{"token is a fifo", func(f *fixture, outside string) {
			must(f.t, os.Remove(f.path(layout.ProxyTokenFile)))
			must(f.t, syscall.Mkfifo(f.path(layout.ProxyTokenFile), 0o600))
		}, "is not a regular file"},
		{"lock is a file", func(f *fixture, outside string) {
			must(f.t, os.WriteFile(f.path(layout.LockFile), nil, 0o600))
		}, "not this script's lock"},
		{"no such owner", func(f *fixture, outside string) {
			c := f.config()
			c.Params.Owner = "no-such-user-hubsecrets"
			script, err := Script(c)
			must(f.t, err)
			must(f.t, os.WriteFile(f.script, script, 0o755))
		}, "cannot give files to no-such-user-hubsecrets"},
	}
	if os.Getuid() == 0 {
		tests = append(tests, struct {
			name  string
			setup func(f *fixture, outside string)
			want  string
		}{"dir owned by someone else", func(f *fixture, outside string) { must(f.t, os.Chown(f.dir, 65534, 0)) }, "is not owned by root"})
	} else {
		testenv.Lacking(t, "root", "the case of a secrets directory owned by someone else")
	}
	forShells(t, func(t *testing.T, sh shell) {
		src := newFixture(t, sh)
		src.setID(idMachine, "machine\n")
		src.mustSucceed(src.run())
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := seeded(t, src)
				f.setID(idMachine, "machine\n")
				// Outside: a valid-looking secret set an attacker would
				// like the script to write into or through.
				outside := t.TempDir()
				for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, "stamp"} {
					must(t, os.WriteFile(filepath.Join(outside, name), []byte("outside\n"), 0o644))
				}
				tt.setup(f, outside)
				f.setID(idMachine, "another-machine\n") // so the script would write
				before := tree(t, outside)
				dirBefore := tree(t, filepath.Dir(f.dir))
				r := f.run()
				if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
					t.Fatalf("want a failure saying %q:\n%s", tt.want, r)
				}
				if after := tree(t, outside); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("the script changed things outside its directory:\nbefore %v\nafter  %v", before, after)
				}
				if after := tree(t, filepath.Dir(f.dir)); fmt.Sprint(after) != fmt.Sprint(dirBefore) {
					t.Errorf("a refused run changed the secrets directory:\nbefore %v\nafter  %v", dirBefore, after)
				}
			})
		}
	})
}

// TestScriptOtherOwner gives the secrets to a user other than the one
// running the script, as for a hub that runs as its own user.
func TestScriptOtherOwner(t *testing.T) {
	why := "the script gives the secrets to another user (nobody)"
	testenv.NeedRoot(t, why)
	u, err := user.Lookup("nobody")
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("user nobody (%v)", err), why)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a group for nobody (%v)", err), why)
	}
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh, func(f *fixture) {
			f.owner, f.group = u.Username, g.Name
			f.uid, _ = strconv.Atoi(u.Uid)
			f.gid, _ = strconv.Atoi(u.Gid)
		})
		f.setID(idVar, "i-1\n")
		f.mustSucceed(f.run())
		cookie, _ := f.assertValid("i-1") // owned by nobody, 0600
		if r := f.run(); r.stdout != nothingToDo {
			t.Errorf("second run:\n%s", r)
		}
		must(t, os.Chown(f.path(layout.CookieSecretFile), 0, 0))
		f.mustSucceed(f.run())
		if c, _ := f.assertValid("i-1"); bytes.Equal(c, cookie) {
			t.Error("a cookie secret owned by root was kept")
		}
	})
}

// TestScriptTraced: run under sh -x, the script turns the trace off before it
// could show a secret.
func TestScriptTraced(t *testing.T) {
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		f.setID(idVar, "i-1\n")
		for _, args := range [][]string{nil, {"--force"}} {
			stdout, stderr, err := runShell(context.Background(), append(sh.argv[:len(sh.argv):len(sh.argv)], "-x"), sh.env, f.script, args...)
			if err != nil {
				t.Fatalf("%v\n%s%s", err, stdout, stderr)
			}
			f.assertValid("i-1")
			for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile} {
				b, _ := os.ReadFile(f.path(name))
				if v := strings.TrimSpace(string(b)); strings.Contains(string(stdout)+string(stderr), v) {
					t.Fatalf("sh -x showed %s", name)
				}
			}
			if hexRun.Match(stderr) {
				t.Fatalf("sh -x showed a long hex string:\n%s", stderr)
			}
		}
	})
}

func TestScriptUsage(t *testing.T) {
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		if r := f.run("--help"); r.code != 0 || !strings.Contains(r.stdout, "usage:") {
			t.Errorf("--help:\n%s", r)
		}
		if r := f.run("--frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown argument --frobnicate") {
			t.Errorf("an unknown argument:\n%s", r)
		}
		if _, err := os.Stat(f.dir); err == nil {
			t.Error("--help or a bad argument made the directory")
		}
	})
}

// TestScriptLeftovers: temporary files and a lock left by a killed run, or
// a lock from an earlier boot, do not stop the next run.
func TestScriptLeftovers(t *testing.T) {
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a boot id (%v)", err), "the script's lock records the boot it was taken in")
	}
	dead := deadPID(t)
	tests := []struct {
		name  string
		setup func(f *fixture)
	}{
		{"temporary files", func(f *fixture) {
			for _, name := range []string{"jupyterhub_cookie_secret.123", "proxy_auth_token.456", ".hubsecrets-instance.789"} {
				must(f.t, os.WriteFile(f.path(layout.TempPrefix+name), []byte("partial"), 0o600))
			}
			must(f.t, os.Symlink("/nowhere", f.path(layout.TempPrefix+"link.1")))
		}},
		{"lock of a dead process", func(f *fixture) {
			must(f.t, os.Symlink(fmt.Sprintf("%d.%s", dead, strings.TrimSpace(string(bootID))), f.path(layout.LockFile)))
		}},
		{"lock and claim of dead processes", func(f *fixture) {
			token := fmt.Sprintf("%d.%s", dead, strings.TrimSpace(string(bootID)))
			must(f.t, os.Symlink(token, f.path(layout.LockFile)))
			must(f.t, os.Symlink(token, f.path(fmt.Sprintf("%slock.%d", layout.TempPrefix, dead))))
		}},
		{"lock from an earlier boot", func(f *fixture) {
			must(f.t, os.Symlink(fmt.Sprintf("%d.00000000-0000-4000-8000-000000000000", os.Getpid()), f.path(layout.LockFile)))
		}},
		{"garbage lock", func(f *fixture) { must(f.t, os.Symlink("garbage", f.path(layout.LockFile))) }},
	}
	forShells(t, func(t *testing.T, sh shell) {
		src := newFixture(t, sh)
		src.setID(idVar, "i-1\n")
		src.mustSucceed(src.run())
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := seeded(t, src)
				tt.setup(f)
				f.setID(idVar, "i-2\n")
				f.mustSucceed(f.run())
				f.assertValid("i-2")
			})
		}
	})
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	must(t, cmd.Run())
	return cmd.Process.Pid
}

// TestScriptWaitsForLock: a live holder makes the next run wait, not fail
// and not go ahead.
func TestScriptWaitsForLock(t *testing.T) {
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a boot id (%v)", err), "the script's lock records the boot it was taken in")
	}
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		f.setID(idVar, "i-1\n")
		f.mustSucceed(f.run())
		lock := f.path(layout.LockFile)
		must(t, os.Symlink(fmt.Sprintf("%d.%s", os.Getpid(), strings.TrimSpace(string(bootID))), lock))
		f.setID(idVar, "i-2\n")
		done := make(chan result, 1)
		go func() { done <- f.run() }()
		select {
		case r := <-done:
			t.Fatalf("the run did not wait for the lock:\n%s", r)
		case <-time.After(700 * time.Millisecond):
		}
		must(t, os.Remove(lock))
		f.mustSucceed(<-done)
		f.assertValid("i-2")
	})
}

func trials(normal, short int) int {
	if testing.Short() {
		return short
	}
	return normal
}

// TestScriptKilled kills the script with SIGKILL at random moments while it
// makes new secrets (first run, rotation, new instance, invalid secret), and
// checks that each file is then either as before or new and valid, never
// partial, and that the next run repairs everything. Trials run in a few
// fixtures at once, since a run mostly waits for fork and exec.
func TestScriptKilled(t *testing.T) {
	const workers = 4
	n := trials(100, 20) / workers // per worker, per shell
	forShells(t, func(t *testing.T, sh shell) {
		runAll(t, workers, strconv.Itoa, func(t *testing.T, w int) { killTrials(t, sh, n, w, workers) })
	})
}

// killTrials runs n trials in a fixture of its own. The kill delays are
// stratified: trial i of worker w of ws falls in its own slice of the run, at
// a random point of it, so the trials together cover the whole run evenly.
func killTrials(t *testing.T, sh shell, n, w, ws int) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	f := newFixture(t, sh)
	identity := "i-start"
	f.setID(idRun, identity+"\n")
	start := time.Now()
	f.mustSucceed(f.run())
	full := time.Since(start) // a run that makes secrets, to spread the kills over
	killed := 0
	for i := range n {
		var args []string
		switch i % 4 {
		case 0:
			must(t, os.RemoveAll(f.dir))
		case 1:
			args = []string{"--force"}
		case 2:
			identity = fmt.Sprintf("i-%d", i)
			f.setID(idRun, identity+"\n")
		case 3:
			must(t, os.WriteFile(f.path(layout.ProxyTokenFile), []byte("bad\n"), 0o600))
		}
		before := snapshot(f)
		slot := float64(i*ws+w) + rng.Float64()
		r, k := f.runKilled(time.Duration(slot/float64(n*ws)*1.2*float64(full)), args...)
		for name, old := range before {
			now, err := os.ReadFile(f.path(name))
			fi, _ := os.Lstat(f.path(name))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if old.exists {
					t.Fatalf("trial %d: %s vanished", i, name)
				}
			case err != nil:
				t.Fatal(err)
			case old.exists && bytes.Equal(now, old.data) && fi.Mode() == old.mode:
				// as before
			case name == layout.StampFile:
				if string(now) != stampFor(identity) {
					t.Fatalf("trial %d: stamp %q is neither the old one nor this instance's", i, now)
				}
			default:
				if p := f.secretProblem(name); p != "" {
					t.Fatalf("trial %d (killed %v): %s is neither old nor a valid new secret: %s", i, k, name, p)
				}
			}
		}
		if k {
			killed++
			f.mustSucceed(f.run()) // the next boot
		} else {
			f.mustSucceed(r)
		}
		f.assertValid(identity)
	}
	t.Logf("seed %d: %d of %d runs killed before they finished", seed, killed, n)
	if killed < n/3 {
		t.Errorf("only %d of %d runs were killed: the delays are too long to test much", killed, n)
	}
}

type fileState struct {
	exists bool
	data   []byte
	mode   fs.FileMode
}

func snapshot(f *fixture) map[string]fileState {
	m := map[string]fileState{}
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile} {
		b, err := os.ReadFile(f.path(name))
		fi, lerr := os.Lstat(f.path(name))
		if err == nil && lerr == nil {
			m[name] = fileState{true, b, fi.Mode()}
		} else {
			m[name] = fileState{}
		}
	}
	return m
}

// TestScriptConcurrent starts runs at the same time: the lock lets one make
// the secrets and the others find them valid. Every third trial starts with
// a stale lock, as after a crash, which the runs must get past together.
func TestScriptConcurrent(t *testing.T) {
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("a boot id (%v)", err), "the script's lock records the boot it was taken in")
	}
	stale := fmt.Sprintf("%d.%s", deadPID(t), strings.TrimSpace(string(bootID)))
	n := trials(12, 3)
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		for i := range n {
			identity := fmt.Sprintf("i-%d", i)
			f.setID(idVar, identity+"\n")
			if i%2 == 0 {
				must(t, os.RemoveAll(f.dir))
			}
			if i%3 == 2 {
				must(t, os.MkdirAll(f.dir, 0o755))
				must(t, os.Symlink(stale, f.path(layout.LockFile)))
			}
			runs := 2 + i%2
			results := make([]result, runs)
			var wg sync.WaitGroup
			for j := range runs {
				wg.Go(func() { results[j] = f.run() })
			}
			wg.Wait()
			made := 0
			for _, r := range results {
				f.mustSucceed(r)
				if strings.Contains(r.stdout, "making a new cookie secret") {
					made++
				}
			}
			if made != 1 {
				t.Errorf("trial %d: %d of %d concurrent runs made secrets, want 1", i, made, runs)
			}
			f.assertValid(identity)
		}
	})
}

// TestScriptFullDisk fills the file system the secrets are on: a run that
// must make secrets fails, says why, and keeps the old ones whole.
func TestScriptFullDisk(t *testing.T) {
	why := "a run on a full file system (a 64 KiB tmpfs) keeps the old secrets whole"
	testenv.NeedRoot(t, why)
	forShells(t, func(t *testing.T, sh shell) {
		f := newFixture(t, sh)
		mnt := filepath.Dir(f.dir)
		mustMkdir(t, mnt)
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0755"); err != nil {
			testenv.Missing(t, fmt.Sprintf("a tmpfs mount (%v)", err), why)
		}
		t.Cleanup(func() {
			if err := syscall.Unmount(mnt, 0); err != nil {
				t.Errorf("unmount %s: %v", mnt, err)
			}
		})
		f.setID(idVar, "i-1\n")
		f.mustSucceed(f.run())
		cookie, token := f.assertValid("i-1")
		fill(t, filepath.Join(mnt, "filler"))

		for _, args := range [][]string{{"--force"}, nil} {
			if args == nil {
				f.setID(idVar, "i-2\n") // a new instance on a full disk
			}
			r := f.run(args...)
			if r.code == 0 || !strings.Contains(r.stderr, "file system full") {
				t.Fatalf("want a failure about the full file system:\n%s", r)
			}
			f.assertNoLeftovers()
			c, tk := f.assertValid("i-1")
			if !bytes.Equal(c, cookie) || !bytes.Equal(tk, token) {
				t.Fatal("a failed run changed the secrets")
			}
		}

		// Room again: the next run finishes the job.
		must(t, os.Remove(filepath.Join(mnt, "filler")))
		f.mustSucceed(f.run())
		f.assertValid("i-2")

		// A first run on a full disk leaves no secret at all, not a partial one.
		for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile} {
			must(t, os.Remove(f.path(name)))
		}
		fill(t, filepath.Join(mnt, "filler"))
		if r := f.run(); r.code == 0 {
			t.Fatalf("a first run on a full disk succeeded:\n%s", r)
		}
		f.assertNoLeftovers()
		for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile} {
			if _, err := os.Lstat(f.path(name)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after a failed first run: %v", name, err)
			}
		}
	})
}

// fill writes to name until the file system is full.
func fill(t *testing.T, name string) {
	t.Helper()
	w, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	buf := make([]byte, 1024)
	for {
		if _, err := w.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// The last partial page may still take a few bytes.
	for {
		if _, err := w.Write(buf[:1]); err != nil {
			return
		}
	}
}

// TestRunScript installs the payload in a root and runs it the way
// `hubsecrets init` will.
func TestRunScript(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		testenv.Missing(t, "/bin/sh", "the installed payload runs as hubsecrets init runs it")
	}
	root := t.TempDir()
	owner, group, _, _ := currentOwner(t)
	dir := filepath.Join(root, "srv/jupyterhub")
	p := defaultParams()
	p.Owner, p.Group = owner, group
	files, err := Render(Config{Dir: dir, Params: p, IdentitySources: plain(filepath.Join(root, "machine-id"))})
	if err != nil {
		t.Fatal(err)
	}
	must(t, Install(root, files))
	script := filepath.Join(root, layout.ScriptPath)
	stdout, stderr, err := RunScript(context.Background(), script)
	if err != nil {
		t.Fatalf("RunScript: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(string(stdout), "wrote") {
		t.Errorf("stdout: %s", stdout)
	}
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !validSecret.Match(b) {
			t.Errorf("%s: %v", name, err)
		}
	}
	must(t, os.Chmod(dir, 0o777))
	_, _, err = RunScript(context.Background(), script, "--force")
	if err == nil || !strings.Contains(err.Error(), "jupyterhub-secrets: error: ") || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("a failing run: err = %v, want the exit status and the script's error", err)
	}
}
