# A site rule for the acceptance test: this site keeps the secrets
# directory closed to other users.
package site.hub

# METADATA
# title: Secrets directory closed to others
# description: This site keeps the secrets directory at 0750 or stricter.
# custom:
#   id: SITE001
#   severity: deny
deny contains {"id": rego.metadata.rule().custom.id, "path": input.dir.path, "msg": msg, "fix": fix} if {
	input.dir.exists
	bits.and(input.dir.mode, 7) != 0
	msg := sprintf("%s has mode %s: this site keeps it closed to other users", [input.dir.path, input.dir.mode_octal])
	fix := "set directory_mode = \"0750\" in the jupyterhub-secrets provisioner"
}
