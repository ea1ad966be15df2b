package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

func init() {
	register(command{name: "check", summary: "check a secrets directory against the policy", run: runCheck})
	register(command{name: "facts", summary: "print the facts document the policy sees (for writing policies)", run: runFacts})
}

// scanFlags are the flags shared by check and facts: what to look at.
type scanFlags struct {
	root, tar, dir, hubUnit string
	hubConfig, nginxConfig  string
	ssh                     sshFlags
}

func (s *scanFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.root, "root", "/", "the root filesystem to scan: / for this host, or a mounted image `DIR`")
	fs.StringVar(&s.tar, "tar", "", "scan the root filesystem archive `FILE` instead (tar, gzip or zstd, told by content; - for stdin)")
	s.ssh.register(fs)
	fs.StringVar(&s.dir, "dir", layout.DefaultDir, "the secrets directory, as a `PATH` inside the root")
	fs.StringVar(&s.hubUnit, "hub-unit", layout.DefaultHubUnit, "the hub's systemd `UNIT` the first-boot unit must run before")
	fs.StringVar(&s.hubConfig, "hub-config", source.DefaultHubConfig, "the hub's jupyterhub_config.py, as a `PATH` inside the root; checked when it exists")
	fs.StringVar(&s.nginxConfig, "nginx-config", source.DefaultNginxConfig, "nginx's main configuration file, as a `PATH` inside the root; checked with its includes when it exists")
}

func (s *scanFlags) options() source.Options {
	return source.Options{Dir: s.dir, HubUnit: s.hubUnit, HubConfig: s.hubConfig, NginxConfig: s.nginxConfig}
}

func (s *scanFlags) remote() bool { return len(s.ssh.hosts) > 0 || s.ssh.hostsFile != "" }

// validate refuses flags that contradict each other, after parsing.
func (s *scanFlags) validate(fs *flag.FlagSet) error {
	set := map[string]bool{} // the flags given on the command line
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var kinds []string
	for _, k := range []string{"root", "tar"} {
		if set[k] {
			kinds = append(kinds, "--"+k)
		}
	}
	if s.remote() {
		kinds = append(kinds, "--ssh/--hosts")
	}
	if len(kinds) > 1 {
		return fmt.Errorf("%s: scan one kind of source at a time", strings.Join(kinds, " and "))
	}
	if set["tar"] && s.tar == "" {
		return errors.New("--tar: want an archive FILE, or - for stdin")
	}
	for _, f := range []struct{ name, value, example string }{
		{"hub-config", s.hubConfig, source.DefaultHubConfig},
		{"nginx-config", s.nginxConfig, source.DefaultNginxConfig},
	} {
		if !path.IsAbs(f.value) || path.Clean(f.value) != f.value || f.value == "/" {
			return fmt.Errorf("--%s %q: want an absolute, clean path inside the scanned root, such as %s", f.name, f.value, f.example)
		}
	}
	if !s.remote() {
		for _, name := range sshOnly {
			if set[name] {
				return fmt.Errorf("--%s is for SSH scans: add --ssh HOST or --hosts FILE", name)
			}
		}
		return nil
	}
	switch {
	case s.ssh.insecure && len(s.ssh.knownHosts) > 0:
		return errors.New("--known-hosts and --insecure-ignore-host-key: verify host keys or do not, not both")
	case s.ssh.timeout <= 0 || s.ssh.hostTimeout <= 0:
		return errors.New("--timeout and --host-timeout must be positive durations, such as 10s or 2m")
	}
	return nil
}

// sources returns the roots to scan and a function that releases what
// they hold. An error here (a bad host list, no SSH key) is one the user
// can act on before anything is scanned.
func (s *scanFlags) sources(e *env, cmd string) ([]runner.Source, func(), error) {
	opt := s.options()
	switch {
	case s.tar != "":
		root := s.tar
		if root == "-" {
			root = "(stdin)"
		}
		return []runner.Source{{Root: root, Kind: "tar", Collect: func(ctx context.Context) (*facts.Document, error) {
			return s.collectTar(ctx, e, opt)
		}}}, func() {}, nil
	case !s.remote():
		return []runner.Source{{Root: s.root, Kind: "dir", Collect: func(ctx context.Context) (*facts.Document, error) {
			return s.collectDir(ctx, opt)
		}}}, func() {}, nil
	}
	warn := func(format string, a ...any) {
		fmt.Fprintf(e.stderr, "%s: %s\n", cmd, fmt.Sprintf(format, a...))
	}
	targets, err := s.ssh.targets(e, warn)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.ssh.setup(e, targets, warn)
	if err != nil {
		return nil, nil, err
	}
	srcs := make([]runner.Source, len(targets))
	for i, t := range targets {
		srcs[i] = st.source(t, opt)
	}
	return srcs, st.Close, nil
}

