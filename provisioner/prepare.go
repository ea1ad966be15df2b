package provisioner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/waiver"
)

// Defaults, after the tutorial and DESIGN.md.
const (
	defaultDirectoryMode   = "0755"
	defaultDHGroup         = "ffdhe2048"
	defaultExistingSecrets = existingRemove
	defaultReportFormat    = "text"
	defaultRemoteDir       = "/tmp"
	defaultExecuteCommand  = "{{.Vars}} sh '{{.Path}}'"
	sudoExecuteCommand     = "sudo -n {{.Vars}} sh '{{.Path}}'"
)

// existing_secrets values.
const (
	existingRemove = "remove"
	existingFail   = "fail"
)

// dhBitsAllowed are the sizes dhparam_bits accepts: below 2048 is weak
// (Logjam), above 4096 would take hours to generate.
var dhBitsAllowed = []int{2048, 3072, 4096}

// safePath is what remote_dir may hold: it ends up in shell commands.
var safePath = regexp.MustCompile(`^[A-Za-z0-9._/@+-]+$`)

// Prepare decodes and validates the configuration. Every error names the
// field and says how to fix it; nothing here connects to the target.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	// Prepare may run twice; Decode zeroes the config only for HCL2 input,
	// so start from scratch here, defaults included.
	*p = Provisioner{}
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "jupyterhub-secrets",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
		// Rendered per command in Provision, with .Vars and .Path.
		InterpolateFilter: &interpolate.RenderFilter{Exclude: []string{"execute_command"}},
	}, raws...)
	if err != nil {
		return err
	}
	var errs *packersdk.MultiError
	add := func(err error) {
		if err != nil {
			errs = packersdk.MultiErrorAppend(errs, err)
		}
	}
	c := &p.config
	if c.UseSudo && c.ExecuteCommand != "" {
		add(errors.New("use_sudo and execute_command: set one; use_sudo only picks the default execute_command (put sudo in your execute_command instead)"))
	}
	c.setDefaults()

	add(checkAbsPath("remote_dir", c.RemoteDir, defaultRemoteDir))
	mode, err := parseDirMode(c.DirectoryMode)
	add(err)
	add(p.prepareCommand())
	if c.ExistingSecrets != existingRemove && c.ExistingSecrets != existingFail {
		add(fmt.Errorf("existing_secrets %q: want %q (wipe and delete a secret found in the image, with a warning) or %q (fail the build)",
			c.ExistingSecrets, existingRemove, existingFail))
	}
	// The policy's parameters in force decide what is installed and how it
	// is verified: its defaults, policy_data, then owner and group.
	if err := p.prepareVerify(); err != nil {
		add(err)
	} else if err := p.preparePayload(mode); err != nil {
		add(err)
	} else {
		for _, err := range p.payload.Problems() {
			add(fieldError(err))
		}
		add(p.prepareDH())
		add(p.prepareTimer())
	}

	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

// preparePayload settles the first-boot payload's configuration from the
// parameters in force; errors name the HCL field.
func (p *Provisioner) preparePayload(mode os.FileMode) error {
	c := &p.config
	prm, err := p.engine.Params(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("policy_data: %w", err)
	}
	p.payload = firstboot.Config{Dir: c.Directory, Params: prm, DirMode: int(mode), HubUnit: c.HubUnit}
	return nil
}

func (c *Config) setDefaults() {
	if c.Directory == "" {
		c.Directory = layout.DefaultDir
	}
	if c.DirectoryMode == "" {
		c.DirectoryMode = defaultDirectoryMode
	}
	if c.HubUnit == "" {
		c.HubUnit = layout.DefaultHubUnit
	}
	if c.ExecuteCommand == "" {
		c.ExecuteCommand = defaultExecuteCommand
		if c.UseSudo {
			c.ExecuteCommand = sudoExecuteCommand
		}
	}
	if c.ExistingSecrets == "" {
		c.ExistingSecrets = defaultExistingSecrets
	}
	if c.ReportFormat == "" {
		c.ReportFormat = defaultReportFormat
	}
	if c.RemoteDir == "" {
		c.RemoteDir = defaultRemoteDir
	}
}

