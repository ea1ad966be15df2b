// Package provisioner is the `jupyterhub-secrets` Packer provisioner. It
// bakes a JupyterHub secrets directory into an image: the directory with its
// owner and mode, DH parameters, and the first-boot unit that makes the
// per-instance secrets on each new instance. Then it checks the image with
// the same facts and policy as `hubsecrets check --profile image`.
//
// It never writes a secret into the image, not even temporarily.
package provisioner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

// Provisioner implements packersdk.Provisioner.
type Provisioner struct {
	config Config
	// dhPEM holds the DH parameters from dhparam_group or dhparam_file;
	// nil when they are generated (dhparam_bits) during Provision.
	dhPEM []byte
	// engine holds the policy: the parameters in force, and the image
	// profile verification.
	engine *checker.Engine
	// waivers are waivers_file's, nil without one.
	waivers *waiver.Set
	// payload is the first-boot payload's configuration, parameters included.
	payload firstboot.Config
	// timer is hubsecrets-check.timer's files, with install_check_timer.
	timer []firstboot.File
}

var _ packersdk.Provisioner = new(Provisioner)

// ConfigSpec returns the HCL2 spec of Config.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// commandData are the variables execute_command may use.
type commandData struct {
	// Vars are environment assignments for the script, as the shell
	// provisioner passes them.
	Vars string
	// Path is the staged script on the target.
	Path string
}

// Provision installs the payload with one upload and one command, then
// verifies the image with one more command.
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	c := &p.config
	if comm == nil {
		return errors.New("jupyterhub-secrets needs a communicator to reach the machine (e.g. communicator = \"ssh\"), not \"none\"")
	}
	user, _ := generatedData["User"].(string)
	dhPEM, err := p.dhParams(ctx, ui)
	if err != nil {
		return err
	}
	if c.DHParamBits != 0 {
		// Generated here: the policy judges them as it judged the others.
		if dhPEM, err = p.judgeDH(fmt.Sprintf("dhparam_bits %d", c.DHParamBits), dhPEM); err != nil {
			return err
		}
	}
	payload, err := firstboot.Payload(p.payload, dhPEM, "packer-plugin-jupyterhub "+version.PluginVersion.FormattedVersion())
	if err != nil {
		return fmt.Errorf("render the first-boot payload: %w", err)
	}
	payload = append(payload, p.timer...)
	prm := p.payload.Params

	id, err := randomID()
	if err != nil {
		return err
	}
	stage := path.Join(c.RemoteDir, "hubsecrets-"+id+".sh")
	plan := installPlan{
		dir: c.Directory, owner: prm.Owner, group: prm.Group, dirMode: os.FileMode(p.payload.DirMode),
		dhMode: os.FileMode(prm.DHParamMode()), existing: c.ExistingSecrets, dhPEM: dhPEM, payload: payload,
	}
	if c.InstallCheckTimer {
		plan.metricsDir, plan.checkBinary = c.CheckMetricsDir, c.CheckBinary
	}
	opts := source.Options{Dir: c.Directory, HubUnit: c.HubUnit}
	if !c.SkipVerify {
		plan.collectPath = path.Join(c.RemoteDir, "hubsecrets-"+id+"-collect.sh")
		// The collector removes its staged copy first, as the installer does.
		plan.collectScript = asRoot + "rm -f -- \"$0\"\n" + source.RemoteScript(opts)
	}
	script, err := installScript(plan)
	if err != nil {
		return fmt.Errorf("build the install script: %w", err)
	}

	ui.Say(fmt.Sprintf("Installing %s (%s root:%s), %s (%s, %s:%s %04o) and the first-boot unit for %s; secrets on each instance: %s:%s %04o",
		c.Directory, c.DirectoryMode, prm.Group, layout.DHParamFile, c.dhSource(), prm.Owner, prm.Group, prm.DHParamMode(), c.HubUnit,
		prm.Owner, prm.Group, prm.SecretMode()))
	if err := comm.Upload(stage, strings.NewReader(script), nil); err != nil {
		return fmt.Errorf("upload the install script to %s: %w (is remote_dir %s writable by the SSH user?)", stage, err, c.RemoteDir)
	}
	res, err := p.run(ctx, ui, comm, stage, generatedData, true)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if err := installError(res, c, user); err != nil {
		// The script removes itself when it runs; when sudo refused to run
		// it, the SSH user, who uploaded it, removes it.
		cleanup := &packersdk.RemoteCmd{Command: "rm -f -- " + shQuote(stage)}
		if comm.Start(ctx, cleanup) == nil {
			cleanup.Wait()
		}
		return err
	}
	if removed := res.removed(); len(removed) > 0 {
		warnRemoved(ui, removed)
	}

	if c.SkipVerify {
		ui.Say("Skipping verification (skip_verify = true)")
		return nil
	}
	return p.verify(ctx, ui, comm, plan.collectPath, generatedData, user)
}

// dhSource says where the DH parameters come from, for the build output.
func (c *Config) dhSource() string {
	switch {
	case c.DHParamBits != 0:
		return fmt.Sprintf("%d bits, generated on the build host", c.DHParamBits)
	case c.DHParamFile != "":
		return "from " + c.DHParamFile
	}
	return c.DHParamGroup
}

