# The image profile: a machine image must hold no per-instance secret, and
# must carry the first-boot hook that makes them on each instance. HUB034
# (who may change what root runs at boot) applies to both profiles.
package hubsecrets

# firstboot_required: the require_firstboot parameter, or by default only in
# the image profile.
firstboot_required if cfg.require_firstboot == true

firstboot_required if {
	cfg.require_firstboot == null
	profile == "image"
}

firstboot := input.firstboot

# unit_name is the first-boot unit's name, e.g. jupyterhub-secrets.service.
unit_name := regex.replace(firstboot.unit.path, `^.*/`, "")

rebuild_fix(path) := sprintf(
	"rebuild the image from a clean base without creating %s (do not start JupyterHub during the build); sudo rm %s alone leaves its blocks in the disk image",
	[show(path), sh(path)],
)

# METADATA
# title: Per-instance secret in the image
# description: >-
#   The image contains the cookie secret or the proxy auth token. Every
#   instance made from it would share them, so one leaked instance or image
#   snapshot exposes them all. Deleting the file is not enough: deleted blocks
#   may survive in the disk image. The first-boot hook makes the secrets on
#   each instance.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub030
#     description: HUB030 in the rule reference
# custom:
#   id: HUB030
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), f.path, msg, rebuild_fix(f.path)) if {
	profile == "image"
	some key in secret_keys
	f := input.files[key]
	f.exists
	msg := sprintf(
		"The image contains the %s %s (%s): every instance made from it would share it. The first-boot hook (%s) makes the secrets on each instance; the image must not hold them, even deleted.",
		[secret_name[key], show(f.path), present_text(f), unit_name],
	)
}

# METADATA
# title: Copy of a per-instance secret in the image
# description: >-
#   The image's secrets directory holds a non-empty file whose name looks like
#   a misspelling or copy of the cookie secret or proxy token (a backup, the
#   tutorial's jupyterhub_cookie_secretl). It may hold a secret every instance
#   would share.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub037
#     description: HUB037 in the rule reference
# custom:
#   id: HUB037
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), e.path, msg, rebuild_fix(e.path)) if {
	some e in image_secret_copies
	msg := sprintf(
		"The image contains %s (%d bytes), which looks like a misspelling or copy of the %s: if it holds a secret, every instance made from the image shares it.",
		[show(e.path), e.size, secret_name[e.resembles_key]],
	)
}

# METADATA
# title: Machine ID initialised in the image
# description: >-
#   The image's /etc/machine-id holds an ID, so every instance made from it
#   shares it (systemd, journald, DHCP client IDs), and the first-boot hook,
#   which falls back to it when there is no cloud-init instance-id or DMI
#   UUID, cannot tell the instances apart. An empty file makes systemd
#   generate a new ID at each instance's first boot.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub032
#     description: HUB032 in the rule reference
# custom:
#   id: HUB032
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), input.machine_id.path, msg, fix) if {
	profile == "image"
	input.machine_id.state == "initialized"
	msg := sprintf(
		"The image's %s is initialised: every instance made from it shares the same machine ID, and the first-boot hook, which falls back to it when there is no cloud-init instance-id or DMI UUID, cannot tell them apart.",
		[show(input.machine_id.path)],
	)
	fix := sprintf("sudo truncate -s 0 %s  # empty, not removed: systemd then makes a new ID at each instance's first boot (cloud-init clean --machine-id does the same)", [sh(input.machine_id.path)])
}

# METADATA
# title: D-Bus machine ID is not a link to /etc/machine-id
# description: >-
#   The image's /var/lib/dbus/machine-id is a file of its own (Debian's dbus
#   package writes one), not a link to /etc/machine-id. With /etc/machine-id
#   empty, systemd takes the ID from it at every boot, so every instance
#   made from the image shares one machine ID after all.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub063
#     description: HUB063 in the rule reference
# custom:
#   id: HUB063
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	profile == "image"
	f := identity.dbus_machine_id
	f.exists
	not unchecked(f)
	not dbus_links_machine_id(f)
	msg := sprintf(
		"The image's %s is %s, not a link to /etc/machine-id: with /etc/machine-id empty, systemd copies the ID from it at every boot, so every instance made from the image shares it.",
		[show(f.path), dbus_text(f)],
	)
	fix := dbus_fix(f)
}

