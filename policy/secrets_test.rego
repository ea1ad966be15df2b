package hubsecrets_test

cookie := "/srv/jupyterhub/jupyterhub_cookie_secret"

token := "/srv/jupyterhub/proxy_auth_token"

with_cookie(change) := merge(good_instance, {"files": {"cookie_secret": change}})

with_token(change) := merge(good_instance, {"files": {"proxy_token": change}})

with_cookie_content(change) := with_cookie({"secret": change})

test_hub010_secret_missing if {
	doc := set(good_instance, "/files/cookie_secret", missing(cookie))
	f := the(denies(doc), "HUB010")
	f.path == cookie
	f.fix == "sudo hubsecrets init"
	contains(f.msg, "JupyterHub would create it itself")
}

test_hub010_token_missing_says_403 if {
	f := the(denies(set(good_instance, "/files/proxy_token", missing(token))), "HUB010")
	contains(f.msg, "403")
}

test_hub010_not_in_image_profile if {
	not "HUB010" in ids(denies(good_image))
}

test_hub010_not_when_present if {
	not "HUB010" in ids(denies(good_instance))
}

test_hub011_secret_symlink if {
	doc := with_cookie({"type": "symlink", "link_target": "/tmp/x", "mode": mode_0777})
	f := the(denies(doc), "HUB011")
	contains(f.msg, "symlink")
	contains(f.msg, "(to /tmp/x)")
	contains(f.msg, "does not follow it, but JupyterHub would")
	f.fix == "sudo rm /srv/jupyterhub/jupyterhub_cookie_secret && sudo hubsecrets init --rotate"

	# nothing else is judged about a symlink: its mode is the link's
	ids(denies(doc)) == {"HUB011"}
}

test_hub011_secret_directory if {
	f := the(denies(with_cookie({"type": "dir", "mode": mode_0755})), "HUB011")
	contains(f.msg, "is a directory")
	startswith(f.fix, "sudo mv ")
}

test_hub011_not_for_regular_file if {
	not "HUB011" in ids(denies(good_instance))
}

test_hub012_other_bits if {
	f := the(denies(with_cookie({"mode": mode_0604})), "HUB012")
	contains(f.msg, "mode 0604")
	contains(f.msg, "cookie_secret_file can be read or written by anybody")
	f.fix == "sudo chmod 0600 /srv/jupyterhub/jupyterhub_cookie_secret && sudo hubsecrets init --rotate"

	# reported once, not again as a disallowed mode
	not "HUB013" in ids(denies(with_cookie({"mode": mode_0604})))
}

test_hub012_world_readable_token if {
	"HUB012" in ids(denies(with_token({"mode": mode_0644})))
}

test_hub012_not_for_0600 if {
	not "HUB012" in ids(denies(good_instance))
}

test_hub012_not_overridable if {
	params := {"allow_group_read": true}
	"HUB012" in ids(denies_with(with_cookie({"mode": mode_0604}), params))
	"HUB012" in ids(denies_with(with_cookie({"mode": 420}), params)) # 0644
}

test_hub013_group_bits if {
	f := the(denies(with_cookie({"mode": mode_0660})), "HUB013")
	contains(f.msg, "mode 0660, not 0600 or 0400")
	contains(f.msg, "members of group root can read and change it")
	f.fix == "sudo chmod 0600 /srv/jupyterhub/jupyterhub_cookie_secret"
}

test_hub013_exec_and_setuid if {
	f := the(denies(with_cookie({"mode": 2496})), "HUB013") # 0o4700
	contains(f.msg, "it is executable")
	contains(f.msg, "setuid")
}

test_hub013_owner_cannot_read if {
	f := the(denies(with_cookie({"mode": 128})), "HUB013") # 0o200
	contains(f.msg, "its owner cannot read it")
}

test_hub013_not_for_allowed_modes if {
	not "HUB013" in ids(denies(good_instance))
	not "HUB013" in ids(denies(with_cookie({"mode": mode_0400})))
}

test_hub013_allow_group_read if {
	params := {"allow_group_read": true}
	not "HUB013" in ids(denies_with(with_cookie({"mode": mode_0640}), params))
	not "HUB013" in ids(denies_with(with_cookie({"mode": mode_0440}), params))
	"HUB013" in ids(denies_with(with_cookie({"mode": mode_0660}), params))
	"HUB013" in ids(denies(with_cookie({"mode": mode_0640})))
}

