# The host's contract (input.contract): the parameters in force for this host
# or image, in /etc/hubsecrets/params.json, written by the provisioner, by
# `hubsecrets init` and by `hubsecrets firstboot render`. params.rego merges
# its parameters under the site's --data; these rules say when it cannot be
# used.
package hubsecrets

contract := object.get(input, "contract", {"exists": false, "path": "/etc/hubsecrets/params.json"})

# METADATA
# title: Host parameters file invalid
# description: >-
#   The host's parameters file (/etc/hubsecrets/params.json) holds parameters
#   the policy does not accept: an unknown name, a wrong type, or a value
#   weaker than the policy's floors. The defaults (and --data) were used
#   instead, which may not be what the host was made with.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub008
#     description: HUB008 in the rule reference
# custom:
#   id: HUB008
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), contract.path, msg, fix) if {
	contract.exists
	not unchecked(contract)
	problems := param_problems(object.get(contract, "params", {})) | contract_trust_problems
	count(problems) > 0
	msg := sprintf(
		"The host's parameters file %s is not valid, so the defaults were used instead: %s.",
		[show(contract.path), concat("; ", sort(problems))],
	)
	fix := sprintf("%ssudo hubsecrets init  # rewrites %s from the defaults, its flags and --data", [contract_aside, sh(contract.path)])
}

# METADATA
# title: Scanned directory is not the host's
# description: >-
#   The host's parameters file names another secrets directory than the one
#   that was checked: the files that matter on this host were not looked at.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub009
#     description: HUB009 in the rule reference
# custom:
#   id: HUB009
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), contract.path, msg, fix) if {
	contract.exists
	not unchecked(contract)
	want := contract.host.dir
	want != input.dir.path
	msg := sprintf(
		"The host's parameters file %s is for the secrets directory %s, but %s was checked.",
		[show(contract.path), show(want), show(input.dir.path)],
	)
	fix := sprintf(
		"sudo hubsecrets init --dir %s  # records %s as this host's secrets directory; if %s is, check that instead: hubsecrets check --dir %s",
		[sh(input.dir.path), show(input.dir.path), show(want), sh(want)],
	)
}

# contract_aside moves a contract that is not a regular file out of the way
# of hubsecrets init, which refuses to replace it.
default contract_aside := ""

contract_aside := concat("", [move_aside(contract.path), " && "]) if {
	contract.exists
	contract.type != "file"
}

# contract_trust_problems say why the file cannot be trusted to set the
# parameters: whoever can change it decides what passes.
contract_trust_problems contains msg if {
	contract.exists
	contract.type != "file"
	msg := sprintf("it is %s, not a regular file", [type_text(contract)])
}

contract_trust_problems contains msg if {
	contract.type == "file"
	contract.uid != 0
	msg := sprintf("it is owned by %s, not root, and whoever can change it decides what passes", [owner_text(contract)])
}

contract_trust_problems contains msg if {
	contract.type == "file"
	group_other_write(contract.mode) != 0
	msg := sprintf("its mode %s lets others than its owner change it, and so decide what passes", [mode_text(contract.mode)])
}
