# nginx's configuration (input.nginx), in both profiles: the DH parameters
# nginx really uses and whether it does DHE. The section is present only when
# nginx.conf exists in the scanned root; a finding names the file and line.
package hubsecrets

# METADATA
# title: DH parameters nginx uses are unsafe
# description: >-
#   A DH parameters file an ssl_dhparam names (other than the checked
#   dhparam.pem) is missing, does not parse, has a prime below min_dh_bits, is
#   not a valid safe-prime group, is a known weak or widely shared group, or
#   can be replaced by users other than its owner.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub055
#     description: HUB055 in the rule reference
# custom:
#   id: HUB055
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), p, msg, fix) if {
	some p, f in ngx.dh_files
	not unchecked(f)
	problems := [x | some check in nginx_dh_checks; x := nginx_dh_problem(f, check)]
	count(problems) > 0
	msg := sprintf("The DH parameters nginx uses, %s, are unsafe: %s.", [show(p), concat("; ", problems)])
	fix := sprintf(
		"sudo hubsecrets dhparam --group %s -o %s --force  # or point ssl_dhparam at the checked %s",
		[dh_fix_group, sh(p), checked_dh],
	)
}

# METADATA
# title: nginx uses other DH parameters
# description: >-
#   An ssl_dhparam directive names a file other than the checked dhparam.pem,
#   so the DH parameters nginx uses are not the ones hubsecrets checks and
#   installs. The file named is checked too (HUB055).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub054
#     description: HUB054 in the rule reference
# custom:
#   id: HUB054
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), d.file, msg, fix) if {
	some d in ngx.dhparams
	d.value != checked_dh
	msg := sprintf(
		"%s line %d: ssl_dhparam names %s, not the checked %s: nginx uses DH parameters hubsecrets does not install.",
		[show(d.file), d.line, show(d.value), show(checked_dh)],
	)
	fix := replace_line_fix(d.file, d.line, sprintf("ssl_dhparam %s;", [checked_dh]))
}

# METADATA
# title: nginx enables DHE suites without DH parameters
# description: >-
#   A TLS server's ssl_ciphers (or nginx's default, HIGH:!aNULL:!MD5) enables
#   DHE suites but no ssl_dhparam applies to it: nginx then silently does no
#   DHE at all. Remove the DHE suites, as Mozilla's intermediate configuration
#   does, or set ssl_dhparam to the checked dhparam.pem.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub056
#     description: HUB056 in the rule reference
# custom:
#   id: HUB056
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), s.file, msg, fix) if {
	some s in ngx.servers
	s.tls
	s.dhe_suites
	not s.dhparam
	msg := sprintf(
		"%s uses TLS and %s enables %s, but no ssl_dhparam applies to it: nginx silently does no DHE.",
		[server_text(s), ciphers_text(s.ciphers), suites_text(s.dhe_suite_names)],
	)
	fix := sprintf(
		"%s: ssl_ciphers %s; or add to the server block at %s line %d: ssl_dhparam %s;",
		[cipher_fix_where(s), mozilla_intermediate, s.file, s.line, checked_dh],
	)
}

# METADATA
# title: nginx configuration error
# description: >-
#   nginx's configuration has an error nginx refuses (a syntax error, a
#   directive where it is not allowed, an include of a missing file, a cipher
#   string OpenSSL rejects): nginx -t fails, and hubsecrets may have missed TLS
#   settings after it.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub057
#     description: HUB057 in the rule reference
# custom:
#   id: HUB057
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), e.file, msg, fix) if {
	some e in ngx.errors
	msg := sprintf("%s: %s: nginx refuses this configuration, and hubsecrets may have missed TLS settings in it.", [ngx_where(e), e.msg])
	fix := sprintf("repair %s, then check with: sudo nginx -t", [ngx_where(e)])
}

ngx := input.nginx

nginx_dh_checks := ["exists", "parses", "bits", "prime", "safe", "generator", "weak", "mode"]

nginx_dh_problem(f, "exists") := "it does not exist, and nginx does not start without it" if not f.exists

nginx_dh_problem(f, "parses") := sprintf("it does not parse as PEM DH parameters (%s)", [show(f.dh.parse_error)]) if {
	f.exists
	not f.dh.parsed
}

nginx_dh_problem(f, "bits") := sprintf("its prime has %d bits, fewer than %d (Logjam)", [f.dh.prime_bits, cfg.min_dh_bits]) if {
	f.dh.parsed
	f.dh.prime_bits < cfg.min_dh_bits
}

nginx_dh_problem(f, check) := dh_problem(f.dh, check) if {
	check in {"prime", "safe", "generator"}
	f.dh.parsed
}

nginx_dh_problem(f, "weak") := sprintf("it is the known weak or widely shared group %s", [show(f.dh.weak_group)]) if {
	f.dh.parsed
	f.dh.weak_group != ""
}

nginx_dh_problem(f, "mode") := sprintf("its mode %s lets users other than its owner replace it", [mode_text(f.mode)]) if {
	f.type == "file"
	group_other_write(f.mode) != 0
}

# Mozilla's intermediate configuration (2025 and later) has no DHE suites.
mozilla_intermediate := "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

server_text(s) := sprintf("The server block at %s line %d (server_name %s)", [show(s.file), s.line, concat(" ", [show(n) | some n in s.names])]) if {
	count(s.names) > 0
} else := sprintf("The server block at %s line %d", [show(s.file), s.line])

ciphers_text(c) := sprintf("nginx's default ssl_ciphers %s", [c.value]) if {
	c["default"]
} else := sprintf("ssl_ciphers %s (%s line %d)", [show(c.value), show(c.file), c.line])

suites_text(names) := sprintf("%s", [concat(", ", names)]) if {
	count(names) <= 3
} else := sprintf("%s and %d more DHE suites", [concat(", ", array.slice(names, 0, 3)), count(names) - 3])

cipher_fix_where(s) := sprintf("in %s, replace line %d with", [s.ciphers.file, s.ciphers.line]) if {
	not s.ciphers["default"]
} else := sprintf("add to the server block at %s line %d", [s.file, s.line])

ngx_where(e) := sprintf("%s line %d", [show(e.file), e.line]) if {
	e.line > 0
} else := show(e.file)