test_hub013_secret_modes_param if {
	doc := with_cookie({"mode": mode_0400})
	f := at(denies_with(good_instance, {"secret_modes": ["400"]}), "HUB013", cookie)
	contains(f.msg, "not 0400")
	f.fix == "sudo chmod 0400 /srv/jupyterhub/jupyterhub_cookie_secret"
	contains(f.msg, "the secret_modes parameter does not allow it")
	not at(denies_with(doc, {"secret_modes": ["400"]}), "HUB013", cookie)
}

test_hub014_wrong_owner if {
	f := the(denies(with_cookie({"owner": "jovyan", "uid": 1000})), "HUB014")
	contains(f.msg, "owned by jovyan, not root")
	f.fix == "sudo chown root /srv/jupyterhub/jupyterhub_cookie_secret"
}

test_hub014_not_for_root if {
	not "HUB014" in ids(denies(good_instance))
	not "HUB014" in ids(denies(with_cookie({"owner": ""})))
}

test_hub015_wrong_group_with_access if {
	doc := with_cookie({"group": "sudo", "gid": 27, "mode": mode_0640})
	f := the(denies(doc), "HUB015")
	contains(f.msg, "group sudo, not root")
	contains(f.msg, "every member of sudo read it")
	f.fix == "sudo chgrp root /srv/jupyterhub/jupyterhub_cookie_secret"
	not "HUB035" in ids(warns(doc))
}

test_hub015_not_without_group_bits if {
	not "HUB015" in ids(denies(with_cookie({"group": "sudo", "gid": 27})))
}

test_hub015_group_param if {
	params := {"allow_group_read": true, "group": "jupyterhub"}
	doc := with_cookie({"group": "jupyterhub", "gid": 990, "mode": mode_0640})
	count(denies_with(doc, params)) == 0
	"HUB015" in ids(denies_with(with_cookie({"group": "sudo", "gid": 27, "mode": mode_0640}), params))
}

test_hub035_wrong_group_no_access if {
	f := the(warns(with_cookie({"group": "sudo", "gid": 27})), "HUB035")
	contains(f.msg, "gives the group no access")
	f.fix == "sudo chgrp root /srv/jupyterhub/jupyterhub_cookie_secret"
}

test_hub035_not_for_root_group if {
	not "HUB035" in ids(warns(good_instance))
}

test_hub016_empty_cookie_secret if {
	f := the(denies(with_cookie_content({"encoding": "empty", "decoded_bytes": 0})), "HUB016")
	contains(f.msg, "silently replaces an empty cookie secret")
	f.fix == "sudo hubsecrets init --rotate"
}

test_hub016_whitespace_token if {
	doc := with_token({"size": 1, "secret": {"encoding": "empty", "decoded_bytes": 0}})
	f := the(denies(doc), "HUB016")
	contains(f.msg, "only whitespace")
	contains(f.msg, "403")
}

test_hub016_not_for_hex if {
	not "HUB016" in ids(denies(good_instance))
}

test_hub017_base64 if {
	f := the(denies(with_cookie_content({"encoding": "base64", "decoded_bytes": 32})), "HUB017")
	contains(f.msg, "base64 (32 bytes decoded), not hex")
	contains(f.msg, "warning")
	not "HUB018" in ids(denies(with_cookie_content({"encoding": "base64", "decoded_bytes": 32})))
}

test_hub017_other if {
	f := the(denies(with_token({"secret": {"encoding": "other", "decoded_bytes": 0}})), "HUB017")
	contains(f.msg, "neither hex nor base64")
}

test_hub017_not_for_hex if {
	not "HUB017" in ids(denies(good_instance))
}

test_hub018_short if {
	f := the(denies(with_cookie_content({"decoded_bytes": 16})), "HUB018")
	contains(f.msg, "holds 16 bytes (32 hex digits), want 32")
	contains(f.msg, "silently accepts")
}

test_hub018_long if {
	f := the(denies(with_token({"secret": {"decoded_bytes": 64}})), "HUB018")
	contains(f.msg, "holds 64 bytes")

	# the token's message speaks of the token and of the parameter
	contains(f.msg, "secret_bytes (32): not a token hubsecrets made")
	not contains(f.msg, "cookie")
}

test_hub018_secret_bytes_param if {
	doc := with_cookie_content({"decoded_bytes": 64})
	not at(denies_with(doc, {"secret_bytes": 64}), "HUB018", cookie)
	at(denies_with(doc, {"secret_bytes": 64}), "HUB018", token)
}

