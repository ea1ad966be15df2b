package hubsecrets_test

test_good_instance_has_no_findings if {
	count(denies(good_instance)) == 0
	count(warns(good_instance)) == 0
}

test_hub001_dir_missing if {
	f := the(denies(set(good_instance, "/dir", missing("/srv/jupyterhub"))), "HUB001")
	f.path == "/srv/jupyterhub"
	f.fix == "sudo mkdir -p -m 0755 /srv/jupyterhub && sudo chown root /srv/jupyterhub"
}

test_hub001_not_when_dir_exists if {
	not "HUB001" in ids(denies(good_instance))
}

test_hub001_not_when_dir_unreadable if {
	doc := set(good_instance, "/dir", object.union(missing("/srv/jupyterhub"), {"error": "permission denied"}))
	not "HUB001" in ids(denies(doc))
	"HUB041" in ids(denies(doc))
}

test_hub002_dir_symlink if {
	doc := merge(good_instance, {"dir": {"type": "symlink", "link_target": "/data/hub", "mode": mode_0777}})
	f := the(denies(doc), "HUB002")
	contains(f.msg, "symlink to /data/hub")
	contains(f.msg, "does not follow it")
	startswith(f.fix, "sudo rm /srv/jupyterhub && ")
	not "HUB004" in ids(denies(doc))
}

test_hub002_not_for_real_dir if {
	not "HUB002" in ids(denies(good_instance))
}

test_hub003_dir_is_a_file if {
	f := the(denies(merge(good_instance, {"dir": {"type": "file"}})), "HUB003")
	contains(f.msg, "is a regular file")
	f.fix == `sudo mv /srv/jupyterhub "$(sudo mktemp -d /srv/jupyterhub.old.XXXXXX)" && sudo mkdir -p -m 0755 /srv/jupyterhub && sudo chown root /srv/jupyterhub`
}

test_hub003_not_for_symlink if {
	not "HUB003" in ids(denies(merge(good_instance, {"dir": {"type": "symlink"}})))
}

test_hub004_dir_group_writable if {
	f := the(denies(merge(good_instance, {"dir": {"mode": mode_0775}})), "HUB004")
	contains(f.msg, "mode 0775")
	f.fix == "sudo chmod go-w /srv/jupyterhub"
}

test_hub004_dir_world_writable_sticky if {
	"HUB004" in ids(denies(merge(good_instance, {"dir": {"mode": 1023}}))) # 0o1777
}

test_hub004_not_for_0755_or_0700 if {
	not "HUB004" in ids(denies(good_instance))
	not "HUB004" in ids(denies(merge(good_instance, {"dir": {"mode": mode_0700}})))
}

test_hub005_dir_wrong_owner if {
	f := the(denies(merge(good_instance, {"dir": {"owner": "jovyan", "uid": 1000}})), "HUB005")
	contains(f.msg, "owned by jovyan, not root")
	f.fix == "sudo chown root /srv/jupyterhub"
}

test_hub005_unnamed_uid_is_shown if {
	f := the(denies(merge(good_instance, {"dir": {"owner": "", "uid": 1000}})), "HUB005")
	contains(f.msg, "uid 1000 (no name")
}

test_hub005_not_for_uid_0_without_passwd if {
	not "HUB005" in ids(denies(merge(good_instance, {"dir": {"owner": ""}})))
}

test_hub005_dir_owner_param if {
	doc := merge(good_instance, {"dir": {"owner": "hub", "uid": 990}})
	not "HUB005" in ids(denies_with(doc, {"dir_owner": "hub"}))
	"HUB005" in ids(denies_with(good_instance, {"dir_owner": "hub"}))
}

test_hub006_system_directory if {
	every p in ["/root", "/etc", "/usr/local", "/var/lib", "/srv", "/"] {
		f := the(denies(set(good_instance, "/dir/path", p)), "HUB006")
		f.path == p
		contains(f.msg, "is a system directory")
		startswith(f.fix, "sudo install -d -m 0755 -o root /srv/jupyterhub  # ")
	}
	f := the(denies(set(good_image, "/dir/path", "/etc")), "HUB006")
	contains(f.msg, "The secrets directory /etc is a system directory")
}

