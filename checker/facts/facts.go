// Package facts defines the facts document: what a source observed about a
// JupyterHub secrets directory, and nothing about whether it is right.
//
// The document is the contract between the collectors (a directory tree, an
// archive, a remote host) and the Rego policy. Every judgement lives in the
// policy; this package only describes what was seen. No field ever holds a
// secret's value or anything derived from it that could reveal it.
package facts

// Schema identifies the version of the facts document.
const Schema = "hubsecrets/facts/v1"

// File types, as reported in File.Type. A symlink is never followed.
const (
	TypeFile    = "file"
	TypeDir     = "dir"
	TypeSymlink = "symlink"
	TypeOther   = "other"
)

// Secret encodings, as reported in Secret.Encoding.
const (
	EncodingEmpty  = "empty"
	EncodingHex    = "hex"
	EncodingBase64 = "base64"
	EncodingOther  = "other"
)

// Machine-id states, as reported in MachineID.State.
const (
	MachineIDMissing       = "missing"
	MachineIDEmpty         = "empty"
	MachineIDUninitialized = "uninitialized"
	MachineIDInitialized   = "initialized"
	MachineIDInvalid       = "invalid"
)

// Keys of Document.Files for the expected entries of the secrets directory.
const (
	CookieSecret = "cookie_secret"
	ProxyToken   = "proxy_token"
	DHParam      = "dhparam"
)

// Keys of Document.FirstBoot.
const (
	FirstBootScript  = "script"
	FirstBootUnit    = "unit"
	FirstBootEnabled = "enabled_link"
	FirstBootDropIn  = "hub_dropin"
	FirstBootStamp   = "stamp"
)

// Document is one observation of one root.
type Document struct {
	Schema string `json:"schema"`
	// Profile is what the root is, "instance" or "image", as the policy
	// reads input.profile. Collectors leave it empty; `hubsecrets facts
	// --profile` sets it so opa eval and conftest need no edit. The engine
	// always uses its own profile.
	Profile string `json:"profile,omitempty"`
	Source  Source `json:"source"`
	// Dir is the secrets directory itself (e.g. /srv/jupyterhub).
	Dir File `json:"dir"`
	// Files holds the expected entries of Dir, keyed by CookieSecret,
	// ProxyToken and DHParam.
	Files map[string]File `json:"files"`
	// Unexpected lists entries of Dir that are neither expected files nor
	// hubsecrets' own bookkeeping, e.g. the tutorial's jupyterhub_cookie_secretl.
	Unexpected []Entry `json:"unexpected"`
	// Parent is the search for copies of the live secrets beside the
	// secrets directory; nil when there is nothing to search (the
	// directory is missing or not a directory, or its parent is /).
	Parent *Beside `json:"parent,omitempty"`
	// FirstBoot holds the first-boot payload's files, keyed by FirstBoot*.
	FirstBoot map[string]File `json:"firstboot"`
	// FirstBootDirs are the first-boot script's directory and its parents
	// below / (e.g. /usr/local/libexec/hubsecrets, ..., /usr): whoever can
	// write to one can replace the script root runs at boot.
	FirstBootDirs []File `json:"firstboot_dirs"`
	// Identity is what a machine image would pass on to its clones besides
	// /etc/machine-id (MachineID).
	Identity ImageIdentity `json:"identity"`
	// HubUnit is the systemd unit the first-boot unit must run before.
	HubUnit   string    `json:"hub_unit"`
	MachineID MachineID `json:"machine_id"`
	// Contract is the host's parameters file (/etc/hubsecrets/params.json):
	// the policy parameters in force for this host, as whatever installed
	// hubsecrets there wrote them.
	Contract Contract `json:"contract"`
	// Standalone is set when one DH parameters file is judged on its own
	// (`hubsecrets dhparam --check FILE`), not as the installed dhparam.pem:
	// fixes then never replace what is not DH parameters, nor a link's
	// target.
	Standalone *Standalone `json:"standalone,omitempty"`
	// Systemd is what the first-boot unit needs of the init system.
	Systemd Systemd `json:"systemd"`
	// Instance is the instance identity as the first-boot script reads it,
	// and the stamp beside the secrets.
	Instance Instance `json:"instance"`
	// HubConfig is what the hub's jupyterhub_config.py says about the
	// secrets; nil when the file does not exist under the root.
	HubConfig *HubConfig `json:"hub_config,omitempty"`
	// Nginx is what nginx's configuration says about TLS and DH
	// parameters; nil when its main file does not exist under the root.
	Nginx *Nginx `json:"nginx,omitempty"`
	// Errors lists what could not be observed (unreadable file, I/O error).
	// A policy must treat them as failures: nothing unobserved passes.
	Errors []string `json:"errors"`
}

