# The per-instance secrets: the cookie secret and the proxy auth token
# (input.files.cookie_secret and input.files.proxy_token), in the instance
# profile. In the image profile their mere presence is HUB030 (image.rego).
package hubsecrets

secret_keys := ["cookie_secret", "proxy_token"]

secret_name := {"cookie_secret": "cookie secret", "proxy_token": "proxy auth token"}

# instance_secrets maps each secret's key to its facts, in the instance
# profile, unless one DH parameters file is judged on its own.
instance_secrets[key] := input.files[key] if {
	profile == "instance"
	not input.standalone
	some key in secret_keys
}

# regular_secrets are the instance secrets that are regular files and could
# be observed: the ones whose mode, owner and content are judged.
regular_secrets[key] := f if {
	some key, f in instance_secrets
	f.type == "file"
	not unchecked(f)
}

# secret_content holds the content summary of secrets read in full.
secret_content[key] := f.secret if {
	some key, f in regular_secrets
	not f.secret.truncated
}

# allowed_secret_modes are secret_modes, then their group-readable variants
# when allow_group_read is set, leaving out any mode with an "other" bit.
allowed_secret_modes := array.concat(base_secret_modes, group_read_modes)

base_secret_modes := [m |
	some s in cfg.secret_modes
	m := octal(s)
	other_bits(m) == 0
]

group_read_modes := [bits.or(m, group_read) |
	cfg.allow_group_read == true
	some m in base_secret_modes
	bits.and(m, group_read) == 0
]

default secret_fix_mode := "0600"

secret_fix_mode := mode_text(allowed_secret_modes[0])

rotate := "sudo hubsecrets init --rotate"

missing_secret_why := {
	"cookie_secret": "JupyterHub would create it itself when it starts, with the umask's permissions until it sets 0600",
	"proxy_token": "a hub configured to read it cannot start, and a hub with no token makes a random one each start, so a proxy left running answers 403",
}

# METADATA
# title: Secret file missing
# description: >-
#   The cookie secret or the proxy auth token does not exist on this instance.
#   JupyterHub would create a cookie secret itself (briefly with the umask's
#   permissions); without a proxy token the hub makes a new random token at
#   every start and a proxy left running rejects it with 403.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub010
#     description: HUB010 in the rule reference
# custom:
#   id: HUB010
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, "sudo hubsecrets init") if {
	some key, f in instance_secrets
	not f.exists
	not unchecked(f)
	msg := sprintf("The %s %s is missing: %s.", [secret_name[key], show(f.path), missing_secret_why[key]])
}

# METADATA
# title: Secret is not a regular file
# description: >-
#   A secret is a symlink, a directory or a special file. A symlink is not
#   followed by hubsecrets but is by JupyterHub, so whoever controls its target
#   controls the secret.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub011
#     description: HUB011 in the rule reference
# custom:
#   id: HUB011
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in instance_secrets
	f.exists
	f.type != "file"
	msg := sprintf("The %s %s is %s, not a regular file%s.", [secret_name[key], show(f.path), type_text(f), not_file_why(f)])
	fix := sprintf("%s && %s", [remove_fix(f), rotate])
}

# METADATA
# title: Secret readable or writable by anybody
# description: >-
#   A secret has an "other" permission bit: every user on the host can read or
#   change it. JupyterHub refuses to start with such a cookie secret
#   ("cookie_secret_file can be read or written by anybody"). No parameter
#   allows it.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub012
#     description: HUB012 in the rule reference
# custom:
#   id: HUB012
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in regular_secrets
	other_bits(f.mode) != 0
	msg := sprintf(
		"The %s %s has mode %s: every user on the host can read or change it%s. Rotate it: it may have been read.",
		[secret_name[key], show(f.path), mode_text(f.mode), anybody_why[key]],
	)
	fix := sprintf("sudo chmod %s %s && %s", [secret_fix_mode, sh(f.path), rotate])
}

