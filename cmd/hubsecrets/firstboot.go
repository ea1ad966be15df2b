package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
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

// payloadFlags are the site's settings, shared by render and script.
type payloadFlags struct{ cfg firstboot.Config }

func (p *payloadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cfg.Dir, "dir", layout.DefaultDir, "the secrets `DIR` on the instance")
	fs.StringVar(&p.cfg.Owner, "owner", "root", "the `USER` who owns the secrets (the hub's user), resolved on the instance")
	fs.StringVar(&p.cfg.Group, "group", "root", "the secrets' `GROUP`, resolved on the instance")
	fs.StringVar(&p.cfg.HubUnit, "hub-unit", layout.DefaultHubUnit, "the hub's systemd `UNIT`, started only once the secrets are in place")
}

// payloadFlagNames names the flag for each firstboot.Config field it sets.
var payloadFlagNames = map[string]string{"Dir": "dir", "Owner": "owner", "Group": "group", "HubUnit": "hub-unit"}

// validate checks the arguments and the settings, printing a usage error
// that names the flag.
func (p *payloadFlags) validate(e *env, fs *flag.FlagSet) (int, bool) {
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0)), true
	}
	if err := p.cfg.Validate(); err != nil {
		var ce *firstboot.ConfigError
		if errors.As(err, &ce) && payloadFlagNames[ce.Field] != "" {
			return usageError(e, fs, "--%s %q: %s", payloadFlagNames[ce.Field], ce.Value, ce.Problem), true
		}
		return usageError(e, fs, "%v", err), true
	}
	return 0, false
}

const renderAbout = `Writes the first-boot payload under the root DIR, as the Packer provisioner
installs it in an image: the script (0755), jupyterhub-secrets.service and the
hub's drop-in (0644), and the multi-user.target.wants link that enables the
unit. Missing directories are made (0755); existing files are replaced
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
	if code, stop := p.validate(e, fs); stop {
		return code
	}
	files, err := firstboot.Render(p.cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot render: %v\n", err)
		return exitFailure
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
	if code, stop := p.validate(e, fs); stop {
		return code
	}
	script, err := firstboot.Script(p.cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets firstboot script: %v\n", err)
		return exitFailure
	}
	e.stdout.Write(script)
	return exitOK
}