// Source says where the facts came from.
type Source struct {
	Kind string `json:"kind"` // "dir", "tar", "ssh", "packer"
	Root string `json:"root"` // the scanned root (a directory, archive or host)
	Host string `json:"host,omitempty"`
}

// File is what was observed about one path inside the root.
type File struct {
	// Path is the path inside the root, absolute, e.g. /srv/jupyterhub/proxy_auth_token,
	// as the admin names it: symlinks in its parents are not resolved.
	Path string `json:"path"`
	// ResolvedPath is where Path is on the system, the symlinks in its
	// parents followed inside the root (chroot semantics); set only when
	// it differs from Path. The last element is never followed.
	ResolvedPath string `json:"resolved_path,omitempty"`
	// Parents, for the secrets directory only, are the directories and
	// symlinks its resolution went through, "/" first, in order: whoever
	// can write one of those directories can put another directory in
	// its place.
	Parents []Parent `json:"parents,omitempty"`
	Exists  bool     `json:"exists"`
	// Type is one of the Type* constants; empty when the path does not exist.
	Type string `json:"type,omitempty"`
	// LinkTarget is the target of a symlink (never followed).
	LinkTarget string `json:"link_target,omitempty"`
	// Mode holds the permission bits and setuid/setgid/sticky (07777).
	Mode int `json:"mode"`
	// ModeOctal is Mode for people, e.g. "0600".
	ModeOctal string `json:"mode_octal,omitempty"`
	UID       int    `json:"uid"`
	GID       int    `json:"gid"`
	// Owner and Group are resolved from the scanned root's /etc/passwd and
	// /etc/group, never the host's; empty when the id has no name there.
	Owner string `json:"owner"`
	Group string `json:"group"`
	Size  int64  `json:"size"`
	// Secret summarises a secret's content (cookie secret, proxy token).
	Secret *Secret `json:"secret,omitempty"`
	// DH summarises DH parameters (dhparam.pem).
	DH *DH `json:"dh,omitempty"`
	// SHA256 is the hex SHA-256 of a first-boot file's content (script,
	// unit, drop-in: code, not secrets); empty when the file is not a
	// regular file or is larger than the collector reads.
	SHA256 string `json:"sha256,omitempty"`
	// Error is set when the file exists but could not be read or summarised.
	Error string `json:"error,omitempty"`
}

// Parent is one component a path's resolution went through.
type Parent struct {
	// Path is the component's own path, free of symlinks.
	Path       string `json:"path"`
	Type       string `json:"type"`
	LinkTarget string `json:"link_target,omitempty"`
	Mode       int    `json:"mode"`
	ModeOctal  string `json:"mode_octal"`
	UID        int    `json:"uid"`
	GID        int    `json:"gid"`
	Owner      string `json:"owner"`
	Group      string `json:"group"`
	// Error is set when the component is known to be a directory but its
	// owner and mode are not (an archive member's implied parent).
	Error string `json:"error,omitempty"`
}

// Secret summarises a secret file's content without revealing it.
type Secret struct {
	// Encoding of the content after JupyterHub's strip(): one of Encoding*.
	Encoding string `json:"encoding"`
	// DecodedBytes is the length of the decoded secret (0 when undecodable).
	DecodedBytes int `json:"decoded_bytes"`
	// Lowercase is true when a hex secret uses only lowercase digits.
	Lowercase       bool `json:"lowercase"`
	TrailingNewline bool `json:"trailing_newline"`
	// Truncated is true when the file was larger than the bounded read.
	Truncated bool `json:"truncated"`
	// SameAs lists the Files keys of other secrets with the same content.
	SameAs []string `json:"same_as"`
	// Quality summarises how guessable a hex secret is; nil for any other
	// encoding.
	Quality *Quality `json:"quality,omitempty"`
}