// prepareDH checks the one DH parameters source and asks the policy about
// the parameters from dhparam_group or dhparam_file before any connection
// is made.
func (p *Provisioner) prepareDH() error {
	c := &p.config
	set := 0
	for _, isSet := range []bool{c.DHParamGroup != "", c.DHParamBits != 0, c.DHParamFile != ""} {
		if isSet {
			set++
		}
	}
	if set > 1 {
		return fmt.Errorf("dhparam_group, dhparam_bits and dhparam_file are alternatives: set one (with none, %s is used)", defaultDHGroup)
	}
	switch {
	case c.DHParamBits != 0:
		if !slices.Contains(dhBitsAllowed, c.DHParamBits) {
			return fmt.Errorf("dhparam_bits %d: want 2048, 3072 or 4096 (below 2048 is breakable, see Logjam); or drop it to use %s", c.DHParamBits, defaultDHGroup)
		}
		if min := p.payload.Params.MinDHBits; c.DHParamBits < min {
			return fmt.Errorf("dhparam_bits %d: the policy's min_dh_bits is %d; generate at least that many bits", c.DHParamBits, min)
		}
		return nil
	case c.DHParamFile != "":
		data, err := os.ReadFile(c.DHParamFile)
		if err != nil {
			return fmt.Errorf("dhparam_file: %w; make one with `openssl dhparam -out FILE 2048`, or use dhparam_group", err)
		}
		pem, err := p.judgeDH("dhparam_file "+c.DHParamFile, data)
		if err != nil {
			return err
		}
		p.dhPEM = pem
		return nil
	}
	if c.DHParamGroup == "" {
		// The smallest standard group the policy's min_dh_bits accepts.
		c.DHParamGroup = dhparam.SmallestGroup(p.payload.Params.MinDHBits)
	}
	params, err := dhparam.Group(c.DHParamGroup)
	if err != nil {
		return fmt.Errorf("dhparam_group %q: unknown group; want one of %s", c.DHParamGroup, strings.Join(dhparam.GroupNames(), ", "))
	}
	pem, err := p.judgeDH(fmt.Sprintf("dhparam_group %q", c.DHParamGroup), params.MarshalPEM())
	if err != nil {
		return err
	}
	p.dhPEM = pem
	return nil
}

