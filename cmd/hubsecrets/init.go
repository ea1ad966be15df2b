package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/atomicfile"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
)

func init() {
	register(command{name: "init", summary: "make the secrets directory on this server (the tutorial, done right)", run: runInit})
}

const initAbout = `Does the tutorial's job on this server, correctly, in one command:
  1. checks first that everything it will do can be done (the accounts, the
     directory's owner and mode, no file in the way, a writable file system):
     if not, it says what to fix and changes nothing;
  2. creates the secrets directory (root:GROUP, --dir-mode) if it is missing;
  3. writes nginx's DH parameters, dhparam.pem, unless the policy accepts the
     file there: the RFC 7919 ffdhe2048 group by default, or a freshly
     generated safe prime with --dhparam-bits;
  4. writes the host's parameters file (/etc/hubsecrets/params.json): the
     policy parameters in force here (--owner, --group, --data), which
     'hubsecrets check' and the first-boot hook go by;
  5. keeps valid secrets (and records this instance for them), and makes the
     missing or invalid ones with the same first-boot script images use
     (random bytes as hex, mode and owner from the first byte, written
     atomically); --rotate makes new ones whatever;
  6. checks the result with the instance profile and prints the report.
Run it again and it changes nothing. Needs root. --dry-run says what it would
do and exits as the real run would (2 when something is in the way).
With --install-unit it also installs jupyterhub-secrets.service, so the hub
never starts without valid secrets and a clone of this machine gets new ones.` + initTimerAbout + `

Exit status: 0 done and the check passes, 1 the check found a problem,
2 something could not be done (nothing was changed).`

type initFlags struct {
	payload     payloadFlags
	root        string
	dhBits      int
	dhGroup     string
	installUnit bool
	timer       timerFlags
	rotate      bool
	dryRun      bool
	waivers     string
}