test_hub006_below_volatile_directory if {
	every p in ["/tmp/hub", "/run/jupyterhub", "/var/tmp/a/b", "/dev/shm/x"] {
		f := the(denies(set(good_instance, "/dir/path", p)), "HUB006")
		contains(f.msg, "lies below")
		contains(f.msg, "PrivateTmp=yes")
	}
}

test_hub006_not_for_a_directory_of_its_own if {
	every p in ["/srv/jupyterhub", "/etc/jupyterhub", "/var/lib/jupyterhub", "/opt/hub/secrets", "/tmpx", "/running", "/usr/local/share/hub"] {
		not "HUB006" in ids(denies(set(good_instance, "/dir/path", p)))
	}
}

test_hub006_no_fix_changes_a_system_directory if {
	bin := patch(good_instance, [
		{"op": "replace", "path": "/dir/path", "value": "/bin"},
		{"op": "replace", "path": "/dir/type", "value": "symlink"},
		{"op": "add", "path": "/dir/link_target", "value": "usr/bin"},
	])
	ids(denies(bin)) & {"HUB001", "HUB002", "HUB003", "HUB004", "HUB005"} == set()
	"HUB006" in ids(denies(bin))
	tmp := patch(good_instance, [
		{"op": "replace", "path": "/dir/path", "value": "/tmp"},
		{"op": "replace", "path": "/dir/mode", "value": 1023},
	])
	not "HUB004" in ids(denies(tmp))
	etc := patch(good_instance, [
		{"op": "replace", "path": "/dir/path", "value": "/etc"},
		{"op": "replace", "path": "/unexpected", "value": [{"name": "passwd", "path": "/etc/passwd", "type": "file", "size": 1000}]},
	])
	not "HUB040" in ids(warns(etc))
	"HUB040" in ids(warns(set(etc, "/dir/path", "/etc/jupyterhub")))
}

parents(list) := merge(good_instance, {"dir": object.union(good_instance.dir, {"parents": list})})

root_parent(path) := {"path": path, "type": "dir", "mode": 493, "mode_octal": "0755", "uid": 0, "gid": 0, "owner": "root", "group": "root"}

test_hub007_parent_world_writable if {
	doc := parents([root_parent("/"), object.union(root_parent("/srv"), {"mode": 511})]) # 0o777
	f := the(denies(doc), "HUB007")
	f.path == "/srv"
	contains(f.msg, "mode 0777")
	f.fix == "sudo chmod go-w /srv"
}

test_hub007_parent_wrong_owner if {
	doc := parents([root_parent("/"), object.union(root_parent("/data"), {"uid": 1000, "owner": ""})])
	f := the(denies(doc), "HUB007")
	contains(f.msg, "uid 1000")
	f.fix == "sudo chown root /data"
}

test_hub007_both_fixes if {
	doc := parents([object.union(root_parent("/srv"), {"uid": 1000, "owner": "jovyan", "mode": 509})]) # 0o775
	f := the(denies(doc), "HUB007")
	f.fix == "sudo chown root /srv && sudo chmod go-w /srv"
}

test_hub007_not_for_sticky_root_owned_or_links if {
	doc := parents([
		root_parent("/"),
		object.union(root_parent("/srv"), {"mode": 1023}), # 0o1777
		{"path": "/data", "type": "symlink", "link_target": "/x", "mode": 511, "uid": 1000, "gid": 0, "owner": "", "group": ""},
		object.union(root_parent("/x"), {"error": "owner and mode unknown", "uid": 1000}),
	])
	not "HUB007" in ids(denies(doc))
	not "HUB007" in ids(denies(good_instance))
}

test_hub007_not_for_dir_owner if {
	doc := parents([object.union(root_parent("/srv"), {"uid": 990, "owner": "hub"})])
	not "HUB007" in ids(denies_with(doc, {"dir_owner": "hub"}))
	"HUB007" in ids(denies(doc))
}
