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
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
)

// Kinds of identity source: what the script must know of a source to tell
// whether its id tells this instance apart on this boot.
const (
	// IDPlain is any file holding an id.
	IDPlain = "file"
	// IDCloudInitRun is cloud-init's instance-id for this boot (it exists
	// only when cloud-init ran on this boot).
	IDCloudInitRun = "cloud-init-run"
	// IDCloudInitData is the instance-id cloud-init recorded; it counts only
	// when cloud-init ran on this boot (Config.CloudInitRunDir exists).
	IDCloudInitData = "cloud-init-data"
	// IDDMI is the firmware's product UUID: not in a container (where it is
	// the host's), and not the values firmware leaves unset.
	IDDMI = "dmi"
	// IDMachineID is systemd's machine-id: not when it is made for this
	// boot only (mounted over the file, as on a read-only root).
	IDMachineID = "machine-id"
)

// IdentitySource is one place the instance identity may come from.
type IdentitySource struct {
	Path string
	// Kind is one of the ID* constants.
	Kind string
}

// DefaultIdentitySources are where the script looks for the instance
// identity, in order: cloud-init's instance-id for this boot, the one
// cloud-init recorded (when it ran on this boot), the DMI product UUID, and
// systemd's machine-id. A source holding cloud-init's DataSourceNone id
// (iid-datasource-none, the same everywhere) is skipped.
var DefaultIdentitySources = []IdentitySource{
	{"/run/cloud-init/.instance-id", IDCloudInitRun},
	{"/var/lib/cloud/data/instance-id", IDCloudInitData},
	{"/sys/class/dmi/id/product_uuid", IDDMI},
	{layout.MachineIDPath, IDMachineID},
}

// Where the script looks to judge an identity source (tests move them).
const (
	DefaultCloudInitRunDir = "/run/cloud-init"
	DefaultMountInfo       = "/proc/self/mountinfo"
)

// DefaultContainerMarkers are files that exist only in a container:
// systemd's record of it, and the one container managers give their guests.
var DefaultContainerMarkers = []string{"/run/systemd/container", "/run/host/container-manager"}

// Config is what the payload is rendered from. Params are required (the
// policy's parameters in force: checker.Engine.Params); a zero field
// otherwise takes its default.
type Config struct {
	// Dir is the secrets directory; default layout.DefaultDir.
	Dir string
	// Params are the policy's parameters in force: owner, group, the modes
	// and length the script keeps and makes.
	Params params.Params
	// DirMode is the mode the script gives Dir when it has to make it (a
	// fresh volume mounted over its parent); default 0755.
	DirMode int
	// HubUnit is the hub's systemd unit, started only after the secrets are
	// in place; default layout.DefaultHubUnit.
	HubUnit string
	// IdentitySources overrides where the instance identity is read, in
	// order; default DefaultIdentitySources.
	IdentitySources []IdentitySource
	// DHParamCopy is the image's copy of dhparam.pem the script restores
	// when the file is missing; default layout.DHParamCopyPath.
	DHParamCopy string
	// CloudInitRunDir, ContainerMarkers and MountInfo are where the script
	// looks to judge identity sources; defaults above.
	CloudInitRunDir  string
	ContainerMarkers []string
	MountInfo        string
}