// Quality describes the structure of a hex secret's digits (lowercased),
// not its value: for a random secret these say nothing useful (the period
// is the length, runs are short, nearly every digit occurs).
type Quality struct {
	// Digits is the number of hex digits.
	Digits int `json:"digits"`
	// Period is the smallest p such that every digit equals the one p
	// before it (Digits when nothing repeats).
	Period int `json:"period"`
	// LongestMonotoneRun is the longest run of digits each one more, or
	// each one less, than the one before (modulo 16: f then 0 counts).
	LongestMonotoneRun int `json:"longest_monotone_run"`
	// DistinctDigits is how many of the 16 hex digits occur.
	DistinctDigits int `json:"distinct_digits"`
	// KnownExample is true when the value is a published example
	// (JupyterHub's or hubsecrets' docs and tests), compared by hash.
	KnownExample bool `json:"known_example"`
}

// DH summarises a DH parameters file. DH parameters are public; still, only
// properties are reported, never the numbers.
type DH struct {
	Parsed bool `json:"parsed"`
	// Format is the PEM type found, e.g. "DH PARAMETERS", "X9.42 DH PARAMETERS".
	Format string `json:"format,omitempty"`
	// ParseError says why the file did not parse as PKCS#3 PEM.
	ParseError string `json:"parse_error,omitempty"`
	PrimeBits  int    `json:"prime_bits"`
	Generator  int64  `json:"generator"`
	// PrimeProbable: p passes probable-prime tests.
	PrimeProbable bool `json:"prime_probable"`
	// SafePrime: p and (p-1)/2 both pass probable-prime tests.
	SafePrime bool `json:"safe_prime"`
	// GeneratorValid: g is in [2, p-2] and generates the prime-order subgroup
	// (or the whole group) as OpenSSL's DH_check accepts for a safe prime.
	GeneratorValid bool `json:"generator_valid"`
	// Group is the RFC 7919 group name when p and g equal one (e.g. "ffdhe2048").
	Group string `json:"group,omitempty"`
	// WeakGroup names a widely shared or known-weak prime (e.g. "oakley-group-2").
	WeakGroup string `json:"weak_group,omitempty"`
}

