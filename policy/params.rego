# Site parameters.
#
# Every judgement the policy makes that a site may reasonably want to change
# is a parameter. The defaults follow the tutorial and JupyterHub's docs.
# A site overrides some of them in a data file (hubsecrets check --data):
#
#   {"hubsecrets": {"params": {"allow_group_read": true, "group": "jupyterhub"}}}
#
# The site's object is merged over the defaults with object.union, so it sets
# only what it changes. Modes are strings of octal digits as chmod takes them
# ("0600" or "600"), never JSON numbers: 600 in JSON is decimal 600, and YAML
# reads 0600 as 384 or 600 depending on its version.
package hubsecrets

default_params := {
	# owner and group of the secrets and of dhparam.pem.
	"owner": "root",
	"group": "root",
	# owner of the secrets directory.
	"dir_owner": "root",
	# allowed modes of the cookie secret and proxy token. A mode with any
	# "other" bit is refused whatever this says (JupyterHub refuses it too).
	"secret_modes": ["0600", "0400"],
	# also allow the group-readable variants of secret_modes (0640, 0440).
	# JupyterHub accepts group bits on purpose (jupyterhub issue #522).
	"allow_group_read": false,
	# allowed modes of dhparam.pem.
	"dhparam_modes": ["0600", "0400"],
	# smallest acceptable DH prime.
	"min_dh_bits": 2048,
	# length of each secret once hex-decoded.
	"secret_bytes": 32,
	# require the first-boot hook: null means "in the image profile only";
	# true or false forces it on or off in both profiles.
	"require_firstboot": null,
}

# site_params is the site's data.hubsecrets.params, when it is an object.
default site_params := {}

site_params := data.hubsecrets.params if is_object(data.hubsecrets.params)

# cfg is the parameters in force: the defaults, then the site's.
cfg := object.union(default_params, site_params)

# param_kinds says what each parameter holds, for param_errors.
param_kinds := {
	"owner": "name",
	"group": "name",
	"dir_owner": "name",
	"secret_modes": "modes",
	"allow_group_read": "boolean",
	"dhparam_modes": "modes",
	"min_dh_bits": "count",
	"secret_bytes": "count",
	"require_firstboot": "boolean or null",
}

# param_errors lists what is wrong with the site's parameters. The engine
# refuses to run while it is not empty: a misspelt or mistyped parameter
# would otherwise be silently ignored.
param_errors contains msg if {
	p := data.hubsecrets.params
	not is_object(p)
	msg := sprintf("hubsecrets.params must be an object, not %s", [type_name(p)])
}

param_errors contains msg if {
	some name, _ in site_params
	not param_kinds[name]
	msg := sprintf(
		"hubsecrets.params.%s: unknown parameter (known: %s)",
		[name, concat(", ", sort(object.keys(param_kinds)))],
	)
}

param_errors contains msg if {
	some name, value in site_params
	kind := param_kinds[name]
	not valid_param(kind, value)
	msg := sprintf("hubsecrets.params.%s: want %s, not %s", [name, kind_text[kind], json.marshal(value)])
}

param_errors contains msg if {
	some mode in site_params.secret_modes
	valid_mode(mode)
	bits.and(octal(mode), 7) != 0
	msg := sprintf(
		"hubsecrets.params.secret_modes: %s gives other users access; JupyterHub refuses to start with it",
		[mode],
	)
}

param_errors contains msg if {
	n := site_params.min_dh_bits
	valid_param("count", n)
	n > 8192
	msg := sprintf("hubsecrets.params.min_dh_bits: %d is more than the largest RFC 7919 group (ffdhe8192)", [n])
}

kind_text := {
	"name": "a user or group name (a non-empty string)",
	"modes": `a non-empty list of octal mode strings such as ["0600", "0400"]`,
	"boolean": "true or false",
	"count": "a positive whole number",
	"boolean or null": "true, false or null",
}

valid_param("name", v) if {
	is_string(v)
	v != ""
}

valid_param("modes", v) if {
	is_array(v)
	count(v) > 0
	every m in v {
		valid_mode(m)
	}
}

valid_param("boolean", v) if is_boolean(v)

valid_param("count", v) if {
	is_number(v)
	v == round(v)
	v > 0
}

valid_param("boolean or null", v) if is_boolean(v)

valid_param("boolean or null", v) if is_null(v)

valid_mode(m) if {
	is_string(m)
	regex.match(`^[0-7]{3,4}$`, m)
}
