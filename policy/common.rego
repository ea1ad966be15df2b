# Rules for both profiles: what else is in the secrets directory, and what
# could not be observed at all.
package hubsecrets

# METADATA
# title: Readable copy of a live secret
# description: >-
#   A file in the secrets directory or its parent (e.g. /srv, not
#   recursively) holds the live cookie secret or proxy token (the
#   same value as JupyterHub reads it: the hand repair cp
#   jupyterhub_cookie_secretl jupyterhub_cookie_secret leaves one at 0644),
#   and someone the secret's own mode and owner keep out can read or change
#   it: other users, a group, another owner. The secret must be treated as
#   leaked: rotate it, then remove the copy.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub058
#     description: HUB058 in the rule reference
# custom:
#   id: HUB058
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), e.path, msg, rotate_and_remove(e)) if {
	some e in array.concat(input.unexpected, parent_copies)
	exposed_copy(e)
	live := input.files[copy_of(e)]
	msg := sprintf(
		"%s holds a copy of the live %s %s, and %s: treat the secret as leaked. Rotate it, then remove the copy.",
		[show(e.path), secret_name[copy_of(e)], show(live.path), concat("; ", copy_exposure(e, live))],
	)
}

# METADATA
# title: File could not be checked
# description: >-
#   The facts record an error for one of the paths hubsecrets checks (it could
#   not be read, or its content could not be summarised). Nothing unobserved
#   passes.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub041
#     description: HUB041 in the rule reference
# custom:
#   id: HUB041
#   severity: deny
#   profile: both
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
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub042
#     description: HUB042 in the rule reference
# custom:
#   id: HUB042
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), error_path(e), msg, fix) if {
	some e in input.errors
	not strings.any_prefix_match(e, file_error_prefixes)
	msg := sprintf("The scan is incomplete: %s.", [show(e)])
	fix := "run the check as root (sudo hubsecrets check ...) or repair what the error names"
}

# METADATA
# scope: document
# title: Warnings
# description: >-
#   The findings that are reported but do not fail a check: a set of
#   {id, path, msg, fix}, each rule body documented by its own METADATA.
# entrypoint: true

# METADATA
# title: Unexpected entry in the secrets directory
# description: >-
#   The secrets directory holds something hubsecrets does not expect, or its
#   parent (e.g. /srv) holds a copy of a live secret. A name
#   close to an expected one (the tutorial's jupyterhub_cookie_secretl) usually
#   means a secret was written to the wrong file and the real one was left
#   empty or missing; any other entry may hold a stray copy of a secret. The
#   fix moves the entry out (to /root/hubsecrets-moved/), losing nothing; only
#   a file that holds a copy of a live secret is removed, after rotating.
#   The hub's own files (its database) are not reported here (HUB059).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub040
#     description: HUB040 in the rule reference
# custom:
#   id: HUB040
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), e.path, msg, unexpected_fix(e)) if {
	not secrets_dir_is_system # HUB006
	some e in array.concat(input.unexpected, parent_copies)
	not e in image_secret_copies
	not hub_runtime_file(e)
	not exposed_copy(e)
	msg := sprintf("%s.", [unexpected_why(e)])
}

# METADATA
# title: Hub database or log readable by every user
# description: >-
#   The hub keeps its database (jupyterhub.sqlite and its -journal, -wal and
#   -shm files) or its log beside the secrets, and every user on the host can
#   read it: the database holds users, API tokens and server state. The pid
#   file is public and not judged.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub059
#     description: HUB059 in the rule reference
# custom:
#   id: HUB059
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), e.path, msg, fix) if {
	some e in input.unexpected
	hub_runtime_file(e)
	e.name != "jupyterhub-proxy.pid"
	other_bits(e.mode) != 0
	msg := sprintf(
		"%s is %s, and its mode %s lets every user on the host %s it.",
		[show(e.path), hub_file_what(e.name), mode_text(e.mode), other_access(e.mode)],
	)
	fix := sprintf("sudo chmod o-rwx %s", [sh(e.path)])
}