func runInit(e *env, args []string) int {
	var f initFlags
	fs := newFlagSet(e, "hubsecrets init [options]", initAbout)
	f.payload.register(fs)
	fs.StringVar(&f.root, "root", "/", "set up the root file system `DIR` instead of this server's (a directory you will chroot into; accounts are this server's)")
	fs.IntVar(&f.dhBits, "dhparam-bits", 0, "generate a fresh safe prime of `N` bits (2048, 3072 or 4096) instead of a standard group")
	fs.StringVar(&f.dhGroup, "dhparam-group", "", "use the RFC 7919 `GROUP` (ffdhe2048, ffdhe3072, ffdhe4096); default ffdhe2048 when the file there does not pass")
	fs.BoolVar(&f.installUnit, "install-unit", false, "also install and enable jupyterhub-secrets.service and the hub's drop-in")
	f.timer.register(fs)
	fs.BoolVar(&f.rotate, "rotate", false, "make new secrets even if the current ones are valid (logs every user out)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "say what would be done, change nothing, exit as the real run would")
	fs.StringVar(&f.waivers, "waivers", "", "waivers `FILE` for the final check, as 'hubsecrets check --waivers' reads it")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if f.waivers != "" {
		// A bad file is refused before anything is changed.
		if _, err := waiver.Load(f.waivers); err != nil {
			return usageError(e, fs, "--%v", err)
		}
	}
	if !filepath.IsAbs(f.root) {
		return usageError(e, fs, "--root %q: want an absolute directory", f.root)
	}
	f.root = filepath.Clean(f.root)
	if code, stop := f.payload.validate(e, fs, f.root); stop {
		return code
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f.timer.validate(ctx, fs); err != nil {
		return usageError(e, fs, "%v", err)
	}
	in := &initRun{e: e, f: f}
	if err := in.plan(ctx); err != nil {
		var ue usageErr
		if errors.As(err, &ue) {
			return usageError(e, fs, "%v", err)
		}
		fmt.Fprintf(e.stderr, "hubsecrets init: %v\n", err)
		if f.dryRun {
			fmt.Fprintln(e.stderr, "hubsecrets init: dry run: the real run would stop here and change nothing")
		} else {
			fmt.Fprintln(e.stderr, "hubsecrets init: nothing was changed")
		}
		return exitFailure
	}
	if f.dryRun {
		in.describe()
		in.say("dry run: nothing was changed")
		return exitOK
	}
	if err := in.apply(ctx); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets init: %v\n", err)
		return exitFailure
	}
	if in.changed {
		in.say("done")
	} else {
		in.say("nothing to change: everything was already in place")
	}
	if in.secretsChanged && in.f.root == "/" {
		in.say("the hub reads the secrets when it starts: restart it to use the new ones (this logs every user out): sudo systemctl restart %s", in.cfg.HubUnit)
	}
	return in.check()
}

// usageErr is a plan error about the flags.
type usageErr struct{ error }

// initRun is one run: plan works out everything and checks it can be done;
// apply does it.
type initRun struct {
	e   *env
	f   initFlags
	eng *checker.Engine
	cfg firstboot.Config
	// What plan found and decided.
	uid, gid       int
	makeDir        bool
	dhWhy          string // why dhparam.pem is written; "" keeps it
	dhKeep         string // what is kept, for the report
	dhParams       *dhparam.Params
	files          []firstboot.File // the contract, and the payload with --install-unit
	writeFiles     []firstboot.File // those that differ from what is there
	scriptData     []byte
	changed        bool
	secretsChanged bool
}

func (in *initRun) say(format string, a ...any) {
	fmt.Fprintf(in.e.stdout, "hubsecrets init: "+format+"\n", a...)
}

// at is p under the root.
func (in *initRun) at(p string) string { return filepath.Join(in.f.root, p) }

// plan finds everything that would make the run fail, before anything is
// written, and decides what to write.
func (in *initRun) plan(ctx context.Context) error {
	if in.e.geteuid() != 0 {
		return fmt.Errorf("must run as root: it creates %s owned by root and gives the secrets to their owner; run it with sudo", in.f.payload.cfg.Dir)
	}
	var err error
	if in.eng, err = in.f.payload.params.engine(ctx); err != nil {
		return err
	}
	// The facts of the root as it is: the host's contract counts for the
	// parameters, and the policy judges the DH parameters there.
	fsys, err := source.OpenDir(in.f.root)
	if err != nil {
		return fmt.Errorf("--root: %w", err)
	}
	defer fsys.Close()
	opt := source.Options{Dir: in.f.payload.cfg.Dir, HubUnit: in.f.payload.cfg.HubUnit}
	doc, err := source.Collect(ctx, fsys, facts.Source{Kind: "dir", Root: in.f.root}, opt)
	if err != nil {
		return usageErr{fmt.Errorf("--dir: %w", err)}
	}
	if k := doc.Contract; k.Error != "" {
		in.say("warning: %s: %s; it will be rewritten", k.Path, k.Error)
		doc.Contract = facts.Contract{File: facts.File{Path: k.Path}}
	}
	if in.cfg, err = in.f.payload.config(ctx, in.eng, doc); err != nil {
		return usageErr{err}
	}
	if in.uid, in.gid, err = lookupIDs(in.cfg.Params.Owner, in.cfg.Params.Group); err != nil {
		return err
	}
	if err := in.planDir(doc); err != nil {
		return err
	}
	for _, name := range []string{layout.CookieSecretFile, layout.ProxyTokenFile, layout.StampFile, layout.DHParamFile} {
		if err := notInTheWay(in.at(path.Join(in.cfg.Dir, name)), "a regular file"); err != nil {
			return err
		}
	}
	if err := in.planDH(ctx, doc); err != nil {
		return err
	}
	return in.planFiles()
}

// planDir checks the secrets directory can be used as the script needs it:
// root's, writable by nobody else, on a writable file system.
func (in *initRun) planDir(doc *facts.Document) error {
	dir := in.at(in.cfg.Dir)
	d := doc.Dir
	switch {
	case d.Error != "":
		return fmt.Errorf("%s: %s", dir, d.Error)
	case !d.Exists:
		in.makeDir = true
		parent, err := existingAncestor(filepath.Dir(dir))
		if err != nil {
			return err
		}
		return writable(parent)
	case d.Type == facts.TypeSymlink:
		return fmt.Errorf("%s is a symbolic link; make it a real directory (the first-boot script refuses to write through a link)", dir)
	case d.Type != facts.TypeDir:
		return fmt.Errorf("%s exists and is %s, not a directory; move it away first: sudo mv %s %s.old", dir, d.Type, dir, dir)
	case d.UID != 0:
		return fmt.Errorf("%s is owned by uid %d, not root; the first-boot script writes the secrets as root and refuses a directory another user can change: fix: sudo chown root %s", dir, d.UID, dir)
	case d.Mode&0o022 != 0:
		return fmt.Errorf("%s has mode %04o: group or others could swap the secrets; fix: sudo chmod go-w %s", dir, d.Mode, dir)
	}
	return writable(dir)
}

// existingAncestor is p or its nearest existing ancestor, which must be a
// directory (symlinks followed, as mkdir -p does).
func existingAncestor(p string) (string, error) {
	for {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return p, nil
		case err == nil:
			return "", fmt.Errorf("%s is not a directory, so the secrets directory cannot be made below it; move it away first", p)
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
		p = filepath.Dir(p)
	}
}

// writable checks that root can write in dir: a read-only file system is
// found now, not half-way.
func writable(dir string) error {
	if err := unix.Access(dir, unix.W_OK); err != nil {
		if errors.Is(err, unix.EROFS) {
			return fmt.Errorf("%s is on a read-only file system; remount it read-write (or make the secrets directory on a writable volume)", dir)
		}
		return fmt.Errorf("%s: cannot write there: %w", dir, err)
	}
	return nil
}

// notInTheWay checks that p is missing or a regular file (what wants the
// path must replace it).
func notInTheWay(p, want string) error {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, where %s belongs; remove it first: sudo rm %s", p, want, p)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file, where %s belongs; move it away first", p, want)
	}
	return nil
}

