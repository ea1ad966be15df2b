package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/contract"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

func init() {
	register(command{name: "firstboot", summary: "write or print the first-boot payload (script, unit, hub drop-in)", run: runFirstboot})
}

const firstbootAbout = `Usage: hubsecrets firstboot render --root DIR [options]
       hubsecrets firstboot script [options]

The first-boot payload makes JupyterHub's per-instance secrets on every new
instance, before the hub starts: a POSIX sh script, jupyterhub-secrets.service
that runs it on every boot (it changes nothing unless the instance is new or a
secret is missing or invalid), the hub unit's drop-in that requires it, and the
link that enables it.

Subcommands:
  render   write the payload under a root (a mounted image, or a directory to
           inspect), exactly as the Packer provisioner installs it
  script   print the rendered script

Run 'hubsecrets firstboot SUBCOMMAND --help' for the options.
`

func runFirstboot(e *env, args []string) int {
	if len(args) == 0 {
		io.WriteString(e.stderr, firstbootAbout)
		return exitFailure
	}
	switch args[0] {
	case "-h", "--help", "help":
		io.WriteString(e.stdout, firstbootAbout)
		return exitOK
	case "render":
		return runFirstbootRender(e, args[1:])
	case "script":
		return runFirstbootScript(e, args[1:])
	}
	fmt.Fprintf(e.stderr, "hubsecrets firstboot: unknown subcommand %q: want render or script\nRun 'hubsecrets firstboot --help' for more.\n", args[0])
	return exitFailure
}

// payloadFlags are the site's settings, shared by render, script and init.
type payloadFlags struct {
	cfg     firstboot.Config
	dirMode string
	params  paramFlags
}

func (p *payloadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cfg.Dir, "dir", layout.DefaultDir, "the secrets `DIR` on the instance")
	fs.StringVar(&p.dirMode, "dir-mode", "", "the secrets directory's `MODE` when it is made: 0755, 0750 or 0700 (default: the host's contract's, else 0755)")
	fs.StringVar(&p.cfg.HubUnit, "hub-unit", layout.DefaultHubUnit, "the hub's systemd `UNIT`, started only once the secrets are in place")
	p.params.register(fs)
}

// payloadFlagNames names the flag for each firstboot.Config field it sets.
var payloadFlagNames = map[string]string{"Dir": "dir", "Owner": "owner", "Group": "group", "HubUnit": "hub-unit", "DirMode": "dir-mode"}

// validate checks the arguments, printing a usage error that names the flag.
// Where a flag was not given, the contract of root (when there is one, and
// root is not "") says how hubsecrets was installed there.
func (p *payloadFlags) validate(e *env, fs *flag.FlagSet, root string) (int, bool) {
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0)), true
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if root != "" {
		if b, err := os.ReadFile(filepath.Join(root, layout.ContractPath)); err == nil {
			if k, err := contract.Parse(b); err == nil {
				if !set["dir"] && k.Host.Dir != "" {
					p.cfg.Dir = k.Host.Dir
				}
				if !set["hub-unit"] && k.Host.HubUnit != "" {
					p.cfg.HubUnit = k.Host.HubUnit
				}
				if !set["dir-mode"] {
					p.dirMode = k.Host.DirMode
				}
			}
		}
	}
	if p.dirMode == "" {
		p.dirMode = "0755"
	}
	m, err := params.ParseMode(p.dirMode)
	if err != nil {
		return usageError(e, fs, "--dir-mode: %v", err), true
	}
	p.cfg.DirMode = m
	return 0, false
}

// config completes p.cfg with the parameters in force (the policy's
// defaults, the host's contract in doc when given, --data, --owner and
// --group), and checks it; errors name the flag.
func (p *payloadFlags) config(ctx context.Context, eng *checker.Engine, doc *facts.Document) (firstboot.Config, error) {
	cfg := p.cfg
	var err error
	if cfg.Params, err = eng.Params(ctx, doc); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		var ce *firstboot.ConfigError
		if errors.As(err, &ce) && payloadFlagNames[ce.Field] != "" {
			return cfg, fmt.Errorf("--%s %q: %s", payloadFlagNames[ce.Field], ce.Value, ce.Problem)
		}
		return cfg, err
	}
	return cfg.WithDefaults(), nil
}

// paramFlags set policy parameters from the command line: --owner and
// --group (when given) over --data files.
type paramFlags struct {
	owner, group string
	data         stringList
}