# parent_copies are the files beside the secrets directory (in its parent,
# e.g. /srv, not recursively) that hold a copy of a live secret.
parent_copies := object.get(input, ["parent", "copies"], [])

# copy_of is the Files key of the live secret an entry holds a copy of
# (the collector compares small files), or "".
copy_of(e) := object.get(e, "copy_of", "")

# rotate_and_remove: the copy's bytes are the secret, so the secret is
# replaced first, then the copy removed. In an image no secret is made:
# the image is rebuilt clean, as for the secret itself (HUB030).
rotate_and_remove(e) := rebuild_fix(e.path) if {
	profile == "image"
} else := sprintf("%s && sudo rm %s", [rotate, sh(e.path)])

moved_dir := "/root/hubsecrets-moved"

# unexpected_fix never deletes anything but a copy of a live secret: any
# other entry is moved out of the secrets directory, mv -i asking before it
# replaces anything already moved there.
unexpected_fix(e) := rotate_and_remove(e) if {
	copy_of(e) != ""
} else := sprintf("sudo mkdir -p -m 0700 %s && sudo mv -i %s %s/ # then delete it once you know it holds nothing you need", [moved_dir, sh(e.path), moved_dir])

unexpected_why(e) := sprintf(
	"%s holds a copy of the live %s (the value JupyterHub reads); it is no more exposed than the secret today, but it is one more place the secret can leak from (backups, a later chmod)",
	[show(e.name), secret_name[copy_of(e)]],
) if {
	copy_of(e) != ""
} else := sprintf(
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

# exposed_copy: a copy of a live secret that someone the secret itself keeps
# out can reach.
exposed_copy(e) if {
	copy_of(e) != ""
	count(copy_exposure(e, input.files[copy_of(e)])) > 0
}

# copy_exposure lists who can reach a copy but not the secret it copies.
copy_exposure(e, live) := [r |
	some kind in ["other", "group", "owner"]
	r := copy_exposed(e, live, kind)
]

copy_exposed(e, live, "other") := sprintf("its mode %s lets every user on the host %s it", [mode_text(e.mode), other_access(e.mode)]) if {
	bits.and(other_bits(e.mode), bits.negate(other_bits(live.mode))) != 0
}

copy_exposed(e, live, "group") := sprintf("its mode %s lets members of group %s %s it", [mode_text(e.mode), group_text(e), group_access(e.mode)]) if {
	group_bits(e.mode) != 0
	some_group_gain(e, live)
}

copy_exposed(e, live, "owner") := sprintf("it belongs to %s, not to the secret's owner %s", [owner_text(e), owner_text(live)]) if {
	e.uid != live.uid
}

some_group_gain(e, live) if e.gid != live.gid

some_group_gain(e, live) if bits.and(group_bits(e.mode), bits.negate(group_bits(live.mode))) != 0

# other_access says what a mode lets everyone else do.
other_access(m) := "read and change" if {
	bits.and(m, 6) == 6
} else := "read" if {
	bits.and(m, 4) != 0
} else := "change" if {
	bits.and(m, 2) != 0
} else := "execute"

# Known hub files: what JupyterHub itself keeps beside its secrets when it
# runs from the secrets directory. Never reported as unexpected, never
# deleted by a fix.
hub_database_names := {"jupyterhub.sqlite", "jupyterhub.sqlite-journal", "jupyterhub.sqlite-wal", "jupyterhub.sqlite-shm"}

hub_file_names := hub_database_names | {"jupyterhub-proxy.pid", "jupyterhub.log"}

hub_runtime_file(e) if {
	e.name in hub_file_names
	e.type == "file"
	copy_of(e) == ""
}

hub_file_what(name) := "the hub's database (users, API tokens, server state)" if {
	name in hub_database_names
} else := "the hub's log (URLs with tokens, user names)"

# observed_files are all the files the facts describe, for HUB041 and HUB042.
observed_files := array.concat(
	array.concat([input.dir, contract], [f | some f in input.files]),
	[f | some f in input.firstboot],
)

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