test_hub018_not_for_32_bytes if {
	not "HUB018" in ids(denies(good_instance))
}

test_hub019_same_secret if {
	doc := merge(good_instance, {"files": {
		"cookie_secret": {"secret": {"same_as": ["proxy_token"]}},
		"proxy_token": {"secret": {"same_as": ["cookie_secret"]}},
	}})
	f := the(denies(doc), "HUB019")
	f.path == cookie
	contains(f.msg, token)
}

test_hub019_not_for_distinct if {
	not "HUB019" in ids(denies(good_instance))
}

test_hub020_truncated if {
	doc := with_cookie({"size": 1048576, "secret": {"encoding": "other", "decoded_bytes": 0, "truncated": true}})
	f := the(denies(doc), "HUB020")
	contains(f.msg, "1048576 bytes")

	# the prefix's encoding means nothing
	not "HUB017" in ids(denies(doc))
}

test_hub020_not_for_small_file if {
	not "HUB020" in ids(denies(good_instance))
}

test_image_profile_judges_only_presence_of_secrets if {
	doc := set(good_image, "/files/cookie_secret", merge(good_instance.files.cookie_secret, {
		"mode": mode_0644, "owner": "jovyan", "group": "sudo",
		"secret": {"encoding": "empty"},
	}))
	ids(denies(doc)) == {"HUB030"}
	count(warns(doc)) == 0
}

test_tutorial if {
	ids(denies(tutorial)) == {"HUB016"}
	the(denies(tutorial), "HUB016").path == cookie
	ids(warns(tutorial)) == {"HUB029", "HUB035", "HUB040"}
	count(only(warns(tutorial), "HUB035")) == 2
	w := the(warns(tutorial), "HUB040")
	contains(w.msg, "jupyterhub_cookie_secretl looks like a misspelling of jupyterhub_cookie_secret: the secret may have been written there and the real file left empty")
}

test_hub015_unnamed_group_write_only if {
	doc := with_token({"group": "", "gid": 1234, "mode": 400}) # 0o620
	f := the(denies(doc), "HUB015")
	contains(f.msg, "group gid 1234 (no name")
	contains(f.msg, "change it")
}

test_hub017_cookie_neither_hex_nor_base64 if {
	f := the(denies(with_cookie_content({"encoding": "other", "decoded_bytes": 0})), "HUB017")
	contains(f.msg, "refuses to start")
}

with_cookie_quality(change) := with_cookie_content({"quality": object.union(random_quality, change)})

test_hub036_all_zeros if {
	f := the(denies(with_cookie_quality({"period": 1, "distinct_digits": 1, "longest_monotone_run": 1, "known_example": true})), "HUB036")
	f.path == cookie
	f.fix == "sudo hubsecrets init --rotate"
	contains(f.msg, "a published example value")
	contains(f.msg, "repeats a pattern of 1 hex digit(s)")
	contains(f.msg, "only 1 of the 16 hex digits")
}

test_hub036_period_8 if {
	f := the(denies(with_cookie_quality({"period": 8})), "HUB036")
	contains(f.msg, "repeats a pattern of 8 hex digit(s)")
}

test_hub036_monotone_run if {
	f := the(denies(with_token({"secret": {"quality": object.union(random_quality, {"longest_monotone_run": 12})}})), "HUB036")
	f.path == token
	contains(f.msg, "run of 12 consecutive hex digits")
}

test_hub036_few_distinct if {
	f := the(denies(with_cookie_quality({"distinct_digits": 7})), "HUB036")
	contains(f.msg, "only 7 of the 16")
}

test_hub036_known_example_alone if {
	f := the(denies(with_cookie_quality({"known_example": true})), "HUB036")
	contains(f.msg, "published example")
}

test_hub036_not_for_random if {
	not "HUB036" in ids(denies(good_instance))
}

test_hub036_not_just_below_thresholds if {
	doc := with_cookie_quality({"period": 9, "longest_monotone_run": 11, "distinct_digits": 8})
	not "HUB036" in ids(denies(doc))
}

test_hub036_few_distinct_in_short_secret_is_hub018_only if {
	doc := with_cookie_content({"decoded_bytes": 4, "quality": {"digits": 8, "period": 8, "longest_monotone_run": 1, "distinct_digits": 3, "known_example": false}})
	not "HUB036" in ids(denies(doc))
}

test_hub036_not_in_image_profile if {
	doc := merge(with_cookie_quality({"period": 1}), {"profile": "image"})
	not "HUB036" in ids(denies(doc))
}
