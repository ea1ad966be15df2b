package hubsecrets_test

dhparam := "/srv/jupyterhub/dhparam.pem"

with_dh(change) := merge(good_instance, {"files": {"dhparam": change}})

with_dh_content(change) := with_dh({"dh": change})

test_hub021_missing if {
	f := the(denies(set(good_instance, "/files/dhparam", missing(dhparam))), "HUB021")
	f.fix == "sudo hubsecrets dhparam --group ffdhe2048 -o /srv/jupyterhub/dhparam.pem --force"
}

test_hub021_missing_in_image if {
	"HUB021" in ids(denies(set(good_image, "/files/dhparam", missing(dhparam))))
}

test_hub021_not_when_present if {
	not "HUB021" in ids(denies(good_instance))
}

test_hub022_symlink if {
	doc := with_dh({"type": "symlink", "link_target": "/etc/ssl/dh.pem"})
	f := the(denies(doc), "HUB022")
	contains(f.msg, "(to /etc/ssl/dh.pem)")
	contains(f.msg, "but nginx would")
	f.fix == "sudo rm /srv/jupyterhub/dhparam.pem && sudo hubsecrets dhparam --group ffdhe2048 -o /srv/jupyterhub/dhparam.pem"
	ids(denies(doc)) == {"HUB022"}
}

test_hub022_not_for_regular_file if {
	not "HUB022" in ids(denies(good_instance))
}

test_hub023_mode if {
	f := the(denies(with_dh({"mode": mode_0644})), "HUB023")
	contains(f.msg, "mode 0644, not 0600 or 0400.")
	f.fix == "sudo chmod 0600 /srv/jupyterhub/dhparam.pem"
}

test_hub023_writable_says_why if {
	f := the(denies(with_dh({"mode": mode_0660})), "HUB023")
	contains(f.msg, "can replace them with weak parameters")
}

test_hub023_not_for_allowed_mode if {
	not "HUB023" in ids(denies(with_dh({"mode": mode_0400})))
	not "HUB023" in ids(denies_with(with_dh({"mode": mode_0644}), {"dhparam_modes": ["0644"]}))
}

test_hub024_owner if {
	f := the(denies(with_dh({"owner": "www-data", "uid": 33})), "HUB024")
	contains(f.msg, "owned by www-data, not root")
	f.fix == "sudo chown root /srv/jupyterhub/dhparam.pem"
}

test_hub024_group_with_access if {
	f := the(denies(with_dh({"group": "sudo", "gid": 27, "mode": mode_0660})), "HUB024")
	contains(f.msg, "lets every member of sudo read and change them")
	f.fix == "sudo chgrp root /srv/jupyterhub/dhparam.pem"
}

test_hub024_owner_and_group_both_reported if {
	count(only(denies(with_dh({"owner": "www-data", "uid": 33, "group": "sudo", "mode": mode_0640})), "HUB024")) == 2
}

test_hub024_not_for_group_without_access if {
	not "HUB024" in ids(denies(with_dh({"group": "sudo", "gid": 27})))
}

test_hub029_group_without_access if {
	f := the(warns(with_dh({"group": "sudo", "gid": 27})), "HUB029")
	f.fix == "sudo chgrp root /srv/jupyterhub/dhparam.pem"
}

test_hub029_not_for_root_group if {
	not "HUB029" in ids(warns(good_instance))
}

test_hub025_unparsed if {
	doc := with_dh({"dh": {
		"parsed": false, "format": "X9.42 DH PARAMETERS",
		"parse_error": "found X9.42 DH PARAMETERS, want DH PARAMETERS",
	}})
	f := the(denies(doc), "HUB025")
	contains(f.msg, "(found X9.42 DH PARAMETERS, want DH PARAMETERS)")
	contains(f.msg, "-dsaparam")
	f.fix == "sudo hubsecrets dhparam --group ffdhe2048 -o /srv/jupyterhub/dhparam.pem --force"

	# nothing is judged about parameters that did not parse
	ids(denies(doc)) == {"HUB025"}
}

test_hub025_not_when_parsed if {
	not "HUB025" in ids(denies(good_instance))
}

test_hub026_small_prime if {
	f := the(denies(with_dh_content({"prime_bits": 1024, "group": ""})), "HUB026")
	contains(f.msg, "1024-bit prime, want at least 2048")
	endswith(f.fix, "--force")
}

test_hub026_min_dh_bits_param if {
	f := the(denies_with(good_instance, {"min_dh_bits": 3072}), "HUB026")
	contains(f.msg, "2048-bit prime, want at least 3072")
	f.fix == "sudo hubsecrets dhparam --group ffdhe3072 -o /srv/jupyterhub/dhparam.pem --force"
}

test_hub026_not_for_2048 if {
	not "HUB026" in ids(denies(good_instance))
}

test_hub027_not_safe_prime if {
	f := the(denies(with_dh_content({"safe_prime": false, "group": ""})), "HUB027")
	contains(f.msg, "not a safe prime")
	not contains(f.msg, "not prime;")
}

test_hub027_not_prime_and_bad_generator if {
	doc := with_dh_content({"prime_probable": false, "safe_prime": false, "generator_valid": false, "generator": 1})
	f := the(denies(doc), "HUB027")
	contains(f.msg, "the prime is not prime; the generator 1 is not valid")
}

test_hub027_not_for_ffdhe2048 if {
	not "HUB027" in ids(denies(good_instance))
}

test_hub028_weak_group if {
	f := the(denies(with_dh_content({"weak_group": "oakley-group-2", "group": ""})), "HUB028")
	contains(f.msg, "oakley-group-2")
}

test_hub028_not_for_ffdhe2048 if {
	not "HUB028" in ids(denies(good_instance))
	not "HUB028" in ids(denies(with_dh_content({"weak_group": ""})))
}

test_hub025_not_pem if {
	f := the(denies(with_dh({"dh": {"parsed": false, "parse_error": "no PEM block found"}})), "HUB025")
	endswith(f.msg, "(no PEM block found).")
}

test_hub024_group_execute_only if {
	f := the(denies(with_dh({"group": "sudo", "gid": 27, "mode": 392})), "HUB024") # 0o610
	contains(f.msg, "execute them")
}
