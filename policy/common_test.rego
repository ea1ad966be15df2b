package hubsecrets_test

import data.hubsecrets

unexpected(name, extra) := object.union(
	{
		"name": name, "path": concat("/", ["/srv/jupyterhub", name]), "type": "file", "size": 65,
		"mode": mode_0600, "uid": 0, "gid": 0, "owner": "root", "group": "root",
	},
	extra,
)

test_hub040_misspelling if {
	f := the(warns(tutorial), "HUB040")
	f.path == "/srv/jupyterhub/jupyterhub_cookie_secretl"
	f.fix == "sudo mkdir -p -m 0700 /root/hubsecrets-moved && sudo mv -i /srv/jupyterhub/jupyterhub_cookie_secretl /root/hubsecrets-moved/ # then delete it once you know it holds nothing you need"
}

test_hub040_copy_of_present_secret if {
	doc := set(good_instance, "/unexpected", [unexpected("proxy_auth_token~", {"resembles": "proxy_auth_token", "resembles_key": "proxy_token"})])
	f := the(warns(doc), "HUB040")
	contains(f.msg, "proxy_auth_token~ looks like a copy of proxy_auth_token: it may hold an old copy of a secret")
}

test_hub040_misspelling_of_missing_secret if {
	doc := patch(good_instance, [
		{"op": "replace", "path": "/files/proxy_token", "value": missing("/srv/jupyterhub/proxy_auth_token")},
		{"op": "replace", "path": "/unexpected", "value": [unexpected("proxy_auth_tokne", {"resembles": "proxy_auth_token", "resembles_key": "proxy_token"})]},
	])
	f := the(warns(doc), "HUB040")
	contains(f.msg, "instead of the real file, which is missing")
}

test_hub040_unrelated_dir if {
	doc := set(good_instance, "/unexpected", [unexpected("notes", {"type": "dir"})])
	f := the(warns(doc), "HUB040")
	contains(f.msg, "notes is not a file hubsecrets expects here (a directory)")
	f.fix == "sudo mkdir -p -m 0700 /root/hubsecrets-moved && sudo mv -i /srv/jupyterhub/notes /root/hubsecrets-moved/ # then delete it once you know it holds nothing you need"
}

test_hub040_leftover_temp_file if {
	f := the(warns(set(good_instance, "/unexpected", [unexpected(".hubsecrets-tmp.x1", {})])), "HUB040")
	contains(f.msg, "interrupted hubsecrets run")
}

test_hub040_hostile_name_is_quoted if {
	doc := set(good_instance, "/unexpected", [unexpected("x'$(reboot)\n", {})])
	f := the(warns(doc), "HUB040")
	startswith(f.fix, concat("", [`sudo mkdir -p -m 0700 /root/hubsecrets-moved && sudo mv -i '/srv/jupyterhub/x'\''$(reboot)`, "\n' /root/hubsecrets-moved/ # "]))
	contains(f.msg, `"x'$(reboot)\n"`)
}

test_hub040_not_for_good_instance if {
	not "HUB040" in ids(warns(good_instance))
}

test_hub041_unreadable_file if {
	doc := patch(good_instance, [
		{"op": "remove", "path": "/files/cookie_secret/secret"},
		{"op": "add", "path": "/files/cookie_secret/error", "value": "permission denied"},
		{"op": "replace", "path": "/errors", "value": ["/srv/jupyterhub/jupyterhub_cookie_secret: permission denied"]},
	])
	f := the(denies(doc), "HUB041")
	f.msg == "/srv/jupyterhub/jupyterhub_cookie_secret could not be checked: permission denied."

	# reported once: no guesses about a file that was not observed
	ids(denies(doc)) == {"HUB041"}
}

test_hub041_unreadable_firstboot_file if {
	doc := set(good_image, "/firstboot/unit", object.union(missing("/etc/systemd/system/jupyterhub-secrets.service"), {"error": "input/output error"}))
	ids(denies(doc)) == {"HUB041"}
}

test_hub041_not_for_good_instance if {
	not "HUB041" in ids(denies(good_instance))
}

test_hub042_other_error if {
	doc := set(good_instance, "/errors", ["/etc/passwd: permission denied"])
	f := the(denies(doc), "HUB042")
	f.path == "/etc/passwd"
	contains(f.msg, "The scan is incomplete: /etc/passwd: permission denied")
}

test_hub042_error_without_path if {
	f := the(denies(set(good_instance, "/errors", ["something odd"])), "HUB042")
	f.path == ""
}

