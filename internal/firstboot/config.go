// Package firstboot renders and installs the first-boot payload: a POSIX sh
// script that makes JupyterHub's per-instance secrets (the cookie secret and
// the proxy auth token) once per instance, the systemd unit that runs it
// before the hub on every boot, the hub's drop-in that requires that unit, and
// the link that enables it.
//
// Render is pure, so the provisioner can upload the same files to a remote
// machine that Install writes under a local root.
package firstboot

import (
	"fmt"
	"path"
	"regexp"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// DefaultIdentitySources are where the script looks for the instance
// identity, in order: cloud-init's instance-id for this boot, the one
// cloud-init recorded (updated by cloud-init.service, which the unit runs
// after), the DMI product UUID, and systemd's machine-id. A source holding
// cloud-init's DataSourceNone id (iid-datasource-none, the same everywhere)
// is skipped. The recorded instance-id is trusted even on a boot where
// cloud-init did not run: an image that turns cloud-init off for good
// should remove /var/lib/cloud/data/instance-id, or set its own list.
var DefaultIdentitySources = []string{
	"/run/cloud-init/.instance-id",
	"/var/lib/cloud/data/instance-id",
	"/sys/class/dmi/id/product_uuid",
	layout.MachineIDPath,
}

// Config is a site's settings for the payload. A zero field takes its default.
type Config struct {
	// Dir is the secrets directory; default layout.DefaultDir.
	Dir string
	// Owner and Group own the secrets; default "root". They are names,
	// resolved on the machine when the script runs (by chown).
	Owner, Group string
	// HubUnit is the hub's systemd unit, started only after the secrets are
	// in place; default layout.DefaultHubUnit.
	HubUnit string
	// IdentitySources overrides where the instance identity is read, in
	// order; default DefaultIdentitySources.
	IdentitySources []string
}

// ConfigError is a setting that cannot be used. Field is the Config field's
// name, so a caller can name its own flag or HCL attribute instead.
type ConfigError struct {
	Field string
	Value string
	// Problem says what is wrong and how to fix it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem)
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Dir == "" {
		c.Dir = layout.DefaultDir
	}
	if c.Owner == "" {
		c.Owner = "root"
	}
	if c.Group == "" {
		c.Group = "root"
	}
	if c.HubUnit == "" {
		c.HubUnit = layout.DefaultHubUnit
	}
	if len(c.IdentitySources) == 0 {
		c.IdentitySources = DefaultIdentitySources
	}
	return c
}

var (
	// safePath keeps paths free of anything a shell, a unit file (quotes,
	// whitespace, % specifiers, backslash escapes) or a reader could misread.
	safePath = regexp.MustCompile(`^[A-Za-z0-9/._+@,:=-]+$`)
	// userName is the POSIX portable user name set, not starting with '-',
	// and not all digits: the script compares ids chown resolves, but a
	// numeric "name" would be ambiguous between a name and an id.
	userName = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$`)
	allDigit = regexp.MustCompile(`^[0-9]+$`)
	// unitName is systemd's unit name syntax: a name (optionally template@instance)
	// and a unit type suffix.
	unitName = regexp.MustCompile(`^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.(service|socket|target|device|mount|automount|swap|path|timer|slice|scope)$`)
)

// Validate reports the first setting that cannot be used, as a *ConfigError.
// Zero fields are valid: they take their defaults.
func (c Config) Validate() error {
	c = c.WithDefaults()
	if err := checkPath("Dir", c.Dir, "/srv/jupyterhub"); err != nil {
		return err
	}
	if c.Dir == "/" {
		return &ConfigError{"Dir", c.Dir, "must be a directory of its own, not /; e.g. " + layout.DefaultDir}
	}
	for _, f := range []struct{ field, value string }{{"Owner", c.Owner}, {"Group", c.Group}} {
		switch {
		case allDigit.MatchString(f.value):
			return &ConfigError{f.field, f.value, "must be a name, not a numeric id (e.g. root or jupyterhub)"}
		case !userName.MatchString(f.value):
			return &ConfigError{f.field, f.value, "must be a user or group name: up to 32 of A-Z a-z 0-9 . _ -, not starting with -"}
		}
	}
	if len(c.HubUnit) > 255 || !unitName.MatchString(c.HubUnit) {
		return &ConfigError{"HubUnit", c.HubUnit, "must be a systemd unit name such as jupyterhub.service"}
	}
	for _, s := range c.IdentitySources {
		if err := checkPath("IdentitySources", s, "/etc/machine-id"); err != nil {
			return err
		}
	}
	return nil
}

func checkPath(field, p, example string) error {
	switch {
	case !path.IsAbs(p):
		return &ConfigError{field, p, "must be an absolute path, e.g. " + example}
	case path.Clean(p) != p:
		return &ConfigError{field, p, fmt.Sprintf("must be a clean path: %s", path.Clean(p))}
	case !safePath.MatchString(p):
		return &ConfigError{field, p, "may only hold letters, digits and / . _ + @ , : = - (no spaces, quotes or shell characters)"}
	}
	return nil
}