// lookupIDs resolves the owner and group on this host, where they must exist
// before anything is written.
func lookupIDs(owner, group string) (int, int, error) {
	u, err := user.Lookup(owner)
	if err != nil {
		return 0, 0, fmt.Errorf("owner %q: no such user on this host; create it first (e.g. useradd --system %s)", owner, owner)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, 0, fmt.Errorf("group %q: no such group on this host; create it first (e.g. groupadd --system %s)", group, group)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid, nil
}

// dhContentRules are the policy's rules about the DH parameters themselves
// (not their owner or mode): a finding of one means new parameters.
var dhContentRules = map[string]bool{"HUB021": true, "HUB022": true, "HUB025": true, "HUB026": true, "HUB027": true, "HUB028": true}

// planDH asks the policy about dhparam.pem: kept when it finds nothing and
// it is what was asked, rewritten with the same parameters when only the
// owner or mode is wrong, replaced otherwise.
func (in *initRun) planDH(ctx context.Context, doc *facts.Document) error {
	rep, err := in.eng.Evaluate(ctx, doc)
	if err != nil {
		return err
	}
	f := doc.Files[facts.DHParam]
	var content, access []string
	for _, fd := range rep.Findings {
		if fd.Path != f.Path || fd.Severity != report.SeverityDeny {
			continue
		}
		if dhContentRules[fd.ID] {
			content = append(content, fd.ID)
		} else {
			access = append(access, fd.ID)
		}
	}
	var cur *dhparam.Params
	if f.Exists && f.Type == facts.TypeFile && f.DH != nil && f.DH.Parsed {
		b, err := readPrefix(in.at(f.Path), dhparam.MaxInput)
		if err != nil {
			return err
		}
		if cur, err = dhparam.ParsePEM(b); err != nil {
			return fmt.Errorf("%s: %w", in.at(f.Path), err)
		}
	}
	asked := ""
	switch {
	case in.f.dhGroup != "" && (f.DH == nil || f.DH.Group != in.f.dhGroup):
		asked = "asked for " + in.f.dhGroup
	case in.f.dhBits != 0 && (f.DH == nil || f.DH.PrimeBits != in.f.dhBits || f.DH.Group != ""):
		asked = fmt.Sprintf("asked for a fresh %d-bit prime", in.f.dhBits)
	}
	switch {
	case !f.Exists:
		in.dhWhy = "there was none"
	case len(content) > 0:
		in.dhWhy = "the policy denies the existing ones (" + strings.Join(content, ", ") + ")"
	case asked != "":
		in.dhWhy = asked
	case len(access) > 0:
		in.dhWhy = "only its owner or mode was wrong (" + strings.Join(access, ", ") + ")"
		in.dhParams = cur
	default:
		in.dhKeep = describeDH(cur)
		in.dhParams = cur
		return nil
	}
	if in.dhParams == nil && in.f.dhBits == 0 {
		name := in.f.dhGroup
		if name == "" {
			name = dhparam.SmallestGroup(in.cfg.Params.MinDHBits)
		}
		in.dhParams, _ = dhparam.Group(name)
	}
	return nil
}

// planFiles renders the contract (and with --install-unit the payload) and
// keeps those that differ from what is there.
func (in *initRun) planFiles() error {
	rendered, err := firstboot.Render(in.cfg)
	if err != nil {
		return err
	}
	in.scriptData = rendered[0].Data
	var script []byte
	if in.f.installUnit {
		in.files = rendered
		script = in.scriptData
	} else if cur, err := os.ReadFile(in.at(layout.ScriptPath)); err == nil && bytes.Equal(cur, in.scriptData) {
		// Installed earlier with the same parameters: keep its digest.
		script = in.scriptData
	}
	k, err := firstboot.ContractFile(in.cfg, script, writtenBy())
	if err != nil {
		return err
	}
	in.files = append(in.files, k)
	if in.f.installUnit && in.dhParams != nil {
		in.files = append(in.files, firstboot.File{Path: layout.DHParamCopyPath, Mode: 0o644, Data: in.dhParams.MarshalPEM()})
	}
	timer, err := in.planTimer()
	if err != nil {
		return err
	}
	in.files = append(in.files, timer...)
	for _, fl := range in.files {
		p := in.at(fl.Path)
		if fl.LinkTarget != "" {
			if t, err := os.Readlink(p); err == nil && t == fl.LinkTarget {
				continue
			}
		} else {
			if err := notInTheWay(p, "a file of the first-boot payload"); err != nil {
				return err
			}
			if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, fl.Data) && installedAs(p, fl.Mode) {
				continue
			}
		}
		if _, err := existingAncestor(filepath.Dir(p)); err != nil {
			return err
		}
		in.writeFiles = append(in.writeFiles, fl)
	}
	for _, fl := range in.writeFiles {
		anc, _ := existingAncestor(filepath.Dir(in.at(fl.Path)))
		if err := writable(anc); err != nil {
			return err
		}
	}
	return nil
}

