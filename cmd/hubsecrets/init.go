package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/atomicfile"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

func init() {
	register(command{name: "init", summary: "make the secrets directory on this server (the tutorial, done right)", run: runInit})
}

const initAbout = `Does the tutorial's job on this server, correctly, in one command:
  1. creates the secrets directory (root-owned, 0755) if it is missing;
  2. writes nginx's DH parameters, dhparam.pem (owner:group, 0600), unless a
     valid file is already there: the RFC 7919 ffdhe2048 group by default, or a
     freshly generated safe prime with --dhparam-bits;
  3. makes the cookie secret and the proxy auth token with the same first-boot
     script images use (32 random bytes as hex, 0600 from creation, written
     atomically), keeping valid ones unless --rotate;
  4. checks the result with the instance profile and prints the report.
Run it again and it changes nothing. Needs root, except with --dry-run.
With --install-unit it also installs jupyterhub-secrets.service, so the hub
never starts without valid secrets and a clone of this machine gets new ones.

Exit status: 0 done and the check passes, 1 the check found a problem,
2 something could not be done (nothing is left half-made).`

type initFlags struct {
	cfg         firstboot.Config
	dhBits      int
	dhGroup     string
	installUnit bool
	rotate      bool
	dryRun      bool
}

func runInit(e *env, args []string) int {
	var f initFlags
	fs := newFlagSet(e, "hubsecrets init [options]", initAbout)
	fs.StringVar(&f.cfg.Dir, "dir", layout.DefaultDir, "the secrets `DIR`")
	fs.StringVar(&f.cfg.Owner, "owner", "root", "the `USER` who owns the secrets and dhparam.pem (the hub's user)")
	fs.StringVar(&f.cfg.Group, "group", "root", "their `GROUP`")
	fs.StringVar(&f.cfg.HubUnit, "hub-unit", layout.DefaultHubUnit, "the hub's systemd `UNIT` (with --install-unit)")
	fs.IntVar(&f.dhBits, "dhparam-bits", 0, "generate a fresh safe prime of `N` bits (2048, 3072 or 4096) instead of a standard group")
	fs.StringVar(&f.dhGroup, "dhparam-group", "", "use the RFC 7919 `GROUP` (ffdhe2048, ffdhe3072, ffdhe4096); default ffdhe2048 when no valid file exists")
	fs.BoolVar(&f.installUnit, "install-unit", false, "also install and enable jupyterhub-secrets.service and the hub's drop-in")
	fs.BoolVar(&f.rotate, "rotate", false, "make new secrets even if the current ones are valid (logs every user out)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "say what would be done, change nothing")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	if f.dhBits != 0 && f.dhGroup != "" {
		return usageError(e, fs, "--dhparam-bits and --dhparam-group exclude each other: choose one")
	}
	if f.dhBits != 0 && f.dhBits != 2048 && f.dhBits != 3072 && f.dhBits != 4096 {
		return usageError(e, fs, "--dhparam-bits %d: want 2048, 3072 or 4096", f.dhBits)
	}
	if f.dhGroup != "" {
		if _, err := dhparam.Group(f.dhGroup); err != nil {
			return usageError(e, fs, "--dhparam-group: %v", err)
		}
	}
	f.cfg = f.cfg.WithDefaults()
	if err := f.cfg.Validate(); err != nil {
		var ce *firstboot.ConfigError
		if errors.As(err, &ce) {
			return usageError(e, fs, "--%s %q: %s", payloadFlagNames[ce.Field], ce.Value, ce.Problem)
		}
		return usageError(e, fs, "%v", err)
	}
	if !f.dryRun && e.geteuid() != 0 {
		fmt.Fprintf(e.stderr, "hubsecrets init: must run as root: it creates %s owned by root and gives the secrets to %s:%s; run it with sudo (or try --dry-run)\n", f.cfg.Dir, f.cfg.Owner, f.cfg.Group)
		return exitFailure
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	in := &initRun{e: e, f: f}
	if err := in.run(ctx); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets init: %v\n", err)
		return exitFailure
	}
	if f.dryRun {
		in.say("dry run: nothing was changed")
		return exitOK
	}
	if in.changed {
		in.say("done")
	} else {
		in.say("nothing to change: everything was already in place")
	}
	return in.check()
}