test_hub042_not_for_file_errors if {
	doc := patch(good_instance, [
		{"op": "add", "path": "/dir/error", "value": "permission denied"},
		{"op": "replace", "path": "/errors", "value": ["/srv/jupyterhub: permission denied"]},
	])
	not "HUB042" in ids(denies(doc))
	"HUB041" in ids(denies(doc))
}

test_profile_defaults_to_instance if {
	doc := object.remove(set(good_instance, "/files/cookie_secret", missing("/srv/jupyterhub/jupyterhub_cookie_secret")), ["profile"])
	"HUB010" in ids(denies(doc))
}

test_every_finding_has_id_path_msg_fix if {
	bad := patch(good_instance, [
		{"op": "replace", "path": "/dir/mode", "value": mode_0777},
		{"op": "replace", "path": "/files/cookie_secret/mode", "value": mode_0604},
		{"op": "replace", "path": "/files/dhparam/dh/prime_bits", "value": 1024},
	])
	count(denies(bad)) >= 3
	every f in denies(bad) | warns(tutorial) {
		object.keys(f) == {"id", "path", "msg", "fix"}
		regex.match(`^HUB0[0-9]{2}$`, f.id)
		f.msg != ""
		f.fix != ""
	}
}

test_sh_quotes_only_when_needed if {
	hubsecrets.sh("/srv/jupyterhub/dhparam.pem") == "/srv/jupyterhub/dhparam.pem"
	hubsecrets.sh("/srv/jupyter hub") == "'/srv/jupyter hub'"
	hubsecrets.sh("/a'b") == `'/a'\''b'`
}

test_show_quotes_unprintable if {
	hubsecrets.show("/srv/jupyterhub") == "/srv/jupyterhub"
	hubsecrets.show("a\u001b[31mb") == `"a\x1b[31mb"`
}

test_octal if {
	hubsecrets.octal("0600") == 384
	hubsecrets.octal("600") == 384
	hubsecrets.octal("4755") == 2541
}

test_hub040_copy_with_prefix if {
	doc := set(good_instance, "/unexpected", [unexpected("old-jupyterhub_cookie_secret", {"resembles": "jupyterhub_cookie_secret", "resembles_key": "cookie_secret"})])
	contains(the(warns(doc), "HUB040").msg, "looks like a copy of jupyterhub_cookie_secret")
}

test_hub040_special_file if {
	doc := set(good_instance, "/unexpected", [unexpected("fifo", {"type": "other", "size": 0})])
	contains(the(warns(doc), "HUB040").msg, "(a special file (device, FIFO or socket))")
}

test_hub040_fix_never_deletes if {
	doc := set(good_instance, "/unexpected", [
		unexpected("notes", {}),
		unexpected("old", {"type": "dir"}),
		unexpected(".hubsecrets-tmp.x1", {}),
		unexpected("jupyterhub_cookie_secret.bak", {"resembles": "jupyterhub_cookie_secret", "resembles_key": "cookie_secret"}),
	])
	fs := only(warns(doc), "HUB040")
	count(fs) == 4
	every f in fs {
		not contains(f.fix, "rm ")
		contains(f.fix, "sudo mv -i ")
	}
}

test_hub040_copy_no_more_exposed_rotates_then_removes if {
	doc := set(good_instance, "/unexpected", [unexpected("cookie.bak", {"copy_of": "cookie_secret"})])
	f := the(warns(doc), "HUB040")
	f.fix == "sudo hubsecrets init --rotate && sudo rm /srv/jupyterhub/cookie.bak"
	contains(f.msg, "cookie.bak holds a copy of the live cookie secret")
	not "HUB058" in ids(denies(doc))
}

test_hub040_not_for_hub_files if {
	doc := set(good_instance, "/unexpected", [
		unexpected("jupyterhub.sqlite", {}),
		unexpected("jupyterhub.sqlite-journal", {}),
		unexpected("jupyterhub-proxy.pid", {"mode": mode_0644}),
	])
	not "HUB040" in ids(warns(doc))
	not "HUB059" in ids(warns(doc))
}

test_hub040_hub_file_name_as_directory_is_unexpected if {
	doc := set(good_instance, "/unexpected", [unexpected("jupyterhub.sqlite", {"type": "dir"})])
	f := the(warns(doc), "HUB040")
	contains(f.fix, "sudo mv -i /srv/jupyterhub/jupyterhub.sqlite ")
}