// installedAs is whether the file at p is root's with exactly mode, as
// Install writes it: the same content with another owner or mode (the
// contract chmod 0666, say) is rewritten, not kept.
func installedAs(p string, mode os.FileMode) bool {
	fi, err := os.Lstat(p)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0 && fi.Mode().Perm() == mode.Perm() && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == 0
}

// describe says what the real run would do.
func (in *initRun) describe() {
	if in.makeDir {
		in.say("would create %s (%04o root:%s)", in.at(in.cfg.Dir), in.cfg.DirMode, in.cfg.Params.Group)
	}
	p := in.at(path.Join(in.cfg.Dir, layout.DHParamFile))
	switch {
	case in.dhWhy == "":
		in.say("would keep %s (%s)", p, in.dhKeep)
	case in.dhParams == nil:
		in.say("would generate a %d-bit safe prime into %s: %s", in.f.dhBits, p, in.dhWhy)
	default:
		in.say("would write %s (%s) to %s: %s", describeDH(in.dhParams), p, in.dhWhy, p)
	}
	for _, fl := range in.writeFiles {
		in.say("would write %s", in.at(fl.Path))
	}
	if in.f.rotate {
		in.say("would make a new cookie secret and proxy token (--rotate)")
	} else {
		in.say("would keep valid secrets (recording this instance for them) and make missing or invalid ones")
	}
}

// apply does what plan decided.
func (in *initRun) apply(ctx context.Context) error {
	dir := in.at(in.cfg.Dir)
	if in.makeDir {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(dir, os.FileMode(in.cfg.DirMode)); err != nil {
			return err
		}
		// Mkdir's mode passes through the umask; set it exactly, and the owner.
		if err := os.Chmod(dir, os.FileMode(in.cfg.DirMode)); err != nil {
			return err
		}
		if err := os.Lchown(dir, 0, in.gid); err != nil {
			return err
		}
		in.changed = true
		in.say("created %s (%04o root:%s)", dir, in.cfg.DirMode, in.cfg.Params.Group)
	}
	if err := in.applyDH(ctx); err != nil {
		return err
	}
	if len(in.writeFiles) > 0 {
		if err := firstboot.Install(in.f.root, in.writeFiles); err != nil {
			return err
		}
		for _, fl := range in.writeFiles {
			in.say("wrote %s", in.at(fl.Path))
		}
		in.changed = true
		if in.f.installUnit {
			in.say("installed and enabled %s (runs before %s on every boot)", layout.UnitName, in.cfg.HubUnit)
			in.daemonReload(ctx)
		}
		if in.wroteTimer() {
			in.startTimer(ctx)
		}
	}
	return in.secrets(ctx)
}