# METADATA
# title: Secret mode not allowed
# description: >-
#   A secret's mode is not one of the secret_modes parameter (0600 or 0400 by
#   default; 0640 and 0440 too with allow_group_read): group bits, execute
#   bits or setuid, setgid and sticky bits.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub013
#     description: HUB013 in the rule reference
# custom:
#   id: HUB013
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in regular_secrets
	other_bits(f.mode) == 0
	not f.mode in allowed_secret_modes
	msg := sprintf(
		"The %s %s has mode %s, not %s: %s.",
		[secret_name[key], show(f.path), mode_text(f.mode), modes_text(allowed_secret_modes), mode_why(f)],
	)
	fix := sprintf("sudo chmod %s %s", [secret_fix_mode, sh(f.path)])
}

# METADATA
# title: Secret has the wrong owner
# description: >-
#   A secret is not owned by the owner parameter (root by default): its owner
#   can read and change it.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub014
#     description: HUB014 in the rule reference
# custom:
#   id: HUB014
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in regular_secrets
	not owner_is(f, cfg.owner)
	msg := sprintf(
		"The %s %s is owned by %s, not %s: that user can read and change it.",
		[secret_name[key], show(f.path), owner_text(f), cfg.owner],
	)
	fix := sprintf("sudo chown %s %s", [sh(cfg.owner), sh(f.path)])
}

# METADATA
# title: Secret readable by the wrong group
# description: >-
#   A secret belongs to a group other than the group parameter (root by
#   default) and its mode gives that group access: every member of the group
#   can read or change it.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub015
#     description: HUB015 in the rule reference
# custom:
#   id: HUB015
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in regular_secrets
	not group_is(f, cfg.group)
	group_bits(f.mode) != 0
	msg := sprintf(
		"The %s %s belongs to group %s, not %s, and its mode %s lets every member of %s %s it.",
		[secret_name[key], show(f.path), group_text(f), cfg.group, mode_text(f.mode), group_text(f), group_access(f.mode)],
	)
	fix := sprintf("sudo chgrp %s %s", [sh(cfg.group), sh(f.path)])
}

# METADATA
# title: Secret is empty
# description: >-
#   A secret file is empty or holds only whitespace. JupyterHub silently
#   overwrites an empty cookie secret; an empty proxy token means a random
#   token at every hub start and 403 errors from a proxy left running.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub016
#     description: HUB016 in the rule reference
# custom:
#   id: HUB016
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, s in secret_content
	s.encoding == "empty"
	f := regular_secrets[key]
	msg := sprintf("The %s %s is %s: %s.", [secret_name[key], show(f.path), empty_text(f), empty_why[key]])
}

# METADATA
# title: Secret is not hex
# description: >-
#   A secret is not hex-encoded. JupyterHub reads a cookie secret that is not
#   hex as base64, with a warning at every start; content that is neither is
#   unusable. hubsecrets makes and expects secret_bytes random bytes as hex.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub017
#     description: HUB017 in the rule reference
# custom:
#   id: HUB017
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, s in secret_content
	s.encoding in {"base64", "other"}
	f := regular_secrets[key]
	msg := sprintf("The %s %s is %s, not hex: %s.", [secret_name[key], show(f.path), encoding_text(s), not_hex_why(key, s, cfg.secret_bytes)])
}

# METADATA
# title: Secret has the wrong length
# description: >-
#   A hex secret does not decode to secret_bytes bytes (32 by default).
#   JupyterHub silently accepts a short cookie secret, which is easier to
#   guess, and warns about a long one.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub018
#     description: HUB018 in the rule reference
# custom:
#   id: HUB018
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, s in secret_content
	s.encoding == "hex"
	s.decoded_bytes != cfg.secret_bytes
	f := regular_secrets[key]
	msg := sprintf(
		"The %s %s holds %d bytes (%d hex digits), want %d: %s.",
		[secret_name[key], show(f.path), s.decoded_bytes, s.decoded_bytes * 2, cfg.secret_bytes, length_why(key, s.decoded_bytes, cfg.secret_bytes)],
	)
}