// judgeDH asks the policy about DH parameters as they will be installed
// (owner, group and mode from the parameters in force), and returns their
// canonical encoding: what was judged is what is installed.
func (p *Provisioner) judgeDH(what string, data []byte) ([]byte, error) {
	target := path.Join(p.payload.Dir, layout.DHParamFile)
	doc := source.DHParamDocument(data, target, p.payload.Params)
	rep, err := p.engine.Evaluate(context.Background(), doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var why []string
	for _, f := range rep.Findings {
		if f.Path == target && f.Severity == report.SeverityDeny {
			why = append(why, fmt.Sprintf("%s %s", f.ID, f.Msg))
		}
	}
	if len(why) > 0 {
		return nil, fmt.Errorf("%s: the policy denies these DH parameters (as %s): %s; make new ones with `hubsecrets dhparam --bits 2048 -o FILE` or `openssl dhparam -out FILE 2048`, or use dhparam_group",
			what, target, strings.Join(why, "; "))
	}
	params, err := dhparam.ParsePEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return params.MarshalPEM(), nil
}

// prepareCommand checks execute_command renders and runs the staged script.
func (p *Provisioner) prepareCommand() error {
	c := &p.config
	const probe = "/hubsecrets-probe/script.sh"
	ctx := p.config.ctx
	ctx.Data = &commandData{Vars: "", Path: probe}
	out, err := interpolate.Render(c.ExecuteCommand, &ctx)
	if err != nil {
		return fmt.Errorf("execute_command %q: %w; variables are {{.Vars}} and {{.Path}}", c.ExecuteCommand, err)
	}
	if !strings.Contains(out, probe) {
		return fmt.Errorf("execute_command %q: it must run the staged script {{.Path}}, e.g. %q", c.ExecuteCommand, defaultExecuteCommand)
	}
	return nil
}

// prepareVerify checks the verification options and compiles the policy
// once, so a broken site policy fails `packer validate`, not the build.
func (p *Provisioner) prepareVerify() error {
	c := &p.config
	var errs *packersdk.MultiError
	add := func(err error) { errs = packersdk.MultiErrorAppend(errs, err) }
	if c.SkipVerify && c.ReportFile != "" {
		add(errors.New("report_file: nothing is verified with skip_verify = true; remove one of them"))
	}
	if c.SkipVerify && len(c.PolicyDirs) > 0 {
		add(errors.New("policy_dirs: nothing is verified with skip_verify = true; remove one of them (policy_data still sets the parameters)"))
	}
	if _, ok := report.Formats[c.ReportFormat]; !ok {
		add(fmt.Errorf("report_format %q: want one of %s", c.ReportFormat, report.FormatNames()))
	}
	if c.ReportFile != "" {
		if err := checkReportFile(c.ReportFile); err != nil {
			add(err)
		}
	}
	if c.WaiversFile != "" {
		if c.SkipVerify {
			add(errors.New("waivers_file: nothing is verified with skip_verify = true; remove one of them"))
		}
		ws, err := waiver.Load(c.WaiversFile)
		if err != nil {
			add(fmt.Errorf("waivers_file: %w", err))
		}
		p.waivers = ws
	}
	for _, d := range c.PolicyDirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			add(fmt.Errorf("policy_dirs: %s is not a directory on the build host; give directories of .rego files", d))
		}
	}
	for _, f := range c.PolicyData {
		if fi, err := os.Stat(f); err != nil || !fi.Mode().IsRegular() {
			add(fmt.Errorf("policy_data: %s is not a file on the build host; give JSON or YAML files", f))
		}
	}
	if errs != nil {
		return errs
	}
	// owner and group set the policy's parameters of the same names.
	overlay := map[string]any{}
	if c.Owner != "" {
		overlay["owner"] = c.Owner
	}
	if c.Group != "" {
		overlay["group"] = c.Group
	}
	eng, err := checker.NewEngine(context.Background(), checker.Options{
		Profile: checker.ProfileImage, PolicyDirs: c.PolicyDirs, DataFiles: c.PolicyData, Params: overlay,
	})
	if err != nil {
		return fmt.Errorf("owner / group / policy_dirs / policy_data: %w", err)
	}
	p.engine = eng
	return nil
}

func checkAbsPath(field, p, example string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("%s %q: want an absolute, clean path such as %s", field, p, example)
	}
	if !safePath.MatchString(p) {
		return fmt.Errorf("%s %q: use only letters, digits and . _ / @ + - (no spaces or quotes)", field, p)
	}
	return nil
}

// fieldNames maps firstboot.Config's fields to the HCL fields that set them.
var fieldNames = map[string]string{
	"Dir": "directory", "Owner": "owner", "Group": "group", "HubUnit": "hub_unit", "DirMode": "directory_mode",
	"DirOwner": "policy_data (hubsecrets.params.dir_owner)", "Params": "policy_data",
}

// fieldError renames a firstboot.ConfigError after the HCL field.
func fieldError(err error) error {
	var ce *firstboot.ConfigError
	if errors.As(err, &ce) {
		name := fieldNames[ce.Field]
		if name == "" {
			name = ce.Field
		}
		return fmt.Errorf("%s %q: %s", name, ce.Value, ce.Problem)
	}
	return err
}

// parseDirMode parses directory_mode and refuses modes that hand the
// secrets to someone else.
func parseDirMode(s string) (os.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("directory_mode %q: want octal permission bits such as 0755, 0750 or 0700", s)
	}
	if m&0o022 != 0 {
		return 0, fmt.Errorf("directory_mode %q: group or other could replace the secrets in a writable directory; use 0755, 0750 or 0700", s)
	}
	if m&0o700 != 0o700 {
		return 0, fmt.Errorf("directory_mode %q: the owner needs rwx (0700) to read and replace its secrets; use 0755, 0750 or 0700", s)
	}
	return os.FileMode(m), nil
}