// DefaultDirMode is the secrets directory's mode when nothing says otherwise:
// the tutorial's.
const DefaultDirMode = 0o755

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
	if c.DirMode == 0 {
		c.DirMode = DefaultDirMode
	}
	if c.HubUnit == "" {
		c.HubUnit = layout.DefaultHubUnit
	}
	if len(c.IdentitySources) == 0 {
		c.IdentitySources = DefaultIdentitySources
	}
	if c.DHParamCopy == "" {
		c.DHParamCopy = layout.DHParamCopyPath
	}
	if c.CloudInitRunDir == "" {
		c.CloudInitRunDir = DefaultCloudInitRunDir
	}
	if c.ContainerMarkers == nil {
		c.ContainerMarkers = DefaultContainerMarkers
	}
	if c.MountInfo == "" {
		c.MountInfo = DefaultMountInfo
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
// Zero fields are valid (they take their defaults), but Params are required.
func (c Config) Validate() error {
	if errs := c.Problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Problems reports every setting that cannot be used, each a *ConfigError.
// It is what every front end checks (the provisioner's Prepare, init and
// firstboot render's flags): with the placement of the secrets directory
// (SystemDirProblem).
func (c Config) Problems() []error {
	return c.problems(true)
}

// problems reports the settings that cannot be used; placement adds where
// the secrets directory may be. Render leaves placement out: init renders
// the script it runs for paths under its --root (a temporary root below
// /tmp, say), after checking the directory the host will use.
func (c Config) problems(placement bool) []error {
	c = c.WithDefaults()
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkPath("Dir", c.Dir, "/srv/jupyterhub"))
	if c.Dir == "/" {
		add(&ConfigError{"Dir", c.Dir, "must be a directory of its own, not /; e.g. " + layout.DefaultDir})
	} else if why := SystemDirProblem(c.Dir); placement && why != "" {
		add(&ConfigError{"Dir", c.Dir, why + "; use a directory of its own, e.g. " + layout.DefaultDir})
	}
	if err := c.Params.Validate(); err != nil {
		return append(errs, &ConfigError{"Params", "", err.Error()})
	}
	for _, f := range []struct{ field, value string }{{"Owner", c.Params.Owner}, {"Group", c.Params.Group}, {"DirOwner", c.Params.DirOwner}} {
		switch {
		case allDigit.MatchString(f.value):
			add(&ConfigError{f.field, f.value, "must be a name, not a numeric id (e.g. root or jupyterhub)"})
		case !userName.MatchString(f.value):
			add(&ConfigError{f.field, f.value, "must be a user or group name: up to 32 of A-Z a-z 0-9 . _ -, not starting with -"})
		}
	}
	if c.Params.DirOwner != "root" {
		add(&ConfigError{"DirOwner", c.Params.DirOwner, "must be root with the first-boot hook: it runs as root and writes the secrets in this directory, " +
			"so whoever owns it could make root write elsewhere; give the hub's user the secrets (owner), and a directory of its own for its database"})
	}
	if c.DirMode&^0o777 != 0 || c.DirMode&0o022 != 0 || c.DirMode&0o700 != 0o700 {
		add(&ConfigError{"DirMode", fmt.Sprintf("%04o", c.DirMode), "must give the owner rwx and nobody else write, e.g. 0755, 0750 or 0700"})
	}
	for _, m := range append(append([]int(nil), c.Params.AllowedSecretModes...), c.Params.AllowedDHParamModes...) {
		if m&^0o7777 != 0 {
			add(&ConfigError{"Params", fmt.Sprintf("%o", m), "is not a file mode"})
		}
	}
	if len(c.HubUnit) > 255 || !unitName.MatchString(c.HubUnit) {
		add(&ConfigError{"HubUnit", c.HubUnit, "must be a systemd unit name such as jupyterhub.service"})
	}
	for _, s := range c.IdentitySources {
		add(checkPath("IdentitySources", s.Path, "/etc/machine-id"))
		switch s.Kind {
		case IDPlain, IDCloudInitRun, IDCloudInitData, IDDMI, IDMachineID:
		default:
			add(&ConfigError{"IdentitySources", s.Kind, "unknown kind of identity source"})
		}
	}
	for _, p := range append([]string{c.DHParamCopy, c.CloudInitRunDir, c.MountInfo}, c.ContainerMarkers...) {
		add(checkPath("paths", p, "/run/cloud-init"))
	}
	return errs
}

// systemDirs are directories the system and other programs own. The
// secrets directory is made root's with DirMode, and the first-boot unit may
// write all of it (ReadWritePaths=): never one of these. policy/dir.rego
// (HUB006) holds the same lists.
var systemDirs = map[string]bool{
	"/": true, "/root": true, "/etc": true, "/usr": true, "/var": true, "/tmp": true,
	"/home": true, "/boot": true, "/run": true, "/dev": true, "/proc": true, "/sys": true,
	"/bin": true, "/sbin": true, "/lib": true, "/lib64": true, "/opt": true, "/srv": true,
	"/mnt": true, "/media": true, "/usr/local": true, "/var/lib": true, "/var/tmp": true, "/var/log": true,
}

// volatileDirs are emptied at boot, made by the kernel, or private to each
// service (the first-boot unit has PrivateTmp=yes): nothing below them
// stays where the hub reads it.
var volatileDirs = []string{"/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run"}

// SystemDirProblem says why a clean absolute path cannot be the secrets
// directory, or "" when it can.
func SystemDirProblem(dir string) string {
	if systemDirs[dir] {
		return "is a system directory: hubsecrets would set its mode and owner, and the first-boot unit could write all of it"
	}
	for _, v := range volatileDirs {
		if strings.HasPrefix(dir, v+"/") {
			return "lies below " + v + ", which is emptied at boot, made by the kernel, or private to each service (the first-boot unit has PrivateTmp=yes)"
		}
	}
	return ""
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