type initRun struct {
	e        *env
	f        initFlags
	uid, gid int
	changed  bool
}

func (in *initRun) say(format string, a ...any) {
	fmt.Fprintf(in.e.stdout, "hubsecrets init: "+format+"\n", a...)
}

func (in *initRun) run(ctx context.Context) error {
	var err error
	if in.uid, in.gid, err = lookupIDs(in.f.cfg.Owner, in.f.cfg.Group); err != nil {
		return err
	}
	if err := in.directory(); err != nil {
		return err
	}
	if err := in.dhparam(ctx); err != nil {
		return err
	}
	return in.secrets(ctx)
}

// lookupIDs resolves the owner and group on this host, where they must exist
// before anything is written.
func lookupIDs(owner, group string) (int, int, error) {
	u, err := user.Lookup(owner)
	if err != nil {
		return 0, 0, fmt.Errorf("--owner %q: no such user on this host; create it first (e.g. useradd --system %s)", owner, owner)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, 0, fmt.Errorf("--group %q: no such group on this host; create it first (e.g. groupadd --system %s)", group, group)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid, nil
}

// directory makes the secrets directory as the tutorial meant: root's, 0755.
func (in *initRun) directory() error {
	dir := in.f.cfg.Dir
	fi, err := os.Lstat(dir)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; refusing to write through it (make it a real directory)", dir)
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory; move it away first", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if in.f.dryRun {
		in.say("would create %s (root:root, 0755)", dir)
		return nil
	}
	if err := os.MkdirAll(path.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	// Mkdir's mode passes through the umask; set it exactly, and the owner.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if err := os.Lchown(dir, 0, 0); err != nil {
		return err
	}
	in.changed = true
	in.say("created %s (root:root, 0755)", dir)
	return nil
}

// dhparam keeps a valid dhparam.pem that matches what was asked, and writes
// one otherwise.
func (in *initRun) dhparam(ctx context.Context) error {
	p := filepath.Join(in.f.cfg.Dir, layout.DHParamFile)
	cur, why, err := in.currentDH(p)
	if err != nil {
		return err
	}
	if why == "" {
		in.say("kept %s (%s)", p, describeDH(cur))
		return nil
	}
	var want *dhparam.Params
	switch {
	case why == whyOwnerMode:
		// Right parameters, wrong owner or mode: rewrite the same ones.
		if in.f.dryRun {
			in.say("would rewrite %s as %s:%s 0600", p, in.f.cfg.Owner, in.f.cfg.Group)
			return nil
		}
		want = cur
	case in.f.dhBits != 0:
		if in.f.dryRun {
			in.say("would generate a %d-bit safe prime into %s: %s", in.f.dhBits, p, why)
			return nil
		}
		in.say("generating a %d-bit safe prime on %d cores for %s (%s)", in.f.dhBits, runtime.GOMAXPROCS(0), p, why)
		if want, err = dhparam.Generate(ctx, in.f.dhBits, dhparam.GenerateOptions{}); err != nil {
			return fmt.Errorf("generate DH parameters: %w; nothing was written", err)
		}
	default:
		name := in.f.dhGroup
		if name == "" {
			name = "ffdhe2048"
		}
		if in.f.dryRun {
			in.say("would write the RFC 7919 %s group to %s: %s", name, p, why)
			return nil
		}
		want, _ = dhparam.Group(name)
	}
	if err := atomicfile.Write(p, want.MarshalPEM(), atomicfile.Options{Perm: 0o600, UID: in.uid, GID: in.gid}); err != nil {
		return err
	}
	in.changed = true
	in.say("wrote %s (%s, %s:%s, 0600): %s", p, describeDH(want), in.f.cfg.Owner, in.f.cfg.Group, why)
	return nil
}

