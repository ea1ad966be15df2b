package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/atomicfile"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

func init() {
	register(command{name: "dhparam", summary: "write DH parameters for nginx: an RFC 7919 group or a new safe prime", run: runDHParam})
}

// exitInterrupted is the shell's code for a command stopped by SIGINT.
const exitInterrupted = 130

const defaultGroup = "ffdhe2048"

const dhparamAbout = `Writes Diffie-Hellman parameters for nginx's ssl_dhparam, as PKCS#3 PEM
byte for byte like 'openssl dhparam' writes them.

By default it writes the RFC 7919 group ffdhe2048: current Mozilla guidance
is to use a standard group rather than locally generated parameters (and
Modern and Intermediate TLS configurations need no DH parameters at all).
--bits generates a new random safe prime instead, g = 2, of the same kind
'openssl dhparam' makes, on every CPU core: 2048 bits take seconds, 4096 bits
minutes. Progress is shown on a terminal unless CI is set or with --quiet.

Without --out the PEM goes to standard output. With --out the file is
written atomically with the mode the policy gives dhparam.pem (0600 unless
this host's parameters say otherwise); an existing file is replaced only with
--force, and a symbolic link never.

--check FILE asks the policy about the DH parameters in FILE (or standard
input with -): prime, safe prime, size against the min_dh_bits in force
(this host's /etc/hubsecrets/params.json, then --data), generator, known
weak groups. Its owner and mode are judged only when FILE is this host's
configured dhparam.pem (--dir); otherwise they are shown for information.
Exit 0 when the policy finds nothing to deny, 1 otherwise, 2 when FILE
cannot be read (a directory, a device).

Exit status: 0 written, 2 bad usage or failure, 130 interrupted (Ctrl-C or
SIGTERM; nothing is written).`

func runDHParam(e *env, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return dhparamCmd(ctx, e, args)
}