# METADATA
# title: Cookie secret and proxy token are the same
# description: >-
#   The cookie secret and the proxy auth token hold the same value: whoever
#   learns one (the token is handed to the proxy process) has both.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub019
#     description: HUB019 in the rule reference
# custom:
#   id: HUB019
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, s in secret_content
	some other in s.same_as
	key < other
	secret_content[other]
	f := regular_secrets[key]
	g := regular_secrets[other]
	msg := sprintf(
		"The %s %s and the %s %s hold the same value: whoever learns one has both.",
		[secret_name[key], show(f.path), secret_name[other], show(g.path)],
	)
}

# METADATA
# title: Secret file far too large
# description: >-
#   A secret file is far bigger than any secret (hubsecrets reads only its
#   first few KiB). It is almost certainly not the file that was meant.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub020
#     description: HUB020 in the rule reference
# custom:
#   id: HUB020
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, f in regular_secrets
	f.secret.truncated
	msg := sprintf(
		"The %s %s is %d bytes, far more than a secret: it is probably not the file you meant, and only its start was read, so its content was not judged.",
		[secret_name[key], show(f.path), f.size],
	)
}

# METADATA
# title: Secret is easy to guess
# description: >-
#   A hex secret is not random: a published example value (hubsecrets keeps
#   only hashes of them), a short repeated pattern (all zeros, deadbeef x 8),
#   a long run of digits counting up or down (0123456789abcdef...), or too few
#   distinct digits. Whoever guesses it forges cookies or drives the proxy.
#   Random secrets never trip it.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub036
#     description: HUB036 in the rule reference
# custom:
#   id: HUB036
#   severity: deny
#   profile: instance
deny contains finding(rego.metadata.rule(), f.path, msg, rotate) if {
	some key, s in secret_content
	s.encoding == "hex"
	reasons := low_quality_reasons(s.quality)
	count(reasons) > 0
	f := regular_secrets[key]
	msg := sprintf(
		"The %s %s is easy to guess: %s. Replace it with a random one.",
		[secret_name[key], show(f.path), concat("; ", reasons)],
	)
}

# METADATA
# title: Secret belongs to the wrong group
# description: >-
#   A secret belongs to a group other than the group parameter (root by
#   default) but its mode gives the group no access. Nothing leaks today, but a
#   later chmod g+r would hand the secret to every member of that group (the
#   tutorial's chown :sudo).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub035
#     description: HUB035 in the rule reference
# custom:
#   id: HUB035
#   severity: warn
#   profile: instance
warn contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some key, f in regular_secrets
	not group_is(f, cfg.group)
	group_bits(f.mode) == 0
	msg := sprintf(
		"The %s %s belongs to group %s, not %s. Its mode %s gives the group no access, but a later chmod g+r would expose it to every member of %s.",
		[secret_name[key], show(f.path), group_text(f), cfg.group, mode_text(f.mode), group_text(f)],
	)
	fix := sprintf("sudo chgrp %s %s", [sh(cfg.group), sh(f.path)])
}

not_file_why(f) := sprintf(
	" (to %s): hubsecrets does not follow it, but JupyterHub would, so whoever controls the target controls the secret; its content and mode were not checked",
	[show(f.link_target)],
) if {
	f.type == "symlink"
} else := ""

# remove_fix takes what is in the way of a checked file away: rm for a
# symlink or a special file; a directory, whose content is not the fix's to
# delete (rmdir would fail on it), is moved aside.
remove_fix(f) := move_aside(f.path) if {
	f.type == "dir"
} else := sprintf("sudo rm %s", [sh(f.path)])

anybody_why := {
	"cookie_secret": `, and JupyterHub refuses to start ("cookie_secret_file can be read or written by anybody")`,
	"proxy_token": ", and with it drive the proxy's routing API",
}

# mode_why says in words what is wrong with a secret's mode.
mode_why(f) := concat("; ", reasons) if {
	reasons := [r | some kind in ["group", "exec", "special", "unreadable"]; r := mode_reason(f, kind)]
	count(reasons) > 0
} else := "the secret_modes parameter does not allow it"

