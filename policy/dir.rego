# The secrets directory itself (input.dir), in both profiles.
package hubsecrets

dir := input.dir

# make_dir_fix makes the directory with mkdir and chown, which busybox has
# too (it has no install).
make_dir_fix := sprintf("sudo mkdir -p -m 0755 %s && sudo chown %s %s", [sh(dir.path), sh(cfg.dir_owner), sh(dir.path)])

# METADATA
# title: Secrets directory missing
# description: >-
#   The secrets directory (/srv/jupyterhub by default) does not exist, so
#   neither the secrets nor nginx's DH parameters can be where JupyterHub and
#   nginx are told to read them.
# custom:
#   id: HUB001
#   severity: deny
deny contains finding(rego.metadata.rule(), dir.path, msg, make_dir_fix) if {
	not dir.exists
	not unchecked(dir)
	msg := sprintf("The secrets directory %s does not exist.", [show(dir.path)])
}

# METADATA
# title: Secrets directory is a symlink
# description: >-
#   The secrets directory is a symbolic link. hubsecrets does not follow it,
#   but JupyterHub and nginx do: whoever can change the link, or any directory
#   on the way to its target, decides which secrets they read.
# custom:
#   id: HUB002
#   severity: deny
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "symlink"
	msg := sprintf(
		"The secrets directory %s is a symlink to %s. hubsecrets does not follow it, but JupyterHub and nginx would, so whoever controls the target controls the secrets; the files behind it were not checked.",
		[show(dir.path), show(dir.link_target)],
	)
	fix := sprintf("sudo rm %s && %s  # the next check's fixes make the files in it", [sh(dir.path), make_dir_fix])
}

# METADATA
# title: Secrets directory is not a directory
# description: >-
#   Something other than a directory (a regular or special file) is where the
#   secrets directory should be.
# custom:
#   id: HUB003
#   severity: deny
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.exists
	not dir.type in {"dir", "symlink"}
	msg := sprintf("%s should be the secrets directory but is %s.", [show(dir.path), type_text(dir)])
	fix := sprintf("%s && %s", [move_aside(dir.path), make_dir_fix])
}

# METADATA
# title: Secrets directory writable by group or others
# description: >-
#   Anyone who can write to the secrets directory can replace or delete the
#   secrets in it, or plant their own before JupyterHub creates one, whatever
#   the files' own modes say.
# custom:
#   id: HUB004
#   severity: deny
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "dir"
	group_other_write(dir.mode) != 0
	msg := sprintf(
		"The secrets directory %s has mode %s: users other than its owner can replace or delete the secrets in it.",
		[show(dir.path), mode_text(dir.mode)],
	)
	fix := sprintf("sudo chmod go-w %s", [sh(dir.path)])
}

# METADATA
# title: Secrets directory has the wrong owner
# description: >-
#   The owner of the secrets directory can replace the secrets in it. It must
#   be the dir_owner parameter (root by default).
# custom:
#   id: HUB005
#   severity: deny
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "dir"
	not owner_is(dir, cfg.dir_owner)
	msg := sprintf(
		"The secrets directory %s is owned by %s, not %s: that user can replace the secrets in it.",
		[show(dir.path), owner_text(dir), cfg.dir_owner],
	)
	fix := sprintf("sudo chown %s %s", [sh(cfg.dir_owner), sh(dir.path)])
}