func (s *scanFlags) collectDir(ctx context.Context, opt source.Options) (*facts.Document, error) {
	fsys, err := source.OpenDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	defer fsys.Close()
	doc, err := source.Collect(ctx, fsys, facts.Source{Kind: "dir", Root: s.root}, opt)
	if err != nil {
		return nil, fmt.Errorf("--dir: %w", err)
	}
	return doc, nil
}

// collectTar reads the archive once, from a file or stdin.
func (s *scanFlags) collectTar(ctx context.Context, e *env, opt source.Options) (*facts.Document, error) {
	r, name := e.stdin, "(stdin)"
	if s.tar != "-" {
		f, err := os.Open(s.tar)
		if err != nil {
			return nil, fmt.Errorf("--tar: %w", err)
		}
		defer f.Close()
		r, name = f, s.tar
	}
	fsys, err := source.OpenTar(r, opt)
	if err != nil {
		return nil, fmt.Errorf("--tar %s: %w", name, err)
	}
	doc, err := source.Collect(ctx, fsys, facts.Source{Kind: "tar", Root: name}, opt)
	if err != nil {
		return nil, fmt.Errorf("--dir: %w", err)
	}
	return doc, nil
}

const checkAbout = `Checks the JupyterHub secrets directory under a root (this host, a mounted
image, a root filesystem archive, or remote hosts over SSH) against the Rego
policy: modes, owners, types, the secrets' encoding and length, the DH
parameters, and in the image profile that no per-instance secret was baked in
and that the first-boot hook is installed.

Where the hub and nginx are configured under the root, it also checks that
they use those files: jupyterhub_config.py (--hub-config) for
cookie_secret_file and the proxy token, and nginx's configuration
(--nginx-config, with its includes) for ssl_dhparam, the DH parameters it
names, and DHE suites enabled without DH parameters. A finding names the
file and line, and its fix the line to write.

No secret value is ever printed, in any format.

Profiles:
  instance   a running hub host: every file present, valid, distinct (default)
  image      a machine image: directory and DH params right, first-boot hook
             installed, no per-instance secret present

Sources (one kind at a time): --root DIR (default /), --tar FILE, or hosts
with --ssh and --hosts. A host is resolved as ssh(1) resolves it
(~/.ssh/config: HostName, Port, User, IdentityFile, ProxyJump), reached with
golang.org/x/crypto/ssh (keys from --identity, IdentityFile and ssh-agent;
every hop's host key checked against known_hosts) and scanned with one
command, as root or through 'sudo -n'. Several hosts are
scanned --parallel at a time, each on its own: --format json then prints one
JSON object a line, the other formats group findings by host. A host that
cannot be scanned is named on stderr with the reason, and in the report as
not checked (a JSON line with its "errors", a JUnit <error>, a SARIF
tool execution notification); the others still are.

--waivers FILE accepts known findings for a while: a YAML or JSON list under
"waivers", each with id (the rule), optional path and host globs, reason and
expires (YYYY-MM-DD, the last day). A waived finding is shown as waived and
does not fail the run; an expired waiver, or one that matches nothing, is a
warning. A bad file stops the run before anything is scanned.

With --output FILE the report goes to a temporary file beside FILE (missing
directories are made), synced, then renamed over it: a failed write leaves
the previous report as it was. A symbolic link at FILE, or as its
directory, is refused.

Exit status: 0 no deny findings, 1 deny findings (or warnings with --strict),
2 the check could not be done (bad flag, unreadable root or file, bad policy,
a host that could not be scanned), whatever the other hosts found.`

