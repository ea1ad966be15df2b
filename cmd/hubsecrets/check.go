package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"syscall"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

func init() {
	register(command{name: "check", summary: "check a secrets directory against the policy", run: runCheck})
	register(command{name: "facts", summary: "print the facts document the policy sees (for writing policies)", run: runFacts})
}

// scanFlags are the flags shared by check and facts: what to look at.
type scanFlags struct {
	root, dir, hubUnit string
}

func (s *scanFlags) register(fs interface {
	StringVar(p *string, name, value, usage string)
}) {
	fs.StringVar(&s.root, "root", "/", "the root filesystem to scan: / for this host, or a mounted image `DIR`")
	fs.StringVar(&s.dir, "dir", layout.DefaultDir, "the secrets directory, as a `PATH` inside the root")
	fs.StringVar(&s.hubUnit, "hub-unit", layout.DefaultHubUnit, "the hub's systemd `UNIT` the first-boot unit must run before")
}

// collect gathers the facts document; the error is one a user can act on.
func (s *scanFlags) collect(ctx context.Context) (*facts.Document, error) {
	fsys, err := source.OpenDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	defer fsys.Close()
	doc, err := source.Collect(ctx, fsys, facts.Source{Kind: "dir", Root: s.root}, source.Options{Dir: s.dir, HubUnit: s.hubUnit})
	if err != nil {
		return nil, fmt.Errorf("--dir: %w", err)
	}
	return doc, nil
}

const checkAbout = `Checks the JupyterHub secrets directory under a root (this host, or a mounted
image) against the Rego policy: modes, owners, types, the secrets' encoding and
length, the DH parameters, and in the image profile that no per-instance secret
was baked in and that the first-boot hook is installed.

No secret value is ever printed, in any format.

Profiles:
  instance   a running hub host: every file present, valid, distinct (default)
  image      a machine image: directory and DH params right, first-boot hook
             installed, no per-instance secret present

Exit status: 0 no deny findings, 1 deny findings (or warnings with --strict),
2 the check could not be done (bad flag, unreadable root or file, bad policy).`

func runCheck(e *env, args []string) int {
	var (
		scan                 scanFlags
		profile, format, out string
		policies, data       stringList
		strict               bool
	)
	fs := newFlagSet(e, "hubsecrets check [options]", checkAbout)
	scan.register(fs)
	fs.StringVar(&profile, "profile", "instance", "what the root is: `instance` or image")
	fs.StringVar(&format, "format", "text", "report `FORMAT`: "+report.FormatNames())
	fs.StringVar(&out, "output", "", "write the report to `FILE` instead of standard output")
	fs.Var(&policies, "policy", "add the Rego policies in `DIR` (repeatable); their deny/warn rules join the report")
	fs.Var(&data, "data", "add a JSON or YAML data `FILE` (repeatable), e.g. to set hubsecrets.params")
	fs.BoolVar(&strict, "strict", false, "exit 1 on warnings too")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	if _, ok := report.Formats[format]; !ok {
		return usageError(e, fs, "--format %q: want one of %s", format, report.FormatNames())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, err := checker.NewEngine(ctx, checker.Options{Profile: profile, PolicyDirs: policies, DataFiles: data})
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
		return exitFailure
	}
	doc, err := scan.collect(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
		return exitFailure
	}
	rep, err := eng.Evaluate(ctx, doc)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: evaluate policy: %v\n", err)
		return exitFailure
	}
	if err := writeReport(e, out, format, rep, strict); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
		return exitFailure
	}
	return exitCode(e, doc, rep, strict)
}

// exitCode applies the CI contract: never 0 when something was not checked.
func exitCode(e *env, doc *facts.Document, rep report.Report, strict bool) int {
	if len(doc.Errors) > 0 {
		for _, msg := range doc.Errors {
			fmt.Fprintf(e.stderr, "hubsecrets check: could not check %s\n", msg)
		}
		return exitFailure
	}
	if rep.Summary.Deny > 0 || strict && rep.Summary.Warn > 0 {
		return exitDenied
	}
	return exitOK
}

func writeReport(e *env, out, format string, rep report.Report, strict bool) error {
	opts := report.Options{Strict: strict, Version: version.PluginVersion.FormattedVersion()}
	var w io.Writer = e.stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer f.Close()
		w = f
	} else {
		opts.Color = format == "text" && e.isTerminal(e.stdout) && e.getenv("NO_COLOR") == ""
	}
	if err := report.Write(format, w, []report.Report{rep}, opts); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	if f, ok := w.(*os.File); ok && out != "" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("--output %s: %w", path.Clean(out), err)
		}
	}
	return nil
}

func runFacts(e *env, args []string) int {
	var scan scanFlags
	fs := newFlagSet(e, "hubsecrets facts [options]", `Prints the facts document (JSON, schema `+facts.Schema+`) that the policy
evaluates as input: what was observed, never a secret's value. Use it to write
and test site policies for 'hubsecrets check --policy'.`)
	scan.register(fs)
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	doc, err := scan.collect(context.Background())
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets facts: %v\n", err)
		return exitFailure
	}
	if err := writeJSON(e.stdout, doc); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets facts: %v\n", err)
		return exitFailure
	}
	if len(doc.Errors) > 0 {
		return exitFailure
	}
	return exitOK
}
