# The instance the secrets belong to (input.instance): on a running system,
# the identity the first-boot script reads (cloud-init's instance-id, the
# DMI product UUID, the machine-id, each only when it tells instances apart)
# and the stamp the script records beside the secrets. The script replaces
# both secrets when the stamp is absent or records another instance; these
# rules say so before it happens.
package hubsecrets

instance := object.get(input, "instance", {"live": false, "source": "", "stamp": "absent"})

# identity_known: a running system whose identity the script can read.
identity_known if {
	profile == "instance"
	instance.live
	instance.source != ""
}

secrets_present if {
	some key in secret_keys
	input.files[key].type == "file"
}

stamp_path := object.get(input.firstboot, ["stamp", "path"], "the instance stamp")

# METADATA
# title: Secrets made for another instance
# description: >-
#   The stamp beside the secrets records another instance than the one
#   running: the secrets were copied from another machine (a clone, or an
#   image that held them), which knows them too. The first-boot hook replaces
#   them at the next boot; until then both machines share them.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub038
#     description: HUB038 in the rule reference
# custom:
#   id: HUB038
#   severity: deny
#   profile: instance (running system)
deny contains finding(rego.metadata.rule(), stamp_path, msg, rotate) if {
	identity_known
	instance.stamp == "differs"
	secrets_present
	msg := sprintf(
		"The secrets in %s were made for another instance than this one (identified by %s): they were copied from another machine, which knows them too. The first-boot hook replaces them at the next boot.",
		[show(input.dir.path), show(instance.source)],
	)
}

# METADATA
# title: Secrets not recorded for this instance
# description: >-
#   The first-boot hook is installed, this instance has an identity, and no
#   stamp says the secrets were made for it: the hook will replace them at
#   the next boot, logging every user out. Secrets made on this machine by
#   hand are recorded by hubsecrets init, which keeps them.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub039
#     description: HUB039 in the rule reference
# custom:
#   id: HUB039
#   severity: deny
#   profile: instance (running system)
deny contains finding(rego.metadata.rule(), stamp_path, msg, "sudo hubsecrets init") if {
	identity_known
	instance.stamp == "absent"
	input.firstboot.unit.exists
	secrets_present
	msg := sprintf(
		"No stamp records the instance the secrets in %s belong to, so the first-boot hook will replace them at the next boot (identity from %s), logging every user out. If they were made on this machine, hubsecrets init records it and keeps them.",
		[show(input.dir.path), show(instance.source)],
	)
}