// dhParams returns the PEM to install, generating it on the build host for
// dhparam_bits.
func (p *Provisioner) dhParams(ctx context.Context, ui packersdk.Ui) ([]byte, error) {
	if p.dhPEM != nil {
		return p.dhPEM, nil
	}
	bits := p.config.DHParamBits
	ui.Say(fmt.Sprintf("Generating %d-bit DH parameters on the build host (safe-prime search, %d workers; minutes at 3072 bits and more)", bits, runtime.NumCPU()))
	start, last := time.Now(), time.Now()
	params, err := dhparam.Generate(ctx, bits, dhparam.GenerateOptions{
		Workers: runtime.NumCPU(),
		// A sign of life every half minute, not ten a second.
		Progress: func(tried uint64) {
			if time.Since(last) >= 30*time.Second {
				last = time.Now()
				ui.Say(fmt.Sprintf("Still searching for a safe prime: %d candidates tested in %s", tried, time.Since(start).Round(time.Second)))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("dhparam_bits %d: generate DH parameters: %w", bits, err)
	}
	ui.Say(fmt.Sprintf("Generated %d-bit DH parameters in %s", bits, time.Since(start).Round(time.Second)))
	return params.MarshalPEM(), nil
}

// result is what one remote command did.
type result struct {
	status         int
	stdout, stderr bytes.Buffer
}

func (r *result) removed() []string {
	var out []string
	for _, line := range strings.Split(r.stdout.String(), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), removedPrefix); ok {
			out = append(out, p)
		}
	}
	return out
}

func (r *result) found() []string {
	var out []string
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), foundPrefix); ok {
			out = append(out, p)
		}
	}
	return out
}

// run runs execute_command on a staged script. With stream, output goes to
// the UI line by line as well; without, only stderr is shown, afterwards
// (the collector's output describes files and stays out of logs).
func (p *Provisioner) run(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, script string, generatedData map[string]interface{}, stream bool) (*result, error) {
	ictx := p.config.ctx
	ictx.Data = &commandData{Vars: envVars(p.config.PackerBuildName, p.config.PackerBuilderType), Path: script}
	command, err := interpolate.Render(p.config.ExecuteCommand, &ictx)
	if err != nil {
		return nil, fmt.Errorf("execute_command: %w", err)
	}
	res := &result{}
	cmd := &packersdk.RemoteCmd{Command: command, Stdout: &res.stdout, Stderr: &res.stderr}
	if stream {
		if err := cmd.RunWithUi(ctx, comm, ui); err != nil {
			return nil, err
		}
	} else {
		if err := comm.Start(ctx, cmd); err != nil {
			return nil, err
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		for _, line := range strings.Split(strings.TrimRight(res.stderr.String(), "\n"), "\n") {
			if line != "" {
				ui.Error(line)
			}
		}
	}
	// RunWithUi returns nil whatever the exit status: check it here.
	res.status = cmd.ExitStatus()
	if res.status == packersdk.CmdDisconnect {
		return nil, errors.New("the connection to the target was lost while the command ran")
	}
	return res, nil
}

// envVars renders the environment the shell provisioner passes scripts.
func envVars(buildName, builderType string) string {
	return fmt.Sprintf("PACKER_BUILD_NAME=%s PACKER_BUILDER_TYPE=%s", shQuote(buildName), shQuote(builderType))
}

// installError explains a failed install; nil when it succeeded.
func installError(res *result, c *Config, user string) error {
	if res.status == 0 {
		return nil
	}
	if err := sudoError(res, user); err != nil {
		return err
	}
	switch res.status {
	case exitExistingSecrets:
		return fmt.Errorf("existing_secrets = %q: the image already holds per-instance secrets (%s); nothing was changed. "+
			"Rebuild from a base image where the hub never ran (don't start jupyterhub during the build), or set existing_secrets = %q to wipe and remove them",
			existingFail, strings.Join(res.found(), ", "), existingRemove)
	case exitNotRoot:
		return fmt.Errorf("the install must run as root and %q is not: set use_sudo = true (with passwordless sudo) or connect as root", user)
	case exitNoAccount:
		return fmt.Errorf("owner or group does not exist in the image (see the error above); create it before this provisioner or change owner/group")
	case exitPathConflict:
		return fmt.Errorf("install: something in the image is in the way (see the error above); remove it and build again")
	}
	return fmt.Errorf("install: the command exited with status %d (see the output above)", res.status)
}

// warnRemoved is loud on purpose: deleting a secret from an image does not
// make the image clean.
func warnRemoved(ui packersdk.Ui, removed []string) {
	lines := []string{
		"",
		"!!! WARNING: the image held per-instance secrets; they were overwritten with zeros and deleted:",
	}
	for _, r := range removed {
		lines = append(lines, "!!!   "+r)
	}
	lines = append(lines,
		"!!! Their old blocks may survive in the disk snapshot (copy-on-write layers, SSD remapping, earlier",
		"!!! snapshots of the base image), and anyone who can read the image may recover them.",
		"!!! Rebuild the base image clean: don't start the hub during the build. To fail instead, set",
		`!!! existing_secrets = "fail".`,
		"",
	)
	for _, l := range lines {
		ui.Error(l)
	}
}

func randomID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random name for the staged script: %w", err)
	}
	return hex.EncodeToString(b), nil
}
