//go:generate packer-sdc mapstructure-to-hcl2 -type Config
// struct-markdown finds the project root by walking up to a directory named
// packer-plugin-*, forever if there is none: give it one through a symlink.
//go:generate sh -c "mkdir -p ../.cache && ln -sfn .. ../.cache/packer-plugin-jupyterhub && cd ../.cache/packer-plugin-jupyterhub/provisioner && exec packer-sdc struct-markdown config.go"

package provisioner

import (
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// Config is the `jupyterhub-secrets` provisioner's configuration. Every
// field is optional; the defaults follow the tutorial and JupyterHub's docs.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The secrets directory in the image, an absolute clean path. Defaults
	// to `/srv/jupyterhub`. The first-boot unit writes the cookie secret and
	// the proxy auth token here on every new instance. Not a system
	// directory (`/etc`, `/root`, `/var/lib`, ...) nor below `/tmp`, `/var/tmp`,
	// `/run`, `/dev`, `/proc` or `/sys`: a directory of its own.
	Directory string `mapstructure:"directory"`
	// The user that owns `dhparam.pem` and the secrets the first-boot unit
	// writes: the hub's user when it does not run as root. Sets the policy
	// parameter `owner` (over `policy_data`), which the image's verification,
	// the first-boot hook and `hubsecrets check` on every instance then go
	// by. Must exist in the image when this provisioner runs. Defaults to the
	// parameter in force, `root`.
	Owner string `mapstructure:"owner"`
	// The group of the secrets and `dhparam.pem`, and of the secrets
	// directory (which stays root's: the first-boot unit writes in it as
	// root). Sets the policy parameter `group`. Must exist in the image.
	// Defaults to the parameter in force, `root`.
	Group string `mapstructure:"group"`
	// The secrets directory's mode, in octal. Defaults to `0755`, as the
	// tutorial leaves it; `0750` lets only `group` reach the files. Group and
	// other may never write the directory. The secrets' and `dhparam.pem`'s
	// modes are the policy's (`secret_modes`, `dhparam_modes`: `0600`).
	DirectoryMode string `mapstructure:"directory_mode"`
	// The RFC 7919 group written to `dhparam.pem`: `ffdhe2048`, `ffdhe3072`
	// or `ffdhe4096`. Defaults to the smallest group the policy's
	// `min_dh_bits` accepts: `ffdhe2048`, as Mozilla's guidelines recommend
	// where DHE is used at all. Conflicts with `dhparam_bits` and
	// `dhparam_file`.
	DHParamGroup string `mapstructure:"dhparam_group"`
	// Generate new DH parameters of this size (`2048`, `3072` or `4096`) on
	// the build host, in the plugin, never on the target. Safe-prime search
	// takes seconds to minutes at 2048 bits and much longer above. Conflicts
	// with `dhparam_group` and `dhparam_file`.
	DHParamBits int `mapstructure:"dhparam_bits"`
	// A PEM file of DH parameters (`-----BEGIN DH PARAMETERS-----`) on the
	// build host. The policy judges it before any connection is made, as it
	// judges dhparam.pem: a safe prime of at least `min_dh_bits` (2048) with a
	// valid generator, not a known-weak group.
	// Conflicts with `dhparam_group` and `dhparam_bits`.
	DHParamFile string `mapstructure:"dhparam_file"`
	// The hub's systemd unit; the first-boot unit runs before it and the
	// hub's drop-in requires it. Defaults to `jupyterhub.service`.
	HubUnit string `mapstructure:"hub_unit"`
	// Run the install and verification commands through `sudo -n` from the
	// start. Without it they still run as root: a non-root SSH user (the
	// cloud norm) runs them through `sudo -n`, as `hubsecrets check --ssh`
	// does. Either way the user needs passwordless sudo; the build fails with
	// a clear error otherwise.
	UseSudo bool `mapstructure:"use_sudo"`
	// The command that runs each staged script on the target, a template
	// with `{{.Vars}}` (environment assignments) and `{{.Path}}` (the
	// script). Defaults to `{{.Vars}} sh '{{.Path}}'`, or with `use_sudo`
	// to `sudo -n {{.Vars}} sh '{{.Path}}'`. The script must run as root.
	ExecuteCommand string `mapstructure:"execute_command"`
	// What to do with a per-instance secret (cookie secret, proxy token,
	// instance stamp) already in the image, e.g. from a hub started during
	// the build: `remove` (the default) overwrites it with zeros, deletes it
	// and warns loudly that deleted blocks may survive in the disk snapshot;
	// `fail` fails the build and changes nothing.
	ExistingSecrets string `mapstructure:"existing_secrets"`
	// Skip the verification after the install: no facts are collected and
	// no policy is evaluated. Verification is on by default.
	SkipVerify bool `mapstructure:"skip_verify"`
	// Directories of site Rego policies (on the build host) evaluated with
	// the built-in `image` profile; their `deny` rules fail the build.
	PolicyDirs []string `mapstructure:"policy_dirs"`
	// JSON or YAML data files (on the build host) for the policies, e.g. to
	// set `hubsecrets.params`.
	PolicyData []string `mapstructure:"policy_data"`
	// Save the verification report to this file on the build host, for CI.
	// Written whether the verification passes or not, as `hubsecrets check
	// --output` writes: missing directories made, the file replaced
	// atomically, never through a symbolic link. A report that cannot be
	// written fails the build.
	ReportFile string `mapstructure:"report_file"`
	// A waivers file (YAML or JSON, on the build host), as `hubsecrets
	// check --waivers` reads it: findings it waives are reported as waived
	// and do not fail the build, until the waiver's `expires` date. An
	// expired waiver, or one that matches nothing, is a warning. Read and
	// validated in Prepare, so a bad file fails `packer validate`.
	WaiversFile string `mapstructure:"waivers_file"`
	// The format of `report_file`: `text`, `json`, `sarif` or `junit`.
	// Defaults to `text`.
	ReportFormat string `mapstructure:"report_format"`
	// Install and enable `hubsecrets-check.timer` and its service in the
	// image: every instance then checks its secrets on a schedule
	// (`check_timer_interval`) and writes Prometheus metrics for
	// node_exporter's textfile collector into `check_metrics_dir` (see
	// docs/prometheus.md). The service runs `check_binary`, which this
	// provisioner does not install: put hubsecrets there in the image (a
	// `file` provisioner, a package); the build warns when it is missing.
	InstallCheckTimer bool `mapstructure:"install_check_timer"`
	// How often the timer checks, a systemd calendar event (`OnCalendar=`):
	// `hourly` (the default), `daily`, `*:0/15`. Each run starts at a random
	// point of 5 minutes, so a fleet does not check at once.
	CheckTimerInterval string `mapstructure:"check_timer_interval"`
	// node_exporter's textfile directory, where the check writes
	// `hubsecrets.prom`. Defaults to `/var/lib/prometheus/node-exporter`,
	// Debian's and Ubuntu's.
	CheckMetricsDir string `mapstructure:"check_metrics_dir"`
	// The hubsecrets executable in the image that the timer's service runs.
	// Defaults to `/usr/local/bin/hubsecrets`.
	CheckBinary string `mapstructure:"check_binary"`
	// The directory on the target where the staged scripts are uploaded
	// before they run (and removed when they start). Defaults to `/tmp`.
	RemoteDir string `mapstructure:"remote_dir"`

	ctx interpolate.Context
}
