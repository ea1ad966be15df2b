package hubsecrets_test

import data.hubsecrets

with_stamp(doc, state) := merge(doc, {"instance": object.union(doc.instance, {"stamp": state})})

test_hub038_stamp_of_another_instance if {
	f := the(denies(with_stamp(live_instance, "differs")), "HUB038")
	f.path == "/srv/jupyterhub/.hubsecrets-instance"
	f.fix == "sudo hubsecrets init --rotate"
}

test_hub038_not_when_matching_or_offline if {
	not "HUB038" in ids(denies(live_instance))

	# offline (an archive, a mounted disk): the boot's identity is not there
	offline := merge(with_stamp(live_instance, "differs"), {"instance": {"live": false, "source": "", "skipped": [], "stamp": "present"}})
	not "HUB038" in ids(denies(offline))

	# no identity: the hook keeps valid secrets, and so does the policy
	none := merge(with_stamp(live_instance, "differs"), {"instance": {"live": true, "source": "", "skipped": [], "stamp": "present"}})
	not "HUB038" in ids(denies(none))
}

test_hub039_hook_installed_no_stamp if {
	f := the(denies(with_stamp(live_instance, "absent")), "HUB039")
	f.fix == "sudo hubsecrets init"
}

test_hub039_not_without_hook if {
	doc := set(with_stamp(live_instance, "absent"), "/firstboot/unit", missing("/etc/systemd/system/jupyterhub-secrets.service"))
	not "HUB039" in ids(denies(doc))
	not "HUB039" in ids(denies(live_instance))
}
