package hubsecrets_test

test_good_image_has_no_findings if {
	count(denies(good_image)) == 0
	count(warns(good_image)) == 0
}

test_hub030_secret_in_image if {
	doc := set(good_image, "/files/proxy_token", good_instance.files.proxy_token)
	f := the(denies(doc), "HUB030")
	f.path == "/srv/jupyterhub/proxy_auth_token"
	contains(f.msg, "every instance made from it would share it")
	contains(f.msg, "jupyterhub-secrets.service")
	contains(f.fix, "rebuild the image from a clean base")
	contains(f.fix, "leaves its blocks in the disk image")
}

test_hub030_empty_or_symlink_still_present if {
	doc := set(good_image, "/files/cookie_secret", merge(missing("/srv/jupyterhub/jupyterhub_cookie_secret"), {"exists": true, "type": "symlink"}))
	f := the(denies(doc), "HUB030")
	contains(f.msg, "(a symlink)")
}

test_hub030_not_in_instance_profile if {
	not "HUB030" in ids(denies(good_instance))
}

test_hub031_stamp_in_image if {
	doc := set(good_image, "/firstboot/stamp", good_instance.firstboot.stamp)
	f := the(warns(doc), "HUB031")
	f.path == "/srv/jupyterhub/.hubsecrets-instance"
	startswith(f.fix, "sudo rm /srv/jupyterhub/.hubsecrets-instance")
}

test_hub031_not_in_instance_profile if {
	not "HUB031" in ids(warns(good_instance))
}

test_hub032_machine_id_in_image if {
	f := the(denies(set(good_image, "/machine_id/state", "initialized")), "HUB032")
	startswith(f.fix, "sudo truncate -s 0 /etc/machine-id  # ")
	contains(f.fix, "cloud-init clean --machine-id")
	not "HUB032" in ids(warns(set(good_image, "/machine_id/state", "initialized")))
}

test_hub032_not_for_empty_or_uninitialized if {
	not "HUB032" in ids(denies(good_image))
	not "HUB032" in ids(denies(set(good_image, "/machine_id/state", "uninitialized")))
	not "HUB032" in ids(denies(good_instance))
}

test_hub033_unit_missing if {
	doc := set(good_image, "/firstboot/unit", missing("/etc/systemd/system/jupyterhub-secrets.service"))
	f := the(denies(doc), "HUB033")
	contains(f.msg, "first-boot unit /etc/systemd/system/jupyterhub-secrets.service is missing")
	contains(f.fix, "jupyterhub-secrets provisioner")
	not contains(f.fix, "hubsecrets init")
}

test_hub033_not_enabled if {
	doc := set(good_image, "/firstboot/enabled_link", missing("/etc/systemd/system/multi-user.target.wants/jupyterhub-secrets.service"))
	f := the(denies(doc), "HUB033")
	f.fix == "sudo systemctl enable jupyterhub-secrets.service"
}

test_hub033_link_to_elsewhere if {
	doc := set(good_image, "/firstboot/enabled_link/link_target", "/dev/null")
	f := the(denies(doc), "HUB033")
	contains(f.msg, "points to /dev/null")
	f.fix == "sudo systemctl reenable jupyterhub-secrets.service"
}

test_hub033_relative_link_is_fine if {
	doc := set(good_image, "/firstboot/enabled_link/link_target", "../jupyterhub-secrets.service")
	not "HUB033" in ids(denies(doc))
}

test_hub033_dropin_wrong_type if {
	doc := merge(good_image, {"firstboot": {"hub_dropin": {"type": "dir"}}})
	f := the(denies(doc), "HUB033")
	contains(f.msg, "is a directory, not a regular file")
	contains(f.msg, "jupyterhub.service does not wait for the secrets")
}

test_hub033_not_required_on_instance if {
	not "HUB033" in ids(denies(tutorial))
}

test_hub033_require_firstboot_param if {
	"HUB033" in ids(denies_with(tutorial, {"require_firstboot": true}))
	doc := set(good_image, "/firstboot/unit", missing("/etc/systemd/system/jupyterhub-secrets.service"))
	not "HUB033" in ids(denies_with(doc, {"require_firstboot": false}))
}

test_hub034_script_writable if {
	f := the(denies(merge(good_instance, {"firstboot": {"script": {"mode": mode_0777}}})), "HUB034")
	contains(f.msg, "first-boot script")
	f.fix == "sudo chmod go-w /usr/local/libexec/hubsecrets/jupyterhub-secrets"
}