test_hub058_tutorial_hand_repair if {
	# cp jupyterhub_cookie_secretl jupyterhub_cookie_secret: the secret is
	# live, and its 0644 source is a copy.
	doc := set(good_instance, "/unexpected", [unexpected("jupyterhub_cookie_secretl", {
		"mode": mode_0644, "copy_of": "cookie_secret",
		"resembles": "jupyterhub_cookie_secret", "resembles_key": "cookie_secret",
	})])
	f := the(denies(doc), "HUB058")
	f.path == "/srv/jupyterhub/jupyterhub_cookie_secretl"
	f.fix == "sudo hubsecrets init --rotate && sudo rm /srv/jupyterhub/jupyterhub_cookie_secretl"
	contains(f.msg, "holds a copy of the live cookie secret /srv/jupyterhub/jupyterhub_cookie_secret")
	contains(f.msg, "its mode 0644 lets every user on the host read it")
	not "HUB040" in ids(warns(doc))
}

test_hub058_group_and_owner if {
	doc := set(good_instance, "/unexpected", [unexpected("token.bak", {
		"mode": mode_0640, "copy_of": "proxy_token",
		"uid": 1000, "owner": "ubuntu", "gid": 27, "group": "sudo",
	})])
	f := the(denies(doc), "HUB058")
	contains(f.msg, "members of group sudo read it")
	contains(f.msg, "it belongs to ubuntu, not to the secret's owner root")
}

test_hub058_not_when_no_more_exposed if {
	doc := set(good_instance, "/unexpected", [unexpected("cookie.bak", {"mode": mode_0400, "copy_of": "cookie_secret"})])
	not "HUB058" in ids(denies(doc))
}

test_hub058_not_for_non_copies if {
	doc := set(good_instance, "/unexpected", [unexpected("notes", {"mode": mode_0644})])
	not "HUB058" in ids(denies(doc))
}

test_hub059_world_readable_database if {
	doc := set(good_instance, "/unexpected", [unexpected("jupyterhub.sqlite", {"mode": mode_0644})])
	f := the(warns(doc), "HUB059")
	f.fix == "sudo chmod o-rwx /srv/jupyterhub/jupyterhub.sqlite"
	contains(f.msg, "the hub's database (users, API tokens, server state)")
	contains(f.msg, "mode 0644 lets every user on the host read it")
	not "HUB040" in ids(warns(doc))
}

test_hub059_log if {
	doc := set(good_instance, "/unexpected", [unexpected("jupyterhub.log", {"mode": mode_0604})])
	contains(the(warns(doc), "HUB059").msg, "the hub's log")
}

test_hub059_not_for_closed_database if {
	doc := set(good_instance, "/unexpected", [unexpected("jupyterhub.sqlite-wal", {"mode": mode_0640})])
	not "HUB059" in ids(warns(doc))
}

test_hub058_copy_in_parent if {
	doc := merge(good_instance, {"parent": {"path": "/srv", "searched": true, "copies": [object.union(
		unexpected("proxy_auth_token.bak", {"mode": mode_0644, "copy_of": "proxy_token"}),
		{"path": "/srv/proxy_auth_token.bak"},
	)]}})
	f := the(denies(doc), "HUB058")
	f.path == "/srv/proxy_auth_token.bak"
	f.fix == "sudo hubsecrets init --rotate && sudo rm /srv/proxy_auth_token.bak"
	contains(f.msg, "copy of the live proxy auth token /srv/jupyterhub/proxy_auth_token")
}

test_hub040_closed_copy_in_parent if {
	doc := merge(good_instance, {"parent": {"path": "/srv", "searched": true, "copies": [object.union(
		unexpected("token.old", {"copy_of": "proxy_token"}),
		{"path": "/srv/token.old"},
	)]}})
	f := the(warns(doc), "HUB040")
	f.path == "/srv/token.old"
	f.fix == "sudo hubsecrets init --rotate && sudo rm /srv/token.old"
	not "HUB058" in ids(denies(doc))
}

test_hub040_not_for_empty_parent if {
	doc := merge(good_instance, {"parent": {"path": "/srv", "searched": true, "copies": []}})
	not "HUB040" in ids(warns(doc))
}

test_hub058_in_image_never_rotates if {
	doc := merge(set(good_image, "/files/cookie_secret", good_instance.files.cookie_secret), {"unexpected": [unexpected(".hubsecrets-tmp.1", {"mode": mode_0644, "copy_of": "cookie_secret"})]})
	f := the(denies(doc), "HUB058")
	not contains(f.fix, "--rotate")
	startswith(f.fix, "rebuild the image from a clean base")
}