# METADATA
# title: cloud-init's instance record in the image
# description: >-
#   The image holds cloud-init's record of the instance it last ran on
#   (/var/lib/cloud/data/instance-id, the /var/lib/cloud/instance link): the
#   build machine's. An instance whose datasource gives the same id (the
#   same NoCloud seed, DataSourceNone) is taken for the build machine, so
#   cloud-init skips its per-instance setup (host keys, users, hostname).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub064
#     description: HUB064 in the rule reference
# custom:
#   id: HUB064
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	profile == "image"
	some key, what in cloud_instance_records
	f := identity[key]
	f.exists
	not unchecked(f)
	msg := sprintf(
		"The image holds %s, %s (%s): an instance that reports the same id is taken for the build machine, and cloud-init skips its per-instance setup.",
		[show(f.path), what, type_text(f)],
	)
	fix := cloud_record_fix(f)
}

# METADATA
# title: First-boot hook missing or incomplete
# description: >-
#   Part of the first-boot hook is missing or of the wrong type: the script,
#   the jupyterhub-secrets.service unit, the link that enables it, or the hub
#   unit's drop-in that makes the hub wait for it. Without it instances do not
#   get their own secrets before the hub starts. Required in the image profile
#   (the require_firstboot parameter).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub033
#     description: HUB033 in the rule reference
# custom:
#   id: HUB033
#   severity: deny
#   profile: image (`require_firstboot`)
deny contains finding(rego.metadata.rule(), f.path, msg, fix) if {
	firstboot_required
	some key, part in firstboot_parts
	f := firstboot[key]
	not unchecked(f)
	some problem in firstboot_problems(f, part, unit_name)
	msg := sprintf("The %s %s %s: %s.", [part.name, show(f.path), problem.what, part.why])
	fix := problem.fix
}

# METADATA
# title: First-boot hook changeable by others than root
# description: >-
#   The first-boot script, unit or hub drop-in, or the script's directory or
#   one of its parents (/usr/local/libexec/hubsecrets up to /usr), is not
#   owned by root or is writable by its group or others. root runs them at
#   every boot, so whoever can change them (or replace the script in its
#   directory) runs code as root and sees every secret.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub034
#     description: HUB034 in the rule reference
# custom:
#   id: HUB034
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), problem.path, problem.msg, problem.fix) if {
	some problem in root_run_problems
}

# METADATA
# title: First-boot script is not the one installed
# description: >-
#   The first-boot script's SHA-256 is not the one the host's contract
#   (/etc/hubsecrets/params.json, host.script_sha256) records for the script
#   hubsecrets installed, or there is no contract or digest to compare it
#   with. root runs it at every boot; a stub or a changed script may make no
#   secrets, or leak them.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub060
#     description: HUB060 in the rule reference
# custom:
#   id: HUB060
#   severity: deny
#   profile: image
deny contains finding(rego.metadata.rule(), script.path, msg, reinstall_fix) if {
	profile == "image"
	script := firstboot.script
	script.type == "file"
	not unchecked(script)
	not unchecked(contract)
	why := script_digest_problem(script, contract)
	msg := sprintf("The first-boot script %s %s: nothing says it is the script hubsecrets installed, and root runs it at every boot.", [show(script.path), why])
}

# METADATA
# title: Instance stamp in the image
# description: >-
#   The image contains the first-boot hook's instance stamp, so the hook ran
#   during the build: it made secrets there, and even if they were deleted
#   their blocks may survive in the disk image.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub031
#     description: HUB031 in the rule reference
# custom:
#   id: HUB031
#   severity: warn
#   profile: image
warn contains finding(rego.metadata.rule(), stamp.path, msg, fix) if {
	profile == "image"
	stamp := firstboot.stamp
	stamp.exists
	msg := sprintf(
		"The image contains the instance stamp %s: the first-boot hook ran during the build, so it probably wrote secrets into the image, and deleted ones may survive in its free blocks.",
		[show(stamp.path)],
	)
	fix := sprintf("sudo rm %s, and rebuild from a clean base if secrets were written during the build", [sh(stamp.path)])
}