// currentDH reads the current file and says why it must be replaced ("" to
// keep it): missing, invalid, not what was asked, or wrong owner or mode.
func (in *initRun) currentDH(p string) (*dhparam.Params, string, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "there was none", nil
	}
	if err != nil {
		return nil, "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file; refusing to replace it (remove it)", p)
	}
	b, err := readPrefix(p, dhparam.MaxInput)
	if err != nil {
		return nil, "", err
	}
	cur, err := dhparam.ParsePEM(b)
	if err != nil {
		return nil, "the existing file is not valid DH parameters", nil
	}
	c := dhparam.Inspect(cur)
	switch {
	case !c.SafePrime || !c.GeneratorValid || c.Weak != "" || c.Bits < 2048:
		return cur, "the existing parameters are weak or invalid", nil
	case in.f.dhGroup != "" && c.Group != in.f.dhGroup:
		return cur, "asked for " + in.f.dhGroup, nil
	case in.f.dhBits != 0 && (c.Bits != in.f.dhBits || c.Group != ""):
		return cur, fmt.Sprintf("asked for a fresh %d-bit prime", in.f.dhBits), nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != in.uid || int(st.Gid) != in.gid || fi.Mode().Perm() != 0o600 {
		return cur, whyOwnerMode, nil
	}
	return cur, "", nil
}

// whyOwnerMode is currentDH's reason when only the owner or mode is wrong.
const whyOwnerMode = "its owner or mode was wrong"

func describeDH(p *dhparam.Params) string {
	c := dhparam.Inspect(p)
	if c.Group != "" {
		return "RFC 7919 " + c.Group
	}
	return fmt.Sprintf("%d-bit safe prime, generator %d", c.Bits, c.Generator)
}

func readPrefix(p string, n int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// secrets runs the first-boot script: the one implementation that makes the
// secrets, here and on every instance booted from an image.
func (in *initRun) secrets(ctx context.Context) error {
	files, err := firstboot.Render(in.f.cfg)
	if err != nil {
		return err
	}
	if in.f.dryRun {
		if in.f.installUnit {
			for _, fl := range files {
				in.say("would install %s", fl.Path)
			}
		}
		if in.f.rotate {
			in.say("would make a new cookie secret and proxy token (--rotate)")
		} else {
			in.say("would run the first-boot script: it keeps valid secrets for this instance, else makes both")
		}
		return nil
	}
	script := layout.ScriptPath
	if in.f.installUnit {
		if err := firstboot.Install("/", files); err != nil {
			return fmt.Errorf("install the first-boot unit: %w", err)
		}
		in.changed = true
		in.say("installed and enabled %s (runs before %s on every boot)", layout.UnitName, in.f.cfg.HubUnit)
		in.daemonReload(ctx)
	} else {
		tmp, err := os.MkdirTemp("", "hubsecrets-init.")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		script = filepath.Join(tmp, "jupyterhub-secrets")
		for _, fl := range files {
			if fl.Path == layout.ScriptPath {
				if err := os.WriteFile(script, fl.Data, 0o700); err != nil {
					return err
				}
			}
		}
	}
	var args []string
	if in.f.rotate {
		args = append(args, "--rotate")
	}
	stdout, stderr, err := firstboot.RunScript(ctx, script, args...)
	in.e.stdout.Write(stdout)
	in.e.stderr.Write(stderr)
	if err != nil {
		return fmt.Errorf("make the secrets: %w", err)
	}
	if !bytes.Contains(stdout, []byte("nothing to do")) {
		in.changed = true
	}
	return nil
}

// daemonReload tells a running systemd about the new unit; without systemd
// (a container, a chroot) the files are in place for the next boot.
func (in *initRun) daemonReload(ctx context.Context) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return
	}
	if out, err := exec.CommandContext(ctx, "systemctl", "daemon-reload").CombinedOutput(); err != nil {
		fmt.Fprintf(in.e.stderr, "hubsecrets init: warning: systemctl daemon-reload: %v %s\n", err, out)
	}
}

// check runs 'hubsecrets check' (instance profile) on the result, so init
// reports exactly what check would.
func (in *initRun) check() int {
	fmt.Fprintln(in.e.stdout)
	return runCheck(in.e, []string{"--root", "/", "--dir", in.f.cfg.Dir, "--hub-unit", in.f.cfg.HubUnit})
}