test_hub034_unit_not_root if {
	doc := merge(good_image, {"firstboot": {"unit": {"owner": "builder", "uid": 1000}}})
	f := the(denies(doc), "HUB034")
	contains(f.msg, "owned by builder, not root")
	f.fix == "sudo chown root /etc/systemd/system/jupyterhub-secrets.service"
}

test_hub034_not_for_root_0644 if {
	not "HUB034" in ids(denies(good_instance))
	not "HUB034" in ids(denies(good_image))
}

test_hub037_secret_copy_in_image if {
	doc := set(good_image, "/unexpected", [{
		"name": "jupyterhub_cookie_secret.bak",
		"path": "/srv/jupyterhub/jupyterhub_cookie_secret.bak",
		"type": "file", "size": 65,
		"resembles": "jupyterhub_cookie_secret", "resembles_key": "cookie_secret",
	}])
	f := the(denies(doc), "HUB037")
	contains(f.msg, "copy of the cookie secret")
	not "HUB040" in ids(warns(doc))
}

test_hub037_not_on_instance_or_for_dhparam_copy if {
	not "HUB037" in ids(denies(tutorial))
	doc := set(good_image, "/unexpected", [{
		"name": "dhparam.pem.old", "path": "/srv/jupyterhub/dhparam.pem.old",
		"type": "file", "size": 424,
		"resembles": "dhparam.pem", "resembles_key": "dhparam",
	}])
	not "HUB037" in ids(denies(doc))
	"HUB040" in ids(warns(doc))
}

test_hub061_no_systemd if {
	doc := merge(good_image, {"systemd": {"present": false, "hub_unit_file": ""}})
	f := the(warns(doc), "HUB061")
	contains(f.msg, "never runs")
}

test_hub061_not_with_systemd if {
	doc := merge(good_image, {"systemd": {"present": true, "hub_unit_file": "/lib/systemd/system/jupyterhub.service"}})
	not "HUB061" in ids(warns(doc))
	not "HUB062" in ids(warns(doc))
}

test_hub062_no_hub_unit if {
	doc := merge(good_image, {"systemd": {"present": true, "hub_unit_file": ""}})
	"HUB062" in ids(warns(doc))
	not "HUB062" in ids(warns(merge(good_instance, {"systemd": {"present": true, "hub_unit_file": ""}})))
}

test_hub062_not_with_the_hub_unit if {
	doc := merge(good_image, {"systemd": {"present": true, "hub_unit_file": "/etc/systemd/system/jupyterhub.service"}})
	not "HUB062" in ids(warns(doc))
}

test_hub034_hook_dir_writable if {
	doc := set(good_image, "/firstboot_dirs/0/mode", mode_0777)
	f := the(denies(doc), "HUB034")
	f.path == "/usr/local/libexec/hubsecrets"
	contains(f.msg, "has mode 0777")
	f.fix == "sudo chmod go-w /usr/local/libexec/hubsecrets"
}

test_hub034_hook_parent_not_root if {
	doc := patch(good_instance, [
		{"op": "replace", "path": "/firstboot_dirs/2/uid", "value": 50},
		{"op": "replace", "path": "/firstboot_dirs/2/owner", "value": "staff"},
		{"op": "replace", "path": "/firstboot_dirs/2/mode", "value": mode_0775},
	])
	fs := only(denies(doc), "HUB034")
	count(fs) == 2
	some f in fs
	f.fix == "sudo chown root /usr/local"
	some g in fs
	g.fix == "sudo chmod go-w /usr/local"
}

test_hub034_not_for_missing_or_linked_dirs if {
	doc := patch(good_image, [
		{"op": "replace", "path": "/firstboot_dirs/0", "value": missing("/usr/local/libexec/hubsecrets")},
		{"op": "replace", "path": "/firstboot_dirs/1/type", "value": "symlink"},
		{"op": "replace", "path": "/firstboot_dirs/1/mode", "value": mode_0777},
	])
	not "HUB034" in ids(denies(doc))
}

test_hub060_stub_script if {
	doc := set(good_image, "/firstboot/script/sha256", "ae6c63cff33bcfa3b6a2d6d0c9dd19521dedaa351146b1a642d2bfc9cf5a1e1f")
	f := the(denies(doc), "HUB060")
	f.path == "/usr/local/libexec/hubsecrets/jupyterhub-secrets"
	contains(f.msg, "has SHA-256 ae6c63cf")
	contains(f.msg, sprintf("not %s as the host's contract /etc/hubsecrets/params.json records", [script_sha256]))
	f.fix == "sudo hubsecrets firstboot render --root / --dir /srv/jupyterhub --hub-unit jupyterhub.service --dir-mode 0755  # reinstalls the script, unit and drop-in and records the script's digest; or rerun the jupyterhub-secrets provisioner"
}