func (p *paramFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.owner, "owner", "", "the `USER` who owns the secrets and dhparam.pem (the hub's user; default: the parameters in force, root)")
	fs.StringVar(&p.group, "group", "", "their `GROUP` (default: the parameters in force, root)")
	fs.Var(&p.data, "data", "a JSON or YAML data `FILE` setting hubsecrets.params (repeatable), as for check")
}

// engine compiles the policy with the flags' parameters.
func (p *paramFlags) engine(ctx context.Context) (*checker.Engine, error) {
	overlay := map[string]any{}
	if p.owner != "" {
		overlay["owner"] = p.owner
	}
	if p.group != "" {
		overlay["group"] = p.group
	}
	return checker.NewEngine(ctx, checker.Options{DataFiles: p.data, Params: overlay})
}

const renderAbout = `Writes the first-boot payload under the root DIR, as the Packer provisioner
installs it in an image: the script (0755), jupyterhub-secrets.service and the
hub's drop-in (0644), the multi-user.target.wants link that enables the
unit, and the host's parameters file (/etc/hubsecrets/params.json) that
'hubsecrets check' judges the root by. Missing directories are made (0755); existing files are replaced
atomically; a symbolic link on the way inside the root is refused, not
followed. The payload holds no secret: the script makes them on the instance.

Exit status: 0 written, 2 bad options or the files could not be written.`

func runFirstbootRender(e *env, args []string) int {
	var (
		p    payloadFlags
		root string
	)
	fs := newFlagSet(e, "hubsecrets firstboot render --root DIR [options]", renderAbout)
	fs.StringVar(&root, "root", "", "write under the root `DIR` (a mounted image, or any directory; made if missing); required")
	p.register(fs)
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if root == "" {
		return usageError(e, fs, "--root is required: the directory to write the payload under (/ for this machine)")
	}
	if code, stop := p.validate(e, fs, root); stop {
		return code
	}
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot render: %v\n", err)
		return exitFailure
	}
	eng, err := p.params.engine(ctx)
	if err != nil {
		return fail(err)
	}
	if _, err := p.config(ctx, eng, nil); err != nil {
		return usageError(e, fs, "%v", err)
	}
	// The root's own contract, if it has one, counts under the flags.
	var doc *facts.Document
	if fsys, err := source.OpenDir(root); err == nil {
		doc, err = source.Collect(ctx, fsys, facts.Source{Kind: "dir", Root: root}, source.Options{Dir: p.cfg.Dir, HubUnit: p.cfg.HubUnit})
		fsys.Close()
		if err != nil {
			return fail(err)
		}
	}
	cfg, err := p.config(ctx, eng, doc)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	files, err := firstboot.Payload(cfg, nil, writtenBy())
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot render: --root: %v\n", err)
		return exitFailure
	}
	if err := firstboot.Install(root, files); err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot render: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "hubsecrets firstboot render: wrote under %s:\n", root)
	for _, f := range files {
		if f.LinkTarget != "" {
			fmt.Fprintf(e.stdout, "  %s -> %s\n", filepath.Join(root, f.Path), f.LinkTarget)
		} else {
			fmt.Fprintf(e.stdout, "  %s (%04o)\n", filepath.Join(root, f.Path), f.Mode.Perm())
		}
	}
	return exitOK
}

// writtenBy names this tool in the contracts it writes.
func writtenBy() string { return "hubsecrets " + version.PluginVersion.FormattedVersion() }

const scriptAbout = `Prints the first-boot script rendered for these options, to read or to run
by hand (as root: jupyterhub-secrets [--force|--rotate]). It never prints a
secret and holds none.`

func runFirstbootScript(e *env, args []string) int {
	var p payloadFlags
	fs := newFlagSet(e, "hubsecrets firstboot script [options]", scriptAbout)
	p.register(fs)
	if code, stop := parseFlags(e, fs, args); stop {
		return code
	}
	if code, stop := p.validate(e, fs, ""); stop {
		return code
	}
	ctx := context.Background()
	eng, err := p.params.engine(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot script: %v\n", err)
		return exitFailure
	}
	cfg, err := p.config(ctx, eng, nil)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	script, err := firstboot.Script(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot script: %v\n", err)
		return exitFailure
	}
	e.stdout.Write(script)
	return exitOK
}
