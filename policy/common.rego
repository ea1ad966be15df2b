# Rules for both profiles: what else is in the secrets directory, and what
# could not be observed at all.
package hubsecrets

# METADATA
# title: Unexpected entry in the secrets directory
# description: >-
#   The secrets directory holds something hubsecrets does not expect. A name
#   close to an expected one (the tutorial's jupyterhub_cookie_secretl) usually
#   means a secret was written to the wrong file and the real one was left
#   empty or missing; any other entry may hold a stray copy of a secret.
# custom:
#   id: HUB040
#   severity: warn
warn contains finding(rego.metadata.rule(), e.path, msg, fix) if {
	some e in input.unexpected
	not e in image_secret_copies
	not secrets_dir_is_system # HUB006
	msg := sprintf("%s.", [unexpected_why(e)])
	fix := sprintf("sudo rm%s %s", [rm_flags(e), sh(e.path)])
}

rm_flags(e) := " -ri" if {
	e.type == "dir"
} else := ""

unexpected_why(e) := sprintf(
	"%s looks like a %s of %s: %s",
	[show(e.name), resemblance(e), e.resembles, resembles_consequence(e, input.files)],
) if {
	e.resembles != ""
} else := sprintf("%s is a temporary file left by an interrupted hubsecrets run; the next run removes it", [show(e.name)]) if {
	startswith(e.name, ".hubsecrets-tmp.")
} else := sprintf("%s is not a file hubsecrets expects here (%s); nothing reads it, and it may hold a stray copy of a secret", [show(e.name), type_text(e)])

# resemblance: the expected name with something added after a separator
# (jupyterhub_cookie_secret.bak, old-proxy_auth_token) is a copy; anything
# else close to it (jupyterhub_cookie_secretl) is a misspelling.
resemblance(e) := "copy" if {
	name := lower(e.name)
	expected := lower(e.resembles)
	i := indexof(name, expected)
	i >= 0
	separated_prefix(substring(name, 0, i))
	separated_suffix(substring(name, i + count(expected), -1))
} else := "misspelling"

separated_prefix("")

separated_prefix(s) if substring(s, count(s) - 1, 1) in {".", "_", "-", "~", " "}

separated_suffix("")

separated_suffix(s) if substring(s, 0, 1) in {".", "_", "-", "~", " "}

# resembles_consequence says what an entry resembling an expected file
# probably means, given the expected files' facts.
resembles_consequence(e, files) := "the secret may have been written there and the real file left empty" if {
	files[e.resembles_key].secret.encoding == "empty"
} else := "the secret may have been written there instead of the real file, which is missing" if {
	e.resembles_key != "dhparam"
	not files[e.resembles_key].exists
} else := "it may hold an old copy of a secret that JupyterHub does not read" if {
	e.resembles_key != "dhparam"
} else := "nginx does not read it"

# observed_files are all the files the facts describe, for HUB041 and HUB042.
observed_files := array.concat(
	array.concat([input.dir, contract], [f | some f in input.files]),
	[f | some f in input.firstboot],
)

# METADATA
# title: File could not be checked
# description: >-
#   The facts record an error for one of the paths hubsecrets checks (it could
#   not be read, or its content could not be summarised). Nothing unobserved
#   passes.
# custom:
#   id: HUB041
#   severity: deny
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	some f in observed_files
	unchecked(f)
	msg := sprintf("%s could not be checked: %s.", [show(f.path), show(f.error)])
	fix := sprintf("run the check as root (sudo hubsecrets check ...) or repair %s so it can be read", [show(f.path)])
}

# METADATA
# title: Scan incomplete
# description: >-
#   The facts record an error that no single checked file accounts for: an
#   unreadable /etc/passwd or /etc/group (so owners have no names), too many
#   unexpected entries, an unreadable /etc/machine-id. The result is
#   incomplete, so it cannot pass.
# custom:
#   id: HUB042
#   severity: deny
deny contains finding(rego.metadata.rule(), error_path(e), msg, fix) if {
	some e in input.errors
	not strings.any_prefix_match(e, file_error_prefixes)
	msg := sprintf("The scan is incomplete: %s.", [show(e)])
	fix := "run the check as root (sudo hubsecrets check ...) or repair what the error names"
}

# file_error_prefixes start the errors of the files HUB041 already reports.
file_error_prefixes contains concat("", [f.path, ": "]) if {
	some f in observed_files
	unchecked(f)
}

# error_path is the path an error names ("path: what went wrong"), if any.
error_path(e) := p if {
	p := split(e, ": ")[0]
	startswith(p, "/")
} else := ""