// Entry is an unexpected directory entry.
type Entry struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	// Mode, UID, GID, Owner and Group are as in File: who else can read it.
	Mode  int    `json:"mode"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Owner string `json:"owner"`
	Group string `json:"group"`
	// Resembles is the expected file name this entry most likely stands for
	// (e.g. jupyterhub_cookie_secret for jupyterhub_cookie_secretl), if any.
	Resembles string `json:"resembles,omitempty"`
	// ResemblesKey is the Files key of Resembles.
	ResemblesKey string `json:"resembles_key,omitempty"`
	// CopyOf is the Files key of the live secret this entry's content
	// equals as JupyterHub reads it (e.g. "cookie_secret"), compared in
	// constant time for small regular files; never the value.
	CopyOf string `json:"copy_of,omitempty"`
}

// Beside is what was found in the secrets directory's parent (e.g. /srv),
// not recursively: the entries that hold a copy of a live secret.
type Beside struct {
	Path string `json:"path"`
	// Searched is false when the parent holds too many entries (more than
	// 100, the secrets directory aside) to look at: no copy was looked for.
	Searched bool `json:"searched"`
	// Copies are the regular files of at most 4 KiB whose content equals a
	// live secret (CopyOf says which).
	Copies []Entry `json:"copies"`
}

// Systemd says whether the root has systemd and a unit named like the hub's.
type Systemd struct {
	// Present: systemd's own binary is in the root.
	Present bool `json:"present"`
	// HubUnitFile is the file defining the hub's unit (HubUnit), or "".
	HubUnitFile string `json:"hub_unit_file"`
}

// Standalone says how a file judged on its own was reached.
type Standalone struct {
	// Link is true when the path given is a symbolic link (its target was
	// read).
	Link bool `json:"link"`
}

// Stamp states, as reported in Instance.Stamp.
const (
	StampAbsent     = "absent"
	StampPresent    = "present" // recorded, but no identity to compare it with
	StampMatches    = "matches"
	StampDiffers    = "differs"
	StampUnreadable = "unreadable"
)

// Instance is what tells this instance apart, observed as the first-boot
// script observes it, and what the stamp beside the secrets records.
type Instance struct {
	// Live is true when the root is a running system (this host, or one
	// over SSH): only then do the identity sources mean anything.
	Live bool `json:"live"`
	// Source is the identity source the script would use; "" for none.
	Source string `json:"source"`
	// Skipped lists the sources holding an id that does not tell this
	// instance apart on this boot, and why ("path: why").
	Skipped []string `json:"skipped"`
	// Stamp is one of the Stamp* constants.
	Stamp string `json:"stamp"`
}

// Contract is the host's parameters file: its stat, and what it says once
// its shape was checked (Error is set when it is not a contract at all).
type Contract struct {
	File
	// Params is hubsecrets.params as written; the policy validates it.
	Params map[string]any `json:"params,omitempty"`
	// Host is hubsecrets.host as written.
	Host *ContractHost `json:"host,omitempty"`
}

// ContractHost says how hubsecrets was installed on the host.
type ContractHost struct {
	Dir          string `json:"dir"`
	DirMode      string `json:"dir_mode,omitempty"`
	HubUnit      string `json:"hub_unit,omitempty"`
	ScriptSHA256 string `json:"script_sha256,omitempty"`
	WrittenBy    string `json:"written_by,omitempty"`
}

// ImageIdentity is what makes clones of an image share an identity, as
// stat (nothing is read): D-Bus's machine-id (a link to /etc/machine-id, or
// a file of its own that systemd copies into an empty /etc/machine-id at
// every boot) and cloud-init's record of the instance it last ran on.
type ImageIdentity struct {
	DBusMachineID File `json:"dbus_machine_id"`
	// CloudInstanceID is /var/lib/cloud/data/instance-id.
	CloudInstanceID File `json:"cloud_instance_id"`
	// CloudInstanceLink is /var/lib/cloud/instance, the link to the last
	// instance's directory.
	CloudInstanceLink File `json:"cloud_instance_link"`
}

// MachineID is what was observed about /etc/machine-id.
type MachineID struct {
	Path  string `json:"path"`
	State string `json:"state"`
}

// Setting kinds, as reported in Setting.Kind: where a configuration value
// comes from.
const (
	// SettingUnset: the config does not set it; the program's default applies.
	SettingUnset = "unset"
	// SettingFile: the value is a path (cookie_secret_file), or is read
	// from the file at Path (Path(...).read_text(), open(...).read()).
	SettingFile = "file"
	// SettingEnv: the value comes from the environment variable Env.
	SettingEnv = "env"
	// SettingLiteral: the value is written in the config itself.
	SettingLiteral = "literal"
	// SettingUnknown: an expression hubsecrets does not evaluate.
	SettingUnknown = "unknown"
)

// HubConfig is what a careful reading (not an interpreter) of the hub's
// jupyterhub_config.py found. No value that could be a secret is ever
// recorded: for a literal only its kind and line.
type HubConfig struct {
	// Path is the config file inside the root.
	Path string `json:"path"`
	// CookieSecretFile is c.JupyterHub.cookie_secret_file.
	CookieSecretFile Setting `json:"cookie_secret_file"`
	// CookieSecret is c.JupyterHub.cookie_secret: when set, the hub uses it
	// and never reads cookie_secret_file.
	CookieSecret Setting `json:"cookie_secret"`
	// ProxyToken is c.ConfigurableHTTPProxy.auth_token (or the deprecated
	// c.JupyterHub.proxy_auth_token).
	ProxyToken Setting `json:"proxy_auth_token"`
	// Errors are what Python would refuse (a syntax error) or what stopped
	// the reading; the settings then hold what was read before.
	Errors []ConfigError `json:"errors"`
}

// Setting is where one configuration value comes from.
type Setting struct {
	// Kind is one of the Setting* constants.
	Kind string `json:"kind"`
	// Attr is the assignment's target as written, e.g.
	// "c.ConfigurableHTTPProxy.auth_token".
	Attr string `json:"attr,omitempty"`
	// Path is the file for SettingFile: absolute and clean when the config
	// gives an absolute path, else as written (relative to the hub's
	// working directory).
	Path string `json:"path,omitempty"`
	// Env names the environment variable for SettingEnv, and for a
	// SettingLiteral that is its Fallback.
	Env string `json:"env,omitempty"`
	// Empty is true for an empty literal ('').
	Empty bool `json:"empty,omitempty"`
	// Fallback is true for a SettingLiteral that is the fallback of the
	// environment variable Env: os.environ.get(Env, '...'),
	// os.getenv(Env, default='...'), os.environ.get(Env) or '...'. The hub
	// uses it whenever Env is unset. An empty fallback is SettingEnv.
	Fallback bool `json:"fallback,omitempty"`
	// Partial is true for a SettingLiteral only part of which is written
	// in the config: an expression hubsecrets does not evaluate (an
	// f-string's fields, a + of unknown operands, a conditional) around a
	// literal that looks like a key, 16 or more hex or base64 characters.
	Partial bool `json:"partial,omitempty"`
	// Stripped is true when a value read from a file is .strip()ped.
	Stripped bool `json:"stripped,omitempty"`
	// Line is the line of the assignment that wins (the last one).
	Line int `json:"line,omitempty"`
	// Conditional is true when that assignment is inside an indented block
	// (if, try, with, def, ...): it may not run.
	Conditional bool `json:"conditional,omitempty"`
}

// ConfigError is a problem in a configuration file, at a line (0 when the
// problem is with the whole file).
type ConfigError struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Msg  string `json:"msg"`
}

// Nginx is what nginx's configuration says, as parsed by nginx-go-crossplane
// following include directives.
type Nginx struct {
	// Path is the main configuration file inside the root.
	Path string `json:"path"`
	// Files lists every file read, the main one first.
	Files []string `json:"files"`
	// Errors are what nginx would refuse: syntax, unknown contexts, includes
	// of missing files, invalid cipher strings.
	Errors []ConfigError `json:"errors"`
	// Servers are the server blocks of the http and stream contexts.
	Servers []NginxServer `json:"servers"`
	// DHParams are the ssl_dhparam directives, where they are written.
	DHParams []Directive `json:"dhparams"`
	// DHFiles describes each file an ssl_dhparam names, keyed by path,
	// except the checked dhparam.pem (files.dhparam describes that one).
	DHFiles map[string]File `json:"dh_files"`
}

// NginxServer is one server block and the TLS settings in effect for it,
// its own or inherited from the enclosing context.
type NginxServer struct {
	// Context is "http" or "stream".
	Context string `json:"context"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	// Names are the server_name values.
	Names []string `json:"names"`
	// Listen lists the listen directives' first arguments.
	Listen []string `json:"listen"`
	// TLS: a listen with the ssl parameter (or a listen socket another
	// server made ssl), or "ssl on".
	TLS bool `json:"tls"`
	// DHParam is the effective ssl_dhparam; nil when none applies.
	DHParam *Directive `json:"dhparam,omitempty"`
	// Ciphers is the effective ssl_ciphers; Default when nginx's default
	// (HIGH:!aNULL:!MD5) applies.
	Ciphers Directive `json:"ciphers"`
	// Protocols is the effective ssl_protocols (Value is space-separated).
	Protocols Directive `json:"protocols"`
	// DHESuites: the cipher string enables at least one DHE suite for a
	// protocol below TLSv1.3 (see checker/hubconfig's cipher evaluator).
	DHESuites bool `json:"dhe_suites"`
	// DHESuiteNames lists them, in OpenSSL's names.
	DHESuiteNames []string `json:"dhe_suite_names"`
}

// Directive is one directive's value and where it is written.
type Directive struct {
	// Value is the argument (for ssl_dhparam, the path made absolute
	// against nginx's configuration prefix and cleaned).
	Value string `json:"value"`
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	// Default is true when the directive is not written and nginx's
	// default applies.
	Default bool `json:"default,omitempty"`
}