# METADATA
# title: No systemd in the image
# description: >-
#   The image has no systemd, so the first-boot unit never runs and no
#   instance gets its own secrets (the hub, or whatever starts it, makes its
#   own cookie secret and no proxy token).
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub061
#     description: HUB061 in the rule reference
# custom:
#   id: HUB061
#   severity: warn
#   profile: image
warn contains finding(rego.metadata.rule(), firstboot.unit.path, msg, fix) if {
	firstboot_required
	not systemd.present
	msg := sprintf(
		"The image has no systemd (/usr/lib/systemd/systemd), so %s never runs and instances boot without their own secrets.",
		[unit_name],
	)
	fix := "sudo apt-get install systemd-sysv  # or run /usr/local/libexec/hubsecrets/jupyterhub-secrets from the image's own init before the hub"
}

# METADATA
# title: No unit named like the hub's
# description: >-
#   The image has no unit file for the hub_unit the first-boot hook was
#   installed for: the drop-in that makes the hub wait for the secrets orders
#   nothing, and a hub started by another unit may start first.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub062
#     description: HUB062 in the rule reference
# custom:
#   id: HUB062
#   severity: warn
#   profile: image
warn contains finding(rego.metadata.rule(), firstboot.hub_dropin.path, msg, fix) if {
	firstboot_required
	systemd.present
	systemd.hub_unit_file == ""
	msg := sprintf(
		"The image has no unit file for %s, the hub unit the first-boot hook makes wait for the secrets: a hub started by another unit may start before them.",
		[input.hub_unit],
	)
	fix := "install the hub's unit before this provisioner, or set hub_unit to the unit that starts the hub (hubsecrets check --hub-unit UNIT)  # e.g. apt-get install jupyterhub"
}

present_text(f) := sprintf("%d bytes", [f.size]) if {
	f.type == "file"
} else := type_text(f)

# image_secret_copies are the unexpected entries HUB037 reports (instead of
# HUB040) in the image profile.
image_secret_copies contains e if {
	profile == "image"
	some e in input.unexpected
	e.resembles_key in secret_keys
	e.type == "file"
	e.size > 0
}

# identity is what else clones of the image would share (absent in facts
# from before it was collected).
identity := object.get(input, "identity", {})

# dbus_machine_id_target: the links that make D-Bus's machine-id
# /etc/machine-id, as systemd and Debian's dbus make it.
dbus_machine_id_targets := {"/etc/machine-id", "../../../etc/machine-id"}

dbus_links_machine_id(f) if {
	f.type == "symlink"
	f.link_target in dbus_machine_id_targets
}

dbus_text(f) := sprintf("a symlink to %s", [show(f.link_target)]) if {
	f.type == "symlink"
} else := sprintf("a regular file (%d bytes)", [f.size]) if {
	f.type == "file"
} else := type_text(f)

dbus_fix(f) := sprintf("sudo rm -r %s && sudo ln -s /etc/machine-id %s", [sh(f.path), sh(f.path)]) if {
	f.type == "dir"
} else := sprintf("sudo ln -sfn /etc/machine-id %s", [sh(f.path)])

# cloud_instance_records are cloud-init's record of the instance it last
# ran on.
cloud_instance_records := {
	"cloud_instance_id": "cloud-init's record of the last instance's id",
	"cloud_instance_link": "cloud-init's link to the last instance's directory",
}

cloud_record_fix(f) := sprintf("sudo rm -r %s  # only this record; cloud-init clean would remove all of /var/lib/cloud", [sh(f.path)]) if {
	f.type == "dir"
} else := sprintf("sudo rm -f %s  # only this record; cloud-init clean would remove all of /var/lib/cloud", [sh(f.path)])

# firstboot_parts describes the first-boot payload: what each part is for,
# the type it must have, and what to do when it is missing.
firstboot_parts := {
	"script": {
		"name": "first-boot script",
		"type": "file",
		"why": "the first-boot unit has nothing to run, so instances boot without secrets",
		"fix": "run the jupyterhub-secrets provisioner in the image build: it installs the script",
	},
	"unit": {
		"name": "first-boot unit",
		"type": "file",
		"why": "nothing makes the secrets at boot, so JupyterHub makes its own cookie secret and the proxy token is missing",
		"fix": "run the jupyterhub-secrets provisioner in the image build: it installs the unit",
	},
	"enabled_link": {
		"name": "first-boot unit's enablement link",
		"type": "symlink",
		"why": "the unit is not enabled, so it never runs",
		"fix": sprintf("sudo systemctl enable %s", [unit_name]),
	},
	"hub_dropin": {
		"name": "hub unit's drop-in",
		"type": "file",
		"why": sprintf("%s does not wait for the secrets, so the hub may start first and make its own cookie secret", [input.hub_unit]),
		"fix": "run the jupyterhub-secrets provisioner in the image build: it installs the drop-in",
	},
}

