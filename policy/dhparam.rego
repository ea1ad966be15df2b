# nginx's DH parameters (input.files.dhparam), in both profiles. They are
# public; what matters is that they parse, are strong, and that nobody but
# their owner can replace them.
package hubsecrets

dh_file := input.files.dhparam

# dh_regular is the dhparam file when it is a regular file that could be
# observed: the one whose mode, owner and content are judged.
dh_regular := dh_file if {
	dh_file.type == "file"
	not unchecked(dh_file)
}

dh_modes := [octal(s) | some s in cfg.dhparam_modes]

default dh_fix_mode := "0600"

dh_fix_mode := mode_text(dh_modes[0])

# dh_fix_group is the smallest RFC 7919 group with at least min_dh_bits.
default dh_fix_group := "ffdhe8192"

dh_fix_group := [g.name |
	some g in [
		{"name": "ffdhe2048", "bits": 2048},
		{"name": "ffdhe3072", "bits": 3072},
		{"name": "ffdhe4096", "bits": 4096},
		{"name": "ffdhe6144", "bits": 6144},
		{"name": "ffdhe8192", "bits": 8192},
	]
	g.bits >= cfg.min_dh_bits
][0]

dh_make_fix := sprintf("sudo hubsecrets dhparam --group %s -o %s", [dh_fix_group, sh(dh_file.path)])

# dh_replace_fix replaces parameters the policy denies. A file judged on its
# own (hubsecrets dhparam --check FILE) is replaced only when it is DH
# parameters and not reached through a symbolic link, whose target is not
# this check's to overwrite.
default dh_replace_fix := ""

dh_replace_fix := concat(" ", [dh_make_fix, "--force"]) if not input.standalone

dh_replace_fix := sprintf("hubsecrets dhparam --group %s -o %s --force", [dh_fix_group, sh(dh_file.path)]) if {
	input.standalone
	not input.standalone.link
	dh_regular.dh.parsed
}

dh_replace_fix := sprintf(
	"hubsecrets dhparam --group %s -o NEW.pem, then point the link at it: ln -sfn \"$PWD/NEW.pem\" %s",
	[dh_fix_group, sh(dh_file.path)],
) if {
	input.standalone.link == true
	dh_regular.dh.parsed
}

dh_replace_fix := sprintf(
	"none for %s: it is not DH parameters, keep it; make DH parameters in a file of their own: hubsecrets dhparam --group %s -o NEW.pem",
	[sh(dh_file.path), dh_fix_group],
) if {
	input.standalone
	not dh_regular.dh.parsed
}

# METADATA
# title: DH parameters missing
# description: >-
#   nginx's DH parameters file (dhparam.pem) does not exist; nginx refuses to
#   start when ssl_dhparam names a missing file.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub021
#     description: HUB021 in the rule reference
# custom:
#   id: HUB021
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_file.path, msg, fix) if {
	not dh_file.exists
	not unchecked(dh_file)
	msg := sprintf("nginx's DH parameters %s are missing: nginx refuses to start when ssl_dhparam names a missing file.", [show(dh_file.path)])

	# --force: another fix of the same report (hubsecrets init) may have
	# written them already, and the command must still work as printed.
	fix := concat(" ", [dh_make_fix, "--force"])
}

# METADATA
# title: DH parameters not a regular file
# description: >-
#   dhparam.pem is a symlink, a directory or a special file. A symlink is not
#   followed by hubsecrets but is by nginx, so whoever controls its target
#   chooses the DH group.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub022
#     description: HUB022 in the rule reference
# custom:
#   id: HUB022
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_file.path, msg, fix) if {
	dh_file.exists
	dh_file.type != "file"
	msg := sprintf(
		"nginx's DH parameters %s are %s, not a regular file%s.",
		[show(dh_file.path), type_text(dh_file), dh_not_file_why],
	)
	fix := sprintf("%s && %s", [remove_fix(dh_file), dh_make_fix])
}

# METADATA
# title: DH parameters mode not allowed
# description: >-
#   dhparam.pem's mode is not one of the dhparam_modes parameter (0600 or 0400
#   by default). DH parameters are public, but whoever can write them can
#   weaken every DHE connection nginx makes.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub023
#     description: HUB023 in the rule reference
# custom:
#   id: HUB023
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, msg, fix) if {
	not dh_regular.mode in dh_modes
	msg := sprintf(
		"nginx's DH parameters %s have mode %s, not %s%s.",
		[show(dh_regular.path), mode_text(dh_regular.mode), modes_text(dh_modes), dh_mode_why],
	)
	fix := sprintf("sudo chmod %s %s", [dh_fix_mode, sh(dh_regular.path)])
}

# METADATA
# title: DH parameters have the wrong owner or a group with access
# description: >-
#   dhparam.pem is not owned by the owner parameter (root by default), or
#   belongs to a group other than the group parameter and its mode gives that
#   group access. Whoever can write the file chooses the DH group.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub024
#     description: HUB024 in the rule reference
# custom:
#   id: HUB024
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, problem.msg, problem.fix) if {
	some problem in dh_ownership_problems
}

# METADATA
# title: DH parameters do not parse
# description: >-
#   dhparam.pem is not PKCS#3 PEM DH parameters ("BEGIN DH PARAMETERS"), so
#   nginx cannot load it. X9.42 parameters (openssl dhparam -dsaparam) are not
#   accepted: their prime is not a safe prime.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub025
#     description: HUB025 in the rule reference
# custom:
#   id: HUB025
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, msg, dh_replace_fix) if {
	not dh_regular.dh.parsed
	msg := sprintf(
		"nginx's DH parameters %s do not parse as PEM DH parameters (%s)%s.",
		[show(dh_regular.path), show(object.get(dh_regular.dh, "parse_error", "no summary")), dh_format_hint],
	)
}

