package hubsecrets_test

import data.hubsecrets

param_errors(params) := errs if {
	errs := hubsecrets.param_errors with hubsecrets.params as params
}

test_no_params_no_errors if {
	count(hubsecrets.param_errors) == 0
}

test_valid_params_no_errors if {
	count(param_errors({
		"owner": "root", "group": "jupyterhub", "dir_owner": "root",
		"secret_modes": ["400"], "allow_group_read": true,
		"dhparam_modes": ["0600", "0644"], "min_dh_bits": 3072,
		"secret_bytes": 48, "require_firstboot": null,
	})) == 0
}

test_unknown_param if {
	errs := param_errors({"allow_group_reads": true})
	some e in errs
	startswith(e, "hubsecrets.params.allow_group_reads: unknown parameter (known: allow_group_read, ")
}

test_params_not_an_object if {
	param_errors(["0600"]) == {"hubsecrets.params must be an object, not array"}
}

test_mode_as_number_refused if {
	param_errors({"secret_modes": [600]}) == {`hubsecrets.params.secret_modes: want a non-empty list of octal mode strings such as ["0600", "0400"], not [600]`}
}

test_mode_with_other_bits_refused if {
	errs := param_errors({"secret_modes": ["0600", "0604"]})
	errs == {"hubsecrets.params.secret_modes: 0604 gives other users access; JupyterHub refuses to start with it"}
}

test_wrong_types_refused if {
	count(param_errors({"allow_group_read": "yes"})) == 1
	count(param_errors({"min_dh_bits": 2048.5})) == 1
	count(param_errors({"secret_bytes": 0})) == 1
	count(param_errors({"owner": ""})) == 1
	count(param_errors({"dhparam_modes": []})) == 1
	count(param_errors({"require_firstboot": "image"})) == 1
	count(param_errors({"min_dh_bits": 16384})) == 1
}

test_params_merge_over_defaults if {
	c := hubsecrets.cfg with hubsecrets.params as {"min_dh_bits": 3072}
	c.min_dh_bits == 3072
	c.owner == "root"
	c.secret_modes == ["0600", "0400"]
}

test_allow_group_read_override if {
	params := {"allow_group_read": true}
	doc := merge(good_instance, {"files": {
		"cookie_secret": {"mode": mode_0640},
		"proxy_token": {"mode": mode_0640},
	}})
	count(denies_with(doc, params)) == 0
	count(warns_with(doc, params)) == 0
	"HUB013" in ids(denies(doc))
	"HUB012" in ids(denies_with(merge(doc, {"files": {"cookie_secret": {"mode": mode_0604}}}), params))
}

test_min_dh_bits_override if {
	"HUB026" in ids(denies_with(good_instance, {"min_dh_bits": 3072}))
	dh4096 := merge(good_instance, {"files": {"dhparam": {"dh": {"prime_bits": 4096, "group": "ffdhe4096"}}}})
	count(denies_with(dh4096, {"min_dh_bits": 3072})) == 0
}

test_require_firstboot_booleans_valid if {
	count(param_errors({"require_firstboot": true})) == 0
	count(param_errors({"require_firstboot": false})) == 0
}

test_floors_cannot_be_lowered if {
	param_errors({"min_dh_bits": 1024}) == {"hubsecrets.params.min_dh_bits: 1024 is below 2048, which this policy calls weak (Logjam): the floor cannot be lowered"}
	param_errors({"secret_bytes": 16}) == {"hubsecrets.params.secret_bytes: 16 is below 32 bytes, which this policy calls weak: the floor cannot be lowered"}
	count(param_errors({"min_dh_bits": 4096, "secret_bytes": 64})) == 0
}