firstboot_problems(f, part, unit) := [{"what": "is missing", "fix": part.fix}] if {
	not f.exists
} else := [{"what": sprintf("is %s, not %s", [type_text(f), type_text({"type": part.type})]), "fix": fix}] if {
	f.type != part.type
	fix := sprintf("sudo rm -r %s, then: %s", [sh(f.path), part.fix])
} else := [{"what": sprintf("points to %s, not to %s", [show(f.link_target), unit]), "fix": fix}] if {
	part.type == "symlink"
	regex.replace(f.link_target, `^.*/`, "") != unit
	fix := sprintf("sudo systemctl reenable %s", [unit])
} else := []

# root_run_files are the parts of the first-boot hook root runs or reads.
root_run_files[key] := f if {
	some key in ["script", "unit", "hub_dropin"]
	f := firstboot[key]
	f.type == "file"
	not unchecked(f)
}

systemd := object.get(input, "systemd", {"present": true, "hub_unit_file": "unknown"})

# root_run_dirs are the script's directory and its parents below /.
root_run_dirs contains d if {
	some d in object.get(input, "firstboot_dirs", [])
	d.type == "dir"
	not unchecked(d)
}

root_run_problems contains {"path": f.path, "msg": msg, "fix": fix} if {
	some key, f in root_run_files
	group_other_write(f.mode) != 0
	msg := sprintf(
		"The %s %s has mode %s: users other than root can change what root runs at every boot.",
		[firstboot_parts[key].name, show(f.path), mode_text(f.mode)],
	)
	fix := sprintf("sudo chmod go-w %s", [sh(f.path)])
}

root_run_problems contains {"path": f.path, "msg": msg, "fix": fix} if {
	some key, f in root_run_files
	f.uid != 0
	msg := sprintf(
		"The %s %s is owned by %s, not root: that user can change what root runs at every boot.",
		[firstboot_parts[key].name, show(f.path), owner_text(f)],
	)
	fix := sprintf("sudo chown root %s", [sh(f.path)])
}

root_run_problems contains {"path": d.path, "msg": msg, "fix": fix} if {
	some d in root_run_dirs
	group_other_write(d.mode) != 0
	msg := sprintf(
		"The first-boot script's directory %s has mode %s: users other than root can replace the script root runs at every boot.",
		[show(d.path), mode_text(d.mode)],
	)
	fix := sprintf("sudo chmod go-w %s", [sh(d.path)])
}

root_run_problems contains {"path": d.path, "msg": msg, "fix": fix} if {
	some d in root_run_dirs
	d.uid != 0
	msg := sprintf(
		"The first-boot script's directory %s is owned by %s, not root: that user can replace the script root runs at every boot.",
		[show(d.path), owner_text(d)],
	)
	fix := sprintf("sudo chown root %s", [sh(d.path)])
}

script_digest_problem(script, host_contract) := sprintf(
	"cannot be verified: the host's contract %s, which records the installed script's SHA-256, is missing",
	[show(host_contract.path)],
) if {
	not host_contract.exists
} else := sprintf(
	"cannot be verified: the host's contract %s records no script digest",
	[show(host_contract.path)],
) if {
	object.get(host_contract, ["host", "script_sha256"], "") == ""
} else := "has no digest: it is larger than 256 KiB, far larger than the script hubsecrets installs" if {
	object.get(script, "sha256", "") == ""
} else := sprintf(
	"has SHA-256 %s, not %s as the host's contract %s records",
	[script.sha256, host_contract.host.script_sha256, show(host_contract.path)],
) if {
	script.sha256 != host_contract.host.script_sha256
}

# reinstall_fix reinstalls the payload for the directory, hub unit and mode
# the host was made with (its contract), else the ones checked.
reinstall_fix := sprintf(
	"sudo hubsecrets firstboot render --root / --dir %s --hub-unit %s%s  # reinstalls the script, unit and drop-in and records the script's digest; or rerun the jupyterhub-secrets provisioner",
	[sh(object.get(contract, ["host", "dir"], input.dir.path)), sh(input.hub_unit), dir_mode_flag],
)

default dir_mode_flag := ""

dir_mode_flag := sprintf(" --dir-mode %s", [sh(contract.host.dir_mode)]) if {
	contract.host.dir_mode != ""
}