# METADATA
# title: DH prime too small
# description: >-
#   The DH prime has fewer bits than the min_dh_bits parameter (2048 by
#   default). Primes of 1024 bits or fewer are within reach of precomputation
#   attacks (Logjam).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub026
#     description: HUB026 in the rule reference
# custom:
#   id: HUB026
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, msg, dh_replace_fix) if {
	dh_regular.dh.parsed
	dh_regular.dh.prime_bits < cfg.min_dh_bits
	msg := sprintf(
		"nginx's DH parameters %s have a %d-bit prime, want at least %d bits: small primes are open to precomputation attacks (Logjam).",
		[show(dh_regular.path), dh_regular.dh.prime_bits, cfg.min_dh_bits],
	)
}

# METADATA
# title: DH parameters are not a valid safe-prime group
# description: >-
#   The DH prime is not prime, not a safe prime ((p-1)/2 prime too), or the
#   generator does not generate a large subgroup. Such parameters allow
#   small-subgroup attacks or are simply broken.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub027
#     description: HUB027 in the rule reference
# custom:
#   id: HUB027
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, msg, dh_replace_fix) if {
	dh_regular.dh.parsed
	problems := [p | some check in ["prime", "safe", "generator"]; p := dh_problem(dh_regular.dh, check)]
	count(problems) > 0
	msg := sprintf("nginx's DH parameters %s are unsafe: %s.", [show(dh_regular.path), concat("; ", problems)])
}

# METADATA
# title: DH parameters are a known weak or widely shared group
# description: >-
#   The DH prime is a known weak prime or one shared by very many servers
#   (such as the 1024-bit Oakley groups), the targets of choice for
#   precomputation attacks.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub028
#     description: HUB028 in the rule reference
# custom:
#   id: HUB028
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dh_regular.path, msg, dh_replace_fix) if {
	dh_regular.dh.parsed
	dh_regular.dh.weak_group != ""
	msg := sprintf(
		"nginx's DH parameters %s are the known weak or widely shared group %s: precomputation against it breaks many servers at once.",
		[show(dh_regular.path), show(dh_regular.dh.weak_group)],
	)
}

# METADATA
# title: DH parameters belong to the wrong group
# description: >-
#   dhparam.pem belongs to a group other than the group parameter (root by
#   default) but its mode gives the group no access. Nothing is exposed today;
#   a later chmod g+w would let the whole group replace the file.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub029
#     description: HUB029 in the rule reference
# custom:
#   id: HUB029
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), dh_regular.path, msg, fix) if {
	not group_is(dh_regular, cfg.group)
	group_bits(dh_regular.mode) == 0
	msg := sprintf(
		"nginx's DH parameters %s belong to group %s, not %s. Their mode %s gives the group no access, but a later chmod g+w would let every member of %s replace them.",
		[show(dh_regular.path), group_text(dh_regular), cfg.group, mode_text(dh_regular.mode), group_text(dh_regular)],
	)
	fix := sprintf("sudo chgrp %s %s", [sh(cfg.group), sh(dh_regular.path)])
}

default dh_not_file_why := ""

dh_not_file_why := sprintf(
	" (to %s): hubsecrets does not follow it, but nginx would, so whoever controls the target chooses the DH group; it was not checked",
	[show(dh_file.link_target)],
) if {
	dh_file.type == "symlink"
}

default dh_mode_why := ""

dh_mode_why := ": users other than the owner can replace them with weak parameters" if {
	group_other_write(dh_regular.mode) != 0
}

dh_ownership_problems contains {"msg": msg, "fix": fix} if {
	not owner_is(dh_regular, cfg.owner)
	msg := sprintf(
		"nginx's DH parameters %s are owned by %s, not %s: that user can replace them with weak parameters.",
		[show(dh_regular.path), owner_text(dh_regular), cfg.owner],
	)
	fix := sprintf("sudo chown %s %s", [sh(cfg.owner), sh(dh_regular.path)])
}

dh_ownership_problems contains {"msg": msg, "fix": fix} if {
	not group_is(dh_regular, cfg.group)
	group_bits(dh_regular.mode) != 0
	msg := sprintf(
		"nginx's DH parameters %s belong to group %s, not %s, and their mode %s lets every member of %s %s them.",
		[
			show(dh_regular.path), group_text(dh_regular), cfg.group, mode_text(dh_regular.mode),
			group_text(dh_regular), group_access(dh_regular.mode),
		],
	)
	fix := sprintf("sudo chgrp %s %s", [sh(cfg.group), sh(dh_regular.path)])
}

default dh_format_hint := ""

dh_format_hint := ": openssl dhparam -dsaparam writes these, and their prime is not a safe prime" if {
	dh_regular.dh.format == "X9.42 DH PARAMETERS"
}

dh_problem(dh, "prime") := "the prime is not prime" if not dh.prime_probable

dh_problem(dh, "safe") := "the prime is not a safe prime ((p-1)/2 is not prime)" if {
	dh.prime_probable
	not dh.safe_prime
}

dh_problem(dh, "generator") := sprintf("the generator %d is not valid for this prime", [dh.generator]) if {
	not dh.generator_valid
}
