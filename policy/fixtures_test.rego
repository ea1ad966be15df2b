# Shared fixtures for the policy tests: a correct instance and a correct
# image, as the collector would describe them, and helpers to vary one thing.
package hubsecrets_test

import data.hubsecrets

# Modes (Rego has no octal literals).
mode_0400 := 256

mode_0440 := 288

mode_0600 := 384

mode_0604 := 388

mode_0640 := 416

mode_0644 := 420

mode_0660 := 432

mode_0700 := 448

mode_0755 := 493

mode_0775 := 509

mode_0777 := 511

root_file(path, mode) := {
	"path": path,
	"exists": true,
	"type": "file",
	"mode": mode,
	"mode_octal": sprintf("%04o", [mode]),
	"uid": 0,
	"gid": 0,
	"owner": "root",
	"group": "root",
	"size": 0,
}

missing(path) := {"path": path, "exists": false, "mode": 0, "uid": 0, "gid": 0, "owner": "", "group": "", "size": 0}

good_secret := object.union(root_file("/srv/jupyterhub/jupyterhub_cookie_secret", mode_0600), {
	"size": 65,
	"secret": {
		"encoding": "hex",
		"decoded_bytes": 32,
		"lowercase": true,
		"trailing_newline": true,
		"truncated": false,
		"same_as": [],
		"quality": random_quality,
	},
})

# random_quality is what the collector reports for 32 random bytes as hex.
random_quality := {"digits": 64, "period": 64, "longest_monotone_run": 2, "distinct_digits": 15, "known_example": false}

good_instance := {
	"schema": "hubsecrets/facts/v1",
	"profile": "instance",
	"source": {"kind": "dir", "root": "/"},
	"dir": object.union(root_file("/srv/jupyterhub", mode_0755), {"type": "dir", "size": 4096}),
	"files": {
		"cookie_secret": good_secret,
		"proxy_token": object.union(good_secret, {"path": "/srv/jupyterhub/proxy_auth_token"}),
		"dhparam": object.union(root_file("/srv/jupyterhub/dhparam.pem", mode_0600), {
			"size": 424,
			"dh": {
				"parsed": true,
				"format": "DH PARAMETERS",
				"prime_bits": 2048,
				"generator": 2,
				"prime_probable": true,
				"safe_prime": true,
				"generator_valid": true,
				"group": "ffdhe2048",
			},
		}),
	},
	"unexpected": [],
	"firstboot": {
		"script": object.union(root_file("/usr/local/libexec/hubsecrets/jupyterhub-secrets", mode_0755), {"sha256": script_sha256}),
		"unit": root_file("/etc/systemd/system/jupyterhub-secrets.service", mode_0644),
		"enabled_link": object.union(
			root_file("/etc/systemd/system/multi-user.target.wants/jupyterhub-secrets.service", mode_0777),
			{"type": "symlink", "link_target": "/etc/systemd/system/jupyterhub-secrets.service"},
		),
		"hub_dropin": root_file("/etc/systemd/system/jupyterhub.service.d/jupyterhub-secrets.conf", mode_0644),
		"stamp": root_file("/srv/jupyterhub/.hubsecrets-instance", mode_0600),
	},
	"firstboot_dirs": [
		root_dir("/usr/local/libexec/hubsecrets"),
		root_dir("/usr/local/libexec"),
		root_dir("/usr/local"),
		root_dir("/usr"),
	],
	"identity": {
		"dbus_machine_id": object.union(root_file("/var/lib/dbus/machine-id", mode_0777), {"type": "symlink", "link_target": "/etc/machine-id"}),
		"cloud_instance_id": missing("/var/lib/cloud/data/instance-id"),
		"cloud_instance_link": missing("/var/lib/cloud/instance"),
	},
	"hub_unit": "jupyterhub.service",
	"machine_id": {"path": "/etc/machine-id", "state": "initialized"},
	"errors": [],
}

# script_sha256 is the installed script's digest, as the contract records it.
script_sha256 := "a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf"

root_dir(path) := object.union(root_file(path, mode_0755), {"type": "dir"})

# image_contract is the contract the provisioner writes in an image.
image_contract := object.union(root_file("/etc/hubsecrets/params.json", mode_0644), {
	"params": {},
	"host": {"dir": "/srv/jupyterhub", "dir_mode": "0755", "hub_unit": "jupyterhub.service", "script_sha256": script_sha256},
})