func runCheck(e *env, args []string) int {
	var (
		scan                 scanFlags
		profile, format, out string
		waivers              string
		policies, data       stringList
		strict               bool
		parallel             int
	)
	fs := newFlagSet(e, "hubsecrets check [options]", checkAbout)
	scan.register(fs)
	fs.IntVar(&parallel, "parallel", 8, "scan at most `N` hosts at a time")
	fs.StringVar(&profile, "profile", "instance", "what the root is: `instance` or image")
	fs.StringVar(&format, "format", "text", "report `FORMAT`: "+report.FormatNames())
	fs.StringVar(&out, "output", "", "write the report to `FILE` (mode 0644, atomically, never through a symbolic link) instead of standard output")
	fs.Var(&policies, "policy", "add the site policies in `PATH` (repeatable): a .rego file, a directory of them, or an OPA bundle (.tar.gz, or a directory with a .manifest); their deny/warn rules join the report")
	fs.Var(&data, "data", "add a JSON or YAML data `FILE` (repeatable), e.g. to set hubsecrets.params")
	fs.StringVar(&waivers, "waivers", "", "accept the findings the waivers in `FILE` (YAML or JSON) name until they expire: shown as waived, not failing")
	fs.BoolVar(&strict, "strict", false, "exit 1 on warnings too")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	var ws *waiver.Set
	if waivers != "" {
		var err error
		if ws, err = waiver.Load(waivers); err != nil {
			return usageError(e, fs, "--%v", err)
		}
	}
	if _, ok := report.Formats[format]; !ok {
		return usageError(e, fs, "--format %q: want one of %s", format, report.FormatNames())
	}
	if err := scan.validate(fs); err != nil {
		return usageError(e, fs, "%v", err)
	}
	if parallel < 1 {
		return usageError(e, fs, "--parallel %d: want 1 or more", parallel)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srcs, release, err := scan.sources(e, "hubsecrets check")
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
		return exitFailure
	}
	defer release()
	eng, err := checker.NewEngine(ctx, checker.Options{Profile: profile, PolicyDirs: policies, DataFiles: data})
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
		return exitFailure
	}
	results := runner.Run(ctx, eng, srcs, parallel)
	for _, w := range runner.Waive(results, ws, time.Now()) {
		fmt.Fprintf(e.stderr, "hubsecrets check: warning: %s\n", w)
	}

	code := exitOK
	if reports := runner.Reports(results); len(reports) > 0 {
		if err := writeReports(e, out, format, reports, reportOptions(strict, eng), len(srcs) > 1); err != nil {
			fmt.Fprintf(e.stderr, "hubsecrets check: %v\n", err)
			code = exitFailure
		}
	}
	// What could not be checked, after the report, where it is seen.
	for _, r := range results {
		prefix := "hubsecrets check: "
		if r.Source.Label != "" {
			prefix += r.Source.Label + ": "
		}
		for _, p := range r.Problems() {
			fmt.Fprintf(e.stderr, "%s%s\n", prefix, p)
		}
	}
	code = max(code, runner.Code(results, strict))
	if n := runner.Failed(results); n > 0 && len(srcs) > 1 {
		fmt.Fprintf(e.stderr, "hubsecrets check: %d of %d hosts could not be scanned\n", n, len(srcs))
	}
	return code
}

func writeReport(e *env, out, format string, rep report.Report, strict bool) error {
	return writeReports(e, out, format, []report.Report{rep}, reportOptions(strict, nil), false)
}

// reportOptions names the tool's version and, with an engine, the policy's
// revision in the machine-readable formats.
func reportOptions(strict bool, eng *checker.Engine) report.Options {
	opts := report.Options{Strict: strict, Version: version.PluginVersion.FormattedVersion()}
	if eng != nil {
		opts.PolicyRevision = eng.PolicyRevision()
	}
	return opts
}

// writeReports writes the reports to standard output, or atomically to
// out; several is whether several sources were asked for, so json stays
// JSON Lines even when one of them answered.
func writeReports(e *env, out, format string, reports []report.Report, opts report.Options, several bool) error {
	o := runner.Output{Format: format, Options: opts, Lines: several}
	if out != "" {
		if err := o.WriteFile(out, reports); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		return nil
	}
	o.Options.Color = format == "text" && e.isTerminal(e.stdout) && e.getenv("NO_COLOR") == ""
	return o.Write(e.stdout, reports)
}

func runFacts(e *env, args []string) int {
	var (
		scan    scanFlags
		profile string
	)
	fs := newFlagSet(e, "hubsecrets facts [options]", `Prints the facts document (JSON, schema `+facts.Schema+`) that the policy
evaluates as input: what was observed, never a secret's value. Use it to write
and test site policies for 'hubsecrets check --policy'.

With --profile the document carries the profile ("profile": "image"), so it
is the whole input of the policy for opa eval, conftest or an OPA server
(see docs/opa.md); without it the policy takes the instance profile. Its
JSON Schema is docs/facts.schema.json.`)
	scan.register(fs)
	fs.StringVar(&profile, "profile", "", "put the profile in the document: `instance` or image")
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	if err := scan.validate(fs); err != nil {
		return usageError(e, fs, "%v", err)
	}
	if profile != "" && profile != checker.ProfileInstance && profile != checker.ProfileImage {
		return usageError(e, fs, "--profile %q: want %s or %s", profile, checker.ProfileInstance, checker.ProfileImage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srcs, release, err := scan.sources(e, "hubsecrets facts")
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets facts: %v\n", err)
		return exitFailure
	}
	defer release()
	if len(srcs) != 1 {
		return usageError(e, fs, "%d hosts: facts prints one host's document; give one --ssh", len(srcs))
	}
	doc, err := srcs[0].Collect(ctx)
	if err != nil {
		if srcs[0].Label != "" {
			err = fmt.Errorf("%s: %w", srcs[0].Label, err)
		}
		fmt.Fprintf(e.stderr, "hubsecrets facts: %v\n", err)
		return exitFailure
	}
	doc.Profile = profile
	if err := writeJSON(e.stdout, doc); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets facts: %v\n", err)
		return exitFailure
	}
	if len(doc.Errors) > 0 {
		return exitFailure
	}
	return exitOK
}
