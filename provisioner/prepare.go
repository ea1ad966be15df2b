package provisioner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// Defaults, after the tutorial and DESIGN.md.
const (
	defaultOwner           = "root"
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
	add(p.prepareDH())
	if c.UseSudo && c.ExecuteCommand != "" {
		add(errors.New("use_sudo and execute_command: set one; use_sudo only picks the default execute_command (put sudo in your execute_command instead)"))
	}
	c.setDefaults()

	add(checkAbsPath("remote_dir", c.RemoteDir, defaultRemoteDir))
	// The payload renderer owns the rules for what it renders; ask it one
	// field at a time so every bad field is reported, under its HCL name.
	for _, f := range []struct {
		name string
		cfg  firstboot.Config
	}{
		{"directory", firstboot.Config{Dir: c.Directory}},
		{"owner", firstboot.Config{Owner: c.Owner}},
		{"group", firstboot.Config{Group: c.Group}},
		{"hub_unit", firstboot.Config{HubUnit: c.HubUnit}},
	} {
		add(fieldError(f.name, f.cfg.Validate()))
	}
	if _, err := parseDirMode(c.DirectoryMode); err != nil {
		add(err)
	}
	add(p.prepareCommand())
	if c.ExistingSecrets != existingRemove && c.ExistingSecrets != existingFail {
		add(fmt.Errorf("existing_secrets %q: want %q (wipe and delete a secret found in the image, with a warning) or %q (fail the build)",
			c.ExistingSecrets, existingRemove, existingFail))
	}
	add(p.prepareVerify())

	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Directory == "" {
		c.Directory = layout.DefaultDir
	}
	if c.Owner == "" {
		c.Owner = defaultOwner
	}
	if c.Group == "" {
		c.Group = defaultOwner
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

// prepareDH checks the one DH parameters source and loads dhparam_file.
// It runs before the defaults, to see which options the user set.
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
		for _, b := range dhBitsAllowed {
			if c.DHParamBits == b {
				return nil
			}
		}
		return fmt.Errorf("dhparam_bits %d: want 2048, 3072 or 4096 (below 2048 is breakable, see Logjam); or drop it to use %s", c.DHParamBits, defaultDHGroup)
	case c.DHParamFile != "":
		pem, err := loadDHFile(c.DHParamFile)
		if err != nil {
			return err
		}
		p.dhPEM = pem
		return nil
	}
	if c.DHParamGroup == "" {
		c.DHParamGroup = defaultDHGroup
	}
	params, err := dhparam.Group(c.DHParamGroup)
	if err != nil {
		return fmt.Errorf("dhparam_group %q: unknown group; want one of %s", c.DHParamGroup, strings.Join(dhparam.GroupNames(), ", "))
	}
	p.dhPEM = params.MarshalPEM()
	return nil
}

// loadDHFile reads and checks dhparam_file as the policy would judge it.
func loadDHFile(name string) ([]byte, error) {
	const fix = "make one with `openssl dhparam -out FILE 2048`, or use dhparam_group"
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("dhparam_file: %w; %s", err, fix)
	}
	params, err := dhparam.ParsePEM(data)
	if err != nil {
		return nil, fmt.Errorf("dhparam_file %s: %w; %s", name, err, fix)
	}
	chk := dhparam.Inspect(params)
	var why []string
	if chk.Bits < 2048 {
		why = append(why, fmt.Sprintf("the prime has %d bits, fewer than 2048", chk.Bits))
	}
	if !chk.SafePrime {
		why = append(why, "the prime is not a safe prime ((p-1)/2 is not prime)")
	}
	if !chk.GeneratorValid {
		why = append(why, fmt.Sprintf("the generator %d is not valid for this prime", chk.Generator))
	}
	if chk.Weak != "" {
		why = append(why, fmt.Sprintf("it is the widely shared weak group %s", chk.Weak))
	}
	if len(why) > 0 {
		return nil, fmt.Errorf("dhparam_file %s: %s; %s", name, strings.Join(why, "; "), fix)
	}
	// Upload the canonical encoding: what was checked is what is installed.
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
	if c.SkipVerify {
		for _, f := range []struct {
			name string
			set  bool
		}{{"policy_dirs", len(c.PolicyDirs) > 0}, {"policy_data", len(c.PolicyData) > 0}, {"report_file", c.ReportFile != ""}} {
			if f.set {
				add(fmt.Errorf("%s: nothing is verified with skip_verify = true; remove one of them", f.name))
			}
		}
		if errs != nil {
			return errs
		}
		return nil
	}
	if _, ok := report.Formats[c.ReportFormat]; !ok {
		add(fmt.Errorf("report_format %q: want one of %s", c.ReportFormat, report.FormatNames()))
	}
	if c.ReportFile != "" {
		if err := checkReportFile(c.ReportFile); err != nil {
			add(err)
		}
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
	eng, err := checker.NewEngine(context.Background(), checker.Options{
		Profile: "image", PolicyDirs: c.PolicyDirs, DataFiles: c.PolicyData,
	})
	if err != nil {
		return fmt.Errorf("policy_dirs / policy_data: %w", err)
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

// fieldError renames a firstboot.ConfigError after the HCL field.
func fieldError(field string, err error) error {
	var ce *firstboot.ConfigError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s %q: %s", field, ce.Value, ce.Problem)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
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

func (p *Provisioner) firstbootConfig() firstboot.Config {
	c := &p.config
	return firstboot.Config{Dir: c.Directory, Owner: c.Owner, Group: c.Group, HubUnit: c.HubUnit}
}
