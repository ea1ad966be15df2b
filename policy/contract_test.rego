package hubsecrets_test

import data.hubsecrets

contract_file(params) := object.union(root_file("/etc/hubsecrets/params.json", 420), {
	"params": params,
	"host": {"dir": "/srv/jupyterhub", "dir_mode": "0755", "hub_unit": "jupyterhub.service"},
})

with_contract(doc, params) := merge(doc, {"contract": contract_file(params)})

test_hub008_invalid_params if {
	doc := with_contract(good_instance, {"min_dh_bits": 1024, "colour": "red"})
	f := the(denies(doc), "HUB008")
	f.path == "/etc/hubsecrets/params.json"
	contains(f.msg, "min_dh_bits: 1024 is below 2048")
	contains(f.msg, "colour: unknown parameter")
}

test_hub008_writable_contract_not_trusted if {
	doc := merge(good_instance, {"contract": object.union(contract_file({"owner": "nobody"}), {"mode": 438})})
	f := the(denies(doc), "HUB008")
	contains(f.msg, "its mode 0666 lets others")

	# an untrusted contract sets nothing: the secrets are judged as root's
	not "HUB014" in ids(denies(doc))
}

test_hub008_contract_not_a_file_is_moved_aside if {
	doc := merge(good_instance, {"contract": object.union(contract_file({}), {"type": "dir", "mode": 493})})
	f := the(denies(doc), "HUB008")
	contains(f.msg, "it is a directory, not a regular file")
	f.fix == `sudo mv /etc/hubsecrets/params.json "$(sudo mktemp -d /etc/hubsecrets/params.json.old.XXXXXX)" && sudo hubsecrets init  # rewrites /etc/hubsecrets/params.json from the defaults, its flags and --data`
	g := the(denies(with_contract(good_instance, {"colour": "red"})), "HUB008")
	startswith(g.fix, "sudo hubsecrets init  # ")
}

test_hub008_not_for_valid_contract if {
	doc := with_contract(good_instance, {"owner": "root", "min_dh_bits": 2048})
	not "HUB008" in ids(denies(doc))
	not "HUB008" in ids(denies(good_instance))
}

test_contract_params_in_force if {
	# the contract says the hub's user owns the secrets: root's are wrong now
	doc := with_contract(good_instance, {"owner": "jupyterhub"})
	"HUB014" in ids(denies(doc))

	# and --data still wins over the contract
	not "HUB014" in ids(denies_with(doc, {"owner": "root"}))
}

test_hub009_other_directory if {
	doc := merge(good_instance, {"contract": object.union(contract_file({}), {"host": {"dir": "/opt/hub"}})})
	f := the(denies(doc), "HUB009")
	f.fix == "sudo hubsecrets init --dir /srv/jupyterhub  # records /srv/jupyterhub as this host's secrets directory; if /opt/hub is, check that instead: hubsecrets check --dir /opt/hub"
}

test_hub009_not_for_same_directory if {
	not "HUB009" in ids(denies(with_contract(good_instance, {})))
}