mode_reason(f, "group") := sprintf("members of group %s can %s it", [group_text(f), group_access(f.mode)]) if {
	group_bits(f.mode) != 0
}

mode_reason(f, "exec") := "it is executable" if bits.and(f.mode, 64) != 0 # 0o100

mode_reason(f, "special") := "it has the setuid, setgid or sticky bit" if bits.and(f.mode, 3584) != 0 # 0o7000

mode_reason(f, "unreadable") := "its owner cannot read it" if bits.and(f.mode, 256) == 0 # 0o400

# group_access says what a mode lets the group do.
group_access(m) := "read and change" if {
	bits.and(m, 32) != 0
	bits.and(m, 16) != 0
} else := "read" if {
	bits.and(m, 32) != 0
} else := "change" if {
	bits.and(m, 16) != 0
} else := "execute"

empty_why := {
	"cookie_secret": "JupyterHub silently replaces an empty cookie secret with a new random one when it starts, so the secret you meant to set is not the one in use",
	"proxy_token": `a hub reading it gets no token and makes a random one at every start, so a proxy left running answers 403 ("Did CONFIGPROXY_AUTH_TOKEN change?"), and a proxy started with no token accepts every API call`,
}

empty_text(f) := "empty" if {
	f.size == 0
} else := "only whitespace"

encoding_text(s) := sprintf("base64 (%d bytes decoded)", [s.decoded_bytes]) if {
	s.encoding == "base64"
} else := "neither hex nor base64"

not_hex_why("cookie_secret", s, _) := "JupyterHub falls back to reading it as base64 and logs a warning at every start" if s.encoding == "base64"

not_hex_why("cookie_secret", s, _) := "JupyterHub can only try to read it as base64, and then either refuses to start or uses whatever bytes it salvages" if s.encoding == "other"

not_hex_why("proxy_token", _, want) := sprintf("hubsecrets makes tokens of %d random bytes as hex and cannot judge the strength of one in another form", [want])

length_why("cookie_secret", n, want) := "JupyterHub silently accepts a short cookie secret, and a short secret is easier to guess" if n < want

length_why("proxy_token", n, want) := "a short token is easier to guess" if n < want

length_why("cookie_secret", n, want) := sprintf("longer than this site's secret_bytes (%d); JupyterHub warns at every start about a cookie secret that is not 32 bytes", [want]) if n > want

length_why("proxy_token", n, want) := sprintf("longer than this site's secret_bytes (%d): not a token hubsecrets made", [want]) if n > want

# Low-quality secrets (HUB036). The collector reports the structure of a hex
# secret's digits (checker/facts.Quality), never the digits. The thresholds
# are constants; for 32 random bytes (64 hex digits) the odds of tripping
# each are far below one in a billion:
#   - a period of at most 8 digits: under 16^-56;
#   - a monotone run of 12 or more: about 53 starts x 2 directions x 16^-11,
#     under 1e-11;
#   - fewer than 8 distinct digits among 32 or more: C(16,7) x (7/16)^64,
#     about 1e-19 for 64 digits (4e-8 for 32).
# checker/source's TestRandomSecretsPass checks 10,000 random secrets.
quality_max_period := 8

quality_min_run := 12

quality_min_distinct := 8

low_quality_reasons(q) := [r |
	some kind in ["example", "period", "run", "distinct"]
	r := low_quality_reason(q, kind)
]

low_quality_reason(q, "example") := "it is a published example value" if q.known_example

low_quality_reason(q, "period") := sprintf("it repeats a pattern of %d hex digit(s)", [q.period]) if {
	q.period <= quality_max_period
	q.period * 2 <= q.digits # repeated at least twice
}

low_quality_reason(q, "run") := sprintf("it holds a run of %d consecutive hex digits counting up or down", [q.longest_monotone_run]) if {
	q.longest_monotone_run >= quality_min_run
}

low_quality_reason(q, "distinct") := sprintf("it uses only %d of the 16 hex digits", [q.distinct_digits]) if {
	q.digits >= 32
	q.distinct_digits < quality_min_distinct
}
