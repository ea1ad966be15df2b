# The secrets directory itself (input.dir), in both profiles.
package hubsecrets

dir := input.dir

# make_dir_fix makes the directory with mkdir and chown, which busybox has
# too (it has no install).
make_dir_fix := sprintf("sudo mkdir -p -m 0755 %s && sudo chown %s %s", [sh(dir.path), sh(cfg.dir_owner), sh(dir.path)])

# METADATA
# scope: document
# title: Denials
# description: >-
#   The findings that fail a check (exit 1): a set of {id, path, msg, fix},
#   each rule body documented by its own METADATA.
# entrypoint: true

# METADATA
# title: Secrets directory missing
# description: >-
#   The secrets directory (/srv/jupyterhub by default) does not exist, so
#   neither the secrets nor nginx's DH parameters can be where JupyterHub and
#   nginx are told to read them.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub001
#     description: HUB001 in the rule reference
# custom:
#   id: HUB001
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, make_dir_fix) if {
	not dir.exists
	not secrets_dir_is_system
	not unchecked(dir)
	msg := sprintf("The secrets directory %s does not exist.", [show(dir.path)])
}

# METADATA
# title: Secrets directory is a symlink
# description: >-
#   The secrets directory is a symbolic link. hubsecrets does not follow it,
#   but JupyterHub and nginx do: whoever can change the link, or any directory
#   on the way to its target, decides which secrets they read.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub002
#     description: HUB002 in the rule reference
# custom:
#   id: HUB002
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "symlink"
	not secrets_dir_is_system
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
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub003
#     description: HUB003 in the rule reference
# custom:
#   id: HUB003
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.exists
	not dir.type in {"dir", "symlink"}
	not secrets_dir_is_system
	msg := sprintf("%s should be the secrets directory but is %s.", [show(dir.path), type_text(dir)])
	fix := sprintf("%s && %s", [move_aside(dir.path), make_dir_fix])
}

# METADATA
# title: Secrets directory writable by group or others
# description: >-
#   Anyone who can write to the secrets directory can replace or delete the
#   secrets in it, or plant their own before JupyterHub creates one, whatever
#   the files' own modes say.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub004
#     description: HUB004 in the rule reference
# custom:
#   id: HUB004
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "dir"
	group_other_write(dir.mode) != 0
	not secrets_dir_is_system
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
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub005
#     description: HUB005 in the rule reference
# custom:
#   id: HUB005
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	dir.type == "dir"
	not owner_is(dir, cfg.dir_owner)
	not secrets_dir_is_system
	msg := sprintf(
		"The secrets directory %s is owned by %s, not %s: that user can replace the secrets in it.",
		[show(dir.path), owner_text(dir), cfg.dir_owner],
	)
	fix := sprintf("sudo chown %s %s", [sh(cfg.dir_owner), sh(dir.path)])
}

# METADATA
# title: Secrets directory is a system directory
# description: >-
#   The secrets directory is a system directory (/, /etc, /root, /usr,
#   /var/lib, ...) or lies below one that does not keep files for the hub
#   (/tmp, /var/tmp, /run, /dev, /proc, /sys). hubsecrets would set its mode
#   and owner, the first-boot unit could write all of it, and the secrets
#   would sit among other programs' files, or vanish.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub006
#     description: HUB006 in the rule reference
# custom:
#   id: HUB006
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), dir.path, msg, fix) if {
	why := system_dir_problem(dir.path)
	msg := sprintf(
		"The secrets directory %s %s: it must be a directory of its own, such as /srv/jupyterhub.",
		[show(dir.path), why],
	)
	fix := "sudo install -d -m 0755 -o root /srv/jupyterhub  # a directory of its own; then point the hub (cookie_secret_file), nginx (ssl_dhparam) and hubsecrets (--dir, the provisioner's directory) at it"
}

# METADATA
# title: Parent of the secrets directory changeable by others
# description: >-
#   A directory on the way to the secrets directory (each directory its path
#   resolves through, up to /, including those holding a symlink followed on
#   the way) is not owned by root or the dir_owner parameter, or is writable
#   by group or others without the sticky bit. Whoever can write it can
#   rename the secrets directory away and put their own in its place.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub007
#     description: HUB007 in the rule reference
# custom:
#   id: HUB007
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), p.path, msg, fix) if {
	some p in object.get(dir, "parents", [])
	p.type == "dir"
	not p.error
	problems := [why | some why in parent_problems(p)]
	count(problems) > 0
	msg := sprintf(
		"%s, a directory on the way to the secrets directory %s, %s: whoever controls it can rename the secrets directory away and put their own in its place.",
		[show(p.path), show(dir.path), concat(" and ", problems)],
	)
	fix := concat(" && ", [f | some f in parent_fixes(p)])
}

# system_dirs are directories the system and other programs own: a secrets
# directory there would change their mode and owner, open them to the
# first-boot unit (ReadWritePaths=), and mix the secrets with others' files.
system_dirs := {
	"/", "/root", "/etc", "/usr", "/var", "/tmp", "/home", "/boot", "/run",
	"/dev", "/proc", "/sys", "/bin", "/sbin", "/lib", "/lib64", "/opt",
	"/srv", "/mnt", "/media", "/usr/local", "/var/lib", "/var/tmp", "/var/log",
}

# volatile_dirs are emptied at boot, made by the kernel, or private to each
# service (the first-boot unit has PrivateTmp=yes): nothing below them
# stays where the hub reads it.
volatile_dirs := ["/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run"]

system_dir_problem(p) := "is a system directory" if {
	p in system_dirs
} else := sprintf("lies below %s, which is emptied at boot, made by the kernel, or private to each service (the first-boot unit has PrivateTmp=yes)", [v]) if {
	some v in volatile_dirs
	startswith(p, concat("", [v, "/"]))
}

# secrets_dir_is_system: HUB006 says so, and no other rule on the directory
# or its entries gives a fix that would change a system directory (rm
# /bin, chmod go-w /tmp, rm /etc/passwd).
secrets_dir_is_system if system_dir_problem(dir.path)

parent_owner_ok(p) if owner_is(p, "root")

parent_owner_ok(p) if owner_is(p, cfg.dir_owner)

parent_writable(p) if {
	group_other_write(p.mode) != 0
	bits.and(p.mode, 512) == 0 # 0o1000: sticky, only owners rename
}

parent_problems(p) := {sprintf("is owned by %s, not root", [owner_text(p)]) |
	not parent_owner_ok(p)
} | {sprintf("has mode %s (writable by others, no sticky bit)", [mode_text(p.mode)]) |
	parent_writable(p)
}

parent_fixes(p) := array.concat(
	[sprintf("sudo chown root %s", [sh(p.path)]) | not parent_owner_ok(p)],
	[sprintf("sudo chmod go-w %s", [sh(p.path)]) | parent_writable(p)],
)
