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
	f := the(warns(set(good_image, "/machine_id/state", "initialized")), "HUB032")
	f.fix == "sudo truncate -s0 /etc/machine-id"
	contains(f.msg, "cloud-init clean --machine-id")
}

test_hub032_not_for_empty_or_uninitialized if {
	not "HUB032" in ids(warns(good_image))
	not "HUB032" in ids(warns(set(good_image, "/machine_id/state", "uninitialized")))
	not "HUB032" in ids(warns(good_instance))
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
