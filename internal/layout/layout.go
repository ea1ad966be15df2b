// Package layout names the files hubsecrets makes and checks, and where the
// first-boot payload lives in an image. The collector, the policy, the
// first-boot renderer and the provisioner all take their paths from here.
package layout

import "path"

// The secrets directory and its expected entries, as the tutorial and
// JupyterHub's docs name them.
const (
	DefaultDir       = "/srv/jupyterhub"
	CookieSecretFile = "jupyterhub_cookie_secret"
	ProxyTokenFile   = "proxy_auth_token"
	DHParamFile      = "dhparam.pem"
)

// Bookkeeping entries the first-boot script keeps in the secrets directory.
// They are hubsecrets' own, never reported as unexpected, and hold no secret.
const (
	// StampFile records a SHA-256 of the instance identity the secrets
	// belong to; written last, after both secrets.
	StampFile = ".hubsecrets-instance"
	// LockFile serialises concurrent runs of the first-boot script.
	LockFile = ".hubsecrets-lock"
	// TempPrefix starts the names of temporary files written before a rename.
	// A leftover one (a run killed mid-write) is removed by the next run.
	TempPrefix = ".hubsecrets-tmp."
)

// MaxSecretSize is the most of a secret file anything reads: the collector
// judges a larger file "far too large" (HUB020), and the first-boot script
// replaces it.
const MaxSecretSize = 4 << 10

// The first-boot payload, as installed in an image.
const (
	DefaultHubUnit = "jupyterhub.service"
	UnitName       = "jupyterhub-secrets.service"
	UnitDir        = "/etc/systemd/system"
	ScriptPath     = "/usr/local/libexec/hubsecrets/jupyterhub-secrets"
	DropInName     = "jupyterhub-secrets.conf"
	MachineIDPath  = "/etc/machine-id"
)

// What else makes clones of an image share an identity: D-Bus's machine-id
// (Debian's dbus package writes a regular file; it must be a link to
// MachineIDPath) and cloud-init's record of the last instance.
const (
	DBusMachineIDPath     = "/var/lib/dbus/machine-id"
	CloudInstanceIDPath   = "/var/lib/cloud/data/instance-id"
	CloudInstanceLinkPath = "/var/lib/cloud/instance"
)

// ScriptDirs are the first-boot script's directory and its parents below /,
// nearest first.
func ScriptDirs() []string {
	var dirs []string
	for d := path.Dir(ScriptPath); d != "/"; d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	return dirs
}

// UnitPath is where the first-boot unit is installed.
var UnitPath = path.Join(UnitDir, UnitName)

// WantsLink is the symlink that enables the unit for multi-user.target.
var WantsLink = path.Join(UnitDir, "multi-user.target.wants", UnitName)

// DropInPath is the hub unit's drop-in that Requires= the first-boot unit.
func DropInPath(hubUnit string) string {
	return path.Join(UnitDir, hubUnit+".d", DropInName)
}

// The host's contract: the parameters in force for this host or image, and
// the DH parameters the first-boot hook restores when the secrets directory
// comes up empty (a fresh data volume mounted over it).
const (
	ContractDir     = "/etc/hubsecrets"
	ContractPath    = ContractDir + "/params.json"
	DHParamCopyPath = ContractDir + "/" + DHParamFile
)