# good_image: no secret, no stamp, an empty machine-id, the hook in place.
good_image := patch(good_instance, [
	{"op": "replace", "path": "/profile", "value": "image"},
	{"op": "replace", "path": "/files/cookie_secret", "value": missing("/srv/jupyterhub/jupyterhub_cookie_secret")},
	{"op": "replace", "path": "/files/proxy_token", "value": missing("/srv/jupyterhub/proxy_auth_token")},
	{"op": "replace", "path": "/firstboot/stamp", "value": missing("/srv/jupyterhub/.hubsecrets-instance")},
	{"op": "replace", "path": "/machine_id/state", "value": "empty"},
	{"op": "add", "path": "/contract", "value": image_contract},
])

# tutorial is what the tutorial leaves behind: the secret went to
# jupyterhub_cookie_secretl, the real file stayed empty, everything belongs to
# group sudo with mode 0600, and no first-boot hook.
tutorial := patch(good_instance, [
	{"op": "replace", "path": "/files/cookie_secret", "value": object.union(good_secret, {
		"group": "sudo", "gid": 27, "size": 0,
		"secret": {"encoding": "empty", "decoded_bytes": 0, "lowercase": false, "trailing_newline": false},
	})},
	{"op": "replace", "path": "/files/proxy_token/group", "value": "sudo"},
	{"op": "replace", "path": "/files/proxy_token/gid", "value": 27},
	{"op": "replace", "path": "/files/dhparam/group", "value": "sudo"},
	{"op": "replace", "path": "/files/dhparam/gid", "value": 27},
	{"op": "replace", "path": "/files/dhparam/dh/group", "value": ""},
	{"op": "replace", "path": "/unexpected", "value": [{
		"name": "jupyterhub_cookie_secretl",
		"path": "/srv/jupyterhub/jupyterhub_cookie_secretl",
		"type": "file",
		"size": 65,
		"resembles": "jupyterhub_cookie_secret",
		"resembles_key": "cookie_secret",
	}]},
	{"op": "replace", "path": "/firstboot/script", "value": missing("/usr/local/libexec/hubsecrets/jupyterhub-secrets")},
	{"op": "replace", "path": "/firstboot/unit", "value": missing("/etc/systemd/system/jupyterhub-secrets.service")},
	{"op": "replace", "path": "/firstboot/enabled_link", "value": missing("/etc/systemd/system/multi-user.target.wants/jupyterhub-secrets.service")},
	{"op": "replace", "path": "/firstboot/hub_dropin", "value": missing("/etc/systemd/system/jupyterhub.service.d/jupyterhub-secrets.conf")},
	{"op": "replace", "path": "/firstboot/stamp", "value": missing("/srv/jupyterhub/.hubsecrets-instance")},
])

# patch applies JSON patch operations and fails loudly (undefined) if one does
# not apply, so a fixture cannot silently stay unchanged.
patch(doc, ops) := json.patch(doc, ops)

# set replaces the value at a JSON pointer.
set(doc, pointer, value) := patch(doc, [{"op": "replace", "path": pointer, "value": value}])

# merge changes some fields of the document (object.union, recursive).
merge(doc, change) := object.union(doc, change)

# Evaluating the policy on a document, with default or site parameters.
denies(doc) := fs if {
	fs := hubsecrets.deny with input as doc
}

warns(doc) := fs if {
	fs := hubsecrets.warn with input as doc
}

denies_with(doc, params) := fs if {
	fs := hubsecrets.deny with input as doc with hubsecrets.params as params
}

warns_with(doc, params) := fs if {
	fs := hubsecrets.warn with input as doc with hubsecrets.params as params
}

ids(findings) := {f.id | some f in findings}

# only returns the findings with an id.
only(findings, id) := [f | some f in findings; f.id == id]

# the returns the one finding with an id, undefined unless there is exactly one.
the(findings, id) := fs[0] if {
	fs := only(findings, id)
	count(fs) == 1
}

# at returns the one finding with an id for a path.
at(findings, id, path) := fs[0] if {
	fs := [f | some f in only(findings, id); f.path == path]
	count(fs) == 1
}

# live_instance is good_instance on a running system whose stamp matches.
live_instance := merge(good_instance, {"instance": {
	"live": true, "source": "/run/cloud-init/.instance-id",
	"skipped": [], "stamp": "matches",
}})