func dhparamCmd(ctx context.Context, e *env, args []string) int {
	var (
		bits       int
		group, out string
		force      bool
		quiet      bool
		check      string
		checkOpt   dhCheck
	)
	fs := newFlagSet(e, "hubsecrets dhparam [--bits 2048|3072|4096 | --group NAME] [-o FILE] [--force] [--quiet]", dhparamAbout)
	fs.IntVar(&bits, "bits", 0, "generate a new safe prime of `N` bits: 2048, 3072 or 4096")
	fs.StringVar(&group, "group", "", "write the RFC 7919 group `NAME`: "+strings.Join(dhparam.GroupNames(), ", ")+" (default "+defaultGroup+" unless --bits)")
	fs.StringVar(&out, "out", "", "write to `FILE` (atomically, with the policy's dhparam mode, 0600) instead of standard output")
	fs.StringVar(&out, "o", "", "short for --out")
	fs.BoolVar(&force, "force", false, "replace the --out file if it exists")
	fs.BoolVar(&quiet, "quiet", false, "print nothing on standard error but errors")
	fs.StringVar(&check, "check", "", "write nothing: ask the policy about the DH parameters in `FILE` (- for standard input)")
	fs.StringVar(&checkOpt.dir, "dir", layout.DefaultDir, "with --check: the secrets `DIR` whose dhparam.pem is this host's configured one (judged with its owner and mode)")
	fs.Var((*stringList)(&checkOpt.data), "data", "with --check: a data `FILE` setting hubsecrets.params (repeatable), as for check")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	case set["check"] && (set["bits"] || set["group"] || set["out"] || set["o"] || set["force"]):
		return usageError(e, fs, "--check reads a file and writes nothing: it takes no --bits, --group, --out or --force")
	case set["check"] && check == "":
		return usageError(e, fs, "--check: want a FILE, or - for standard input")
	case set["check"]:
		return checkDHParamFile(ctx, e, check, checkOpt)
	case set["dir"] || set["data"]:
		return usageError(e, fs, "--dir and --data are for --check")
	case set["bits"] && set["group"]:
		return usageError(e, fs, "--bits and --group exclude each other: --group writes a standard group, --bits generates new parameters")
	case set["bits"] && bits != 2048 && bits != 3072 && bits != 4096:
		return usageError(e, fs, "--bits %d: want 2048, 3072 or 4096", bits)
	case set["group"]:
		if _, err := dhparam.Group(group); err != nil {
			return usageError(e, fs, "--group %q: want one of %s", group, strings.Join(dhparam.GroupNames(), ", "))
		}
	case !set["bits"]:
		group = defaultGroup
	}
	if set["out"] && set["o"] {
		return usageError(e, fs, "give the output file once, as -o or --out")
	}

	say := func(format string, a ...any) {
		if !quiet {
			fmt.Fprintf(e.stderr, "hubsecrets dhparam: "+format+"\n", a...)
		}
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "hubsecrets dhparam: %v\n", err)
		return exitFailure
	}
	// Refuse before minutes of work what would be refused after it.
	if out != "" {
		if err := checkOut(out, force); err != nil {
			return fail(err)
		}
	}

	var p *dhparam.Params
	what := "RFC 7919 group " + group
	if group != "" {
		p, _ = dhparam.Group(group)
	} else {
		start := time.Now()
		var tried uint64
		showProgress := !quiet && e.isTerminal(e.stderr) && e.getenv("CI") == ""
		opt := dhparam.GenerateOptions{Progress: func(n uint64) {
			tried = n
			if showProgress {
				fmt.Fprintf(e.stderr, "\r\x1b[Kgenerating a %d-bit safe prime on %d cores: %.0f s, %d candidates tried",
					bits, runtime.GOMAXPROCS(0), time.Since(start).Seconds(), n)
			}
		}}
		var err error
		p, err = dhparam.Generate(ctx, bits, opt)
		if showProgress {
			fmt.Fprint(e.stderr, "\r\x1b[K")
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(e.stderr, "hubsecrets dhparam: interrupted; no file written")
				return exitInterrupted
			}
			return fail(err)
		}
		what = fmt.Sprintf("a new %d-bit safe prime (%.1f s, %d candidates tried)", bits, time.Since(start).Seconds(), tried)
	}

	pem := p.MarshalPEM()
	if out == "" {
		if _, err := e.stdout.Write(pem); err != nil {
			return fail(fmt.Errorf("write standard output: %w", err))
		}
		say("wrote %s to standard output", what)
		return exitOK
	}
	// The mode the policy gives dhparam.pem (dhparam_modes in force here).
	mode, err := dhparamMode(ctx)
	if err != nil {
		return fail(err)
	}
	err = atomicfile.Write(out, pem, atomicfile.Options{Perm: mode, NoReplace: !force, UID: -1, GID: -1})
	if errors.Is(err, atomicfile.ErrExists) {
		return fail(fmt.Errorf("%s appeared meanwhile; use --force to replace it", out))
	}
	if err != nil {
		return fail(err)
	}
	say("wrote %s to %s (mode %04o)", what, out, mode)
	return exitOK
}

// dhparamMode is the first of the dhparam_modes in force on this host (its
// contract, else the policy's defaults).
func dhparamMode(ctx context.Context) (os.FileMode, error) {
	eng, err := checker.NewEngine(ctx, checker.Options{})
	if err != nil {
		return 0, err
	}
	var doc *facts.Document
	if host, err := source.OpenDir("/"); err == nil {
		doc, _ = source.Collect(ctx, host, facts.Source{Kind: "dir", Root: "/"}, source.Options{})
		host.Close()
	}
	p, err := eng.Params(ctx, doc)
	if err != nil {
		return 0, err
	}
	return os.FileMode(p.DHParamMode()), nil
}

// checkOut fails early if out cannot be written: an existing file without
// force, a symbolic link, a missing directory.
func checkOut(out string, force bool) error {
	fi, err := os.Lstat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(out)
		if st, err := os.Stat(dir); err != nil {
			return fmt.Errorf("--out %s: %w", out, err)
		} else if !st.IsDir() {
			return fmt.Errorf("--out %s: %s is not a directory", out, dir)
		}
		return nil
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // it names out again
		}
		return fmt.Errorf("--out %s: %w", out, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("--out %s is a symbolic link; refusing to write through it", out)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("--out %s exists and is not a regular file", out)
	case !force:
		return fmt.Errorf("%s exists; use --force to replace it", out)
	}
	return nil
}
