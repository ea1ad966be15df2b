# Site parameters.
#
# Every judgement the policy makes that a site may reasonably want to change
# is a parameter. The defaults follow the tutorial and JupyterHub's docs.
# A site overrides some of them in a data file (hubsecrets check --data):
#
#   {"hubsecrets": {"params": {"allow_group_read": true, "group": "jupyterhub"}}}
#
# A host or image carries the parameters in force for it in one file,
# /etc/hubsecrets/params.json (the same shape), written by the provisioner
# and by `hubsecrets init`; the collector puts it in input.contract, and the
# site's --data still wins over it.
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

# host_params are the parameters the scanned host or image carries in its
# contract file (/etc/hubsecrets/params.json, written by the provisioner or
# `hubsecrets init`, observed as input.contract), when they are valid. An
# invalid contract is a deny (HUB008) and counts for nothing here.
default host_params := {}

host_params := p if {
	p := input.contract.params
	count(param_problems(p)) == 0
	count(contract_trust_problems) == 0
}

# cfg is the parameters in force: the defaults, then the host's contract,
# then the site's data (--data wins).
cfg := object.union(object.union(default_params, host_params), site_params)

# param_kinds says what each parameter holds, for param_problems.
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
param_errors contains sprintf("hubsecrets.params %s", [msg]) if {
	not is_object(data.hubsecrets.params)
	some msg in param_problems(data.hubsecrets.params)
}

param_errors contains sprintf("hubsecrets.params.%s", [msg]) if {
	is_object(data.hubsecrets.params)
	some msg in param_problems(data.hubsecrets.params)
}

# param_problems says what is wrong with a parameters object: unknown names,
# wrong types, and values beyond the floors and ceilings no site may cross.
param_problems(p) := {sprintf("must be an object, not %s", [type_name(p)])} if not is_object(p)

param_problems(p) := {msg |
	some name, value in p
	some msg in _value_problems(name, value)
} if {
	is_object(p)
}

_value_problems(name, _) := {sprintf(
	"%s: unknown parameter (known: %s)",
	[name, concat(", ", sort(object.keys(param_kinds)))],
)} if {
	not param_kinds[name]
}

_value_problems(name, value) := {sprintf("%s: want %s, not %s", [name, kind_text[kind], json.marshal(value)])} if {
	kind := param_kinds[name]
	not valid_param(kind, value)
}

_value_problems(name, value) := {sprintf("%s: %s", [name, msg]) | some msg in _limit_problems(name, value)} if {
	valid_param(param_kinds[name], value)
}

# _limit_problems are the floors and ceilings: a site may make the policy
# stricter, never weaker than what the policy itself calls weak.
_limit_problems("secret_modes", value) := {sprintf(
	"%s gives other users access; JupyterHub refuses to start with it",
	[mode],
) |
	some mode in value
	bits.and(octal(mode), 7) != 0
}

_limit_problems("min_dh_bits", value) := {limit.msg |
	some limit in [
		{"out": value < 2048, "msg": sprintf("%d is below 2048, which this policy calls weak (Logjam): the floor cannot be lowered", [value])},
		{"out": value > 8192, "msg": sprintf("%d is more than the largest RFC 7919 group (ffdhe8192)", [value])},
	]
	limit.out
}

_limit_problems("secret_bytes", value) := {limit.msg |
	some limit in [
		{"out": value < 32, "msg": sprintf("%d is below 32 bytes, which this policy calls weak: the floor cannot be lowered", [value])},
		{"out": value > 1024, "msg": sprintf("%d is more than 1024 bytes: hubsecrets reads at most 4 KiB of a secret", [value])},
	]
	limit.out
}

_limit_problems(name, _) := set() if not name in {"secret_modes", "min_dh_bits", "secret_bytes"}

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