func (in *initRun) applyDH(ctx context.Context) error {
	if in.dhWhy == "" {
		in.say("kept %s (%s)", in.at(path.Join(in.cfg.Dir, layout.DHParamFile)), in.dhKeep)
		return nil
	}
	p := in.at(path.Join(in.cfg.Dir, layout.DHParamFile))
	want := in.dhParams
	if want == nil {
		in.say("generating a %d-bit safe prime on %d cores for %s (%s)", in.f.dhBits, runtime.GOMAXPROCS(0), p, in.dhWhy)
		var err error
		if want, err = dhparam.Generate(ctx, in.f.dhBits, dhparam.GenerateOptions{}); err != nil {
			return fmt.Errorf("generate DH parameters: %w; nothing else was written", err)
		}
	}
	mode := os.FileMode(in.cfg.Params.DHParamMode())
	if err := atomicfile.Write(p, want.MarshalPEM(), atomicfile.Options{Perm: mode, UID: in.uid, GID: in.gid}); err != nil {
		return err
	}
	in.changed = true
	in.say("wrote %s (%s, %s:%s, %04o): %s", p, describeDH(want), in.cfg.Params.Owner, in.cfg.Params.Group, mode, in.dhWhy)
	return nil
}

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
	b := make([]byte, n)
	m, err := f.Read(b)
	if err != nil && m == 0 {
		return nil, err
	}
	return b[:m], nil
}

// secrets runs the first-boot script: the one implementation that makes the
// secrets, here and on every instance booted from an image. It keeps valid
// secrets (--adopt records this instance for them) unless --rotate.
func (in *initRun) secrets(ctx context.Context) error {
	// The script as rendered for this root: its paths under it.
	run := in.cfg
	if in.f.root != "/" {
		run.Dir = in.at(in.cfg.Dir)
		run.DHParamCopy = in.at(run.DHParamCopy)
		var ids []firstboot.IdentitySource
		for _, s := range run.IdentitySources {
			ids = append(ids, firstboot.IdentitySource{Path: in.at(s.Path), Kind: s.Kind})
		}
		run.IdentitySources = ids
		run.CloudInitRunDir = in.at(run.CloudInitRunDir)
		var markers []string
		for _, m := range run.ContainerMarkers {
			markers = append(markers, in.at(m))
		}
		run.ContainerMarkers = markers
	}
	script, err := firstboot.Script(run)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hubsecrets-init.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	scriptPath := filepath.Join(tmp, "jupyterhub-secrets")
	if err := os.WriteFile(scriptPath, script, 0o700); err != nil {
		return err
	}
	arg := "--adopt"
	if in.f.rotate {
		arg = "--rotate"
	}
	stdout, stderr, err := firstboot.RunScript(ctx, scriptPath, arg)
	in.e.stdout.Write(stdout)
	in.e.stderr.Write(stderr)
	if err != nil {
		// Its own words are above; the temporary path would only confuse.
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("the first-boot script could not make the secrets (exit status %d, see above)", ee.ExitCode())
		}
		return fmt.Errorf("run the first-boot script: %w", err)
	}
	if bytes.Contains(stdout, []byte("making a new cookie secret")) {
		in.changed = true
		in.secretsChanged = true
	} else if !bytes.Contains(stdout, []byte("nothing to do")) {
		in.changed = true
	}
	return nil
}

// daemonReload tells a running systemd about the new unit; without systemd
// (a container, a chroot) the files are in place for the next boot.
func (in *initRun) daemonReload(ctx context.Context) {
	if in.f.root != "/" {
		return
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return
	}
	if out, err := exec.CommandContext(ctx, "systemctl", "daemon-reload").CombinedOutput(); err != nil {
		fmt.Fprintf(in.e.stderr, "hubsecrets init: warning: systemctl daemon-reload: %v %s\n", err, out)
	}
}

// check runs 'hubsecrets check' (instance profile) on the result, so init
// reports exactly what check would: the host's new contract sets the
// parameters, and the same --data files are given.
func (in *initRun) check() int {
	fmt.Fprintln(in.e.stdout)
	args := []string{"--root", in.f.root, "--dir", in.cfg.Dir, "--hub-unit", in.cfg.HubUnit}
	for _, d := range in.f.payload.params.data {
		args = append(args, "--data", d)
	}
	if in.f.waivers != "" {
		args = append(args, "--waivers", in.f.waivers)
	}
	return runCheck(in.e, args)
}