test_hub060_no_contract_or_no_digest if {
	f := the(denies(set(good_image, "/contract", missing("/etc/hubsecrets/params.json"))), "HUB060")
	contains(f.msg, "cannot be verified: the host's contract /etc/hubsecrets/params.json, which records the installed script's SHA-256, is missing")
	f.fix == "sudo hubsecrets firstboot render --root / --dir /srv/jupyterhub --hub-unit jupyterhub.service  # reinstalls the script, unit and drop-in and records the script's digest; or rerun the jupyterhub-secrets provisioner"
	g := the(denies(set(good_image, "/contract/host", {"dir": "/data/hub"})), "HUB060")
	contains(g.msg, "records no script digest")
	startswith(g.fix, "sudo hubsecrets firstboot render --root / --dir /data/hub --hub-unit jupyterhub.service  #")
	h := the(denies(patch(good_image, [{"op": "remove", "path": "/firstboot/script/sha256"}])), "HUB060")
	contains(h.msg, "larger than 256 KiB")
}

test_hub060_not_for_the_installed_script if {
	not "HUB060" in ids(denies(good_image))
	not "HUB060" in ids(denies(good_instance)) # the instance profile
	not "HUB060" in ids(denies(set(good_image, "/firstboot/script", missing("/usr/local/libexec/hubsecrets/jupyterhub-secrets"))))
	not "HUB060" in ids(denies(merge(good_image, {"firstboot": {"script": {"error": "permission denied"}}})))
}

test_hub063_dbus_machine_id_file if {
	doc := set(good_image, "/identity/dbus_machine_id", object.union(root_file("/var/lib/dbus/machine-id", mode_0644), {"size": 33}))
	f := the(denies(doc), "HUB063")
	contains(f.msg, "is a regular file (33 bytes), not a link to /etc/machine-id")
	f.fix == "sudo ln -sfn /etc/machine-id /var/lib/dbus/machine-id"
	g := the(denies(set(good_image, "/identity/dbus_machine_id/link_target", "/var/lib/dbus/other")), "HUB063")
	contains(g.msg, "a symlink to /var/lib/dbus/other")
	h := the(denies(set(good_image, "/identity/dbus_machine_id/type", "dir")), "HUB063")
	h.fix == "sudo rm -r /var/lib/dbus/machine-id && sudo ln -s /etc/machine-id /var/lib/dbus/machine-id"
}

test_hub063_not_for_a_link_or_nothing if {
	not "HUB063" in ids(denies(good_image))
	not "HUB063" in ids(denies(set(good_image, "/identity/dbus_machine_id/link_target", "../../../etc/machine-id")))
	not "HUB063" in ids(denies(set(good_image, "/identity/dbus_machine_id", missing("/var/lib/dbus/machine-id"))))
	not "HUB063" in ids(denies(set(good_instance, "/identity/dbus_machine_id", root_file("/var/lib/dbus/machine-id", mode_0644))))
	not "HUB063" in ids(denies(object.remove(good_image, ["identity"])))
}

test_hub064_cloud_init_record if {
	doc := patch(good_image, [
		{"op": "replace", "path": "/identity/cloud_instance_id", "value": root_file("/var/lib/cloud/data/instance-id", mode_0644)},
		{"op": "replace", "path": "/identity/cloud_instance_link", "value": object.union(
			root_file("/var/lib/cloud/instance", mode_0777),
			{"type": "symlink", "link_target": "/var/lib/cloud/instances/i-0123"},
		)},
	])
	f := at(denies(doc), "HUB064", "/var/lib/cloud/data/instance-id")
	contains(f.msg, "cloud-init's record of the last instance's id (a regular file)")
	startswith(f.fix, "sudo rm -f /var/lib/cloud/data/instance-id  # ")
	g := at(denies(doc), "HUB064", "/var/lib/cloud/instance")
	startswith(g.fix, "sudo rm -f /var/lib/cloud/instance  # ")
	count(only(denies(doc), "HUB064")) == 2
}

test_hub064_not_without_record_or_on_instance if {
	not "HUB064" in ids(denies(good_image))
	not "HUB064" in ids(denies(set(good_instance, "/identity/cloud_instance_id", root_file("/var/lib/cloud/data/instance-id", mode_0644))))
}
