package hubsecrets_test

hub_py := "/etc/jupyterhub/jupyterhub_config.py"

# hub_good is the README's two lines, as the reader records them.
hub_good := {
	"path": hub_py,
	"cookie_secret_file": {
		"kind": "file", "attr": "c.JupyterHub.cookie_secret_file",
		"path": "/srv/jupyterhub/jupyterhub_cookie_secret", "line": 3,
	},
	"cookie_secret": {"kind": "unset"},
	"proxy_auth_token": {
		"kind": "file", "attr": "c.ConfigurableHTTPProxy.auth_token",
		"path": "/srv/jupyterhub/proxy_auth_token", "stripped": true, "line": 4,
	},
	"errors": [],
}

site := "/etc/nginx/sites-enabled/hub"

dh_directive := {"value": "/srv/jupyterhub/dhparam.pem", "file": site, "line": 5}

hub_server := {
	"context": "http", "file": site, "line": 1, "names": ["hub.example.org"], "listen": ["443"], "tls": true,
	"dhparam": dh_directive,
	"ciphers": {"value": "HIGH:!aNULL:!MD5", "default": true},
	"protocols": {"value": "TLSv1.2 TLSv1.3", "default": true},
	"dhe_suites": true,
	"dhe_suite_names": ["DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-SHA256"],
}

nginx_good := {
	"path": "/etc/nginx/nginx.conf",
	"files": ["/etc/nginx/nginx.conf", site],
	"errors": [],
	"servers": [hub_server],
	"dhparams": [dh_directive],
	"dh_files": {},
}

configured := object.union(good_instance, {"hub_config": hub_good, "nginx": nginx_good})

with_setting(name, setting) := set(configured, concat("/", ["/hub_config", name]), setting)

with_server(change) := set(configured, "/nginx/servers/0", object.union(hub_server, change))

without_server_dh := set(configured, "/nginx/servers/0", object.remove(hub_server, ["dhparam"]))

config_ids := {"HUB043", "HUB044", "HUB045", "HUB046", "HUB047", "HUB048", "HUB049", "HUB050", "HUB051", "HUB052", "HUB053", "HUB054", "HUB055", "HUB056", "HUB057"}

findings(doc) := denies(doc) | warns(doc)

test_configured_hub_has_no_config_finding if {
	count(ids(findings(configured)) & config_ids) == 0
	count(ids(findings(set(configured, "/profile", "image"))) & config_ids) == 0
}

test_hub043_cookie_secret_file_elsewhere if {
	doc := with_setting("cookie_secret_file", object.union(hub_good.cookie_secret_file, {"path": "/var/lib/jupyterhub/secret"}))
	f := the(denies(doc), "HUB043")
	f.path == hub_py
	contains(f.msg, "/etc/jupyterhub/jupyterhub_config.py line 3 sets c.JupyterHub.cookie_secret_file to /var/lib/jupyterhub/secret, not the checked /srv/jupyterhub/jupyterhub_cookie_secret")
	f.fix == `sudo sed -i '3s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py`
	"HUB043" in ids(denies(set(doc, "/profile", "image")))
}

test_hub043_not_for_the_checked_file_nor_when_cookie_secret_wins if {
	not "HUB043" in ids(denies(configured))
	doc := with_setting("cookie_secret_file", object.union(hub_good.cookie_secret_file, {"path": "/var/lib/jupyterhub/secret"}))
	not "HUB043" in ids(denies(set(doc, "/hub_config/cookie_secret", {"kind": "env", "attr": "c.JupyterHub.cookie_secret", "env": "X", "line": 9})))
}

test_hub044_unset if {
	f := the(warns(with_setting("cookie_secret_file", {"kind": "unset"})), "HUB044")
	contains(f.msg, "does not set c.JupyterHub.cookie_secret_file, so the hub reads jupyterhub_cookie_secret in its working directory")
	f.fix == `printf '%s\n' 'c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''' | sudo tee -a /etc/jupyterhub/jupyterhub_config.py >/dev/null`
}

test_hub044_relative_and_env if {
	rel := object.union(hub_good.cookie_secret_file, {"path": "jupyterhub_cookie_secret", "conditional": true})
	f := the(warns(with_setting("cookie_secret_file", rel)), "HUB044")
	contains(f.msg, "to the relative path jupyterhub_cookie_secret, which the hub resolves against its working directory (inside an if")
	env := {"kind": "env", "attr": "config.JupyterHub.cookie_secret_file", "env": "SECRET_FILE", "line": 7}
	g := the(warns(with_setting("cookie_secret_file", env)), "HUB044")
	contains(g.msg, "takes config.JupyterHub.cookie_secret_file from the environment variable SECRET_FILE")
	g.fix == `sudo sed -i '7s|^\([[:space:]]*\).*|\1config.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py`
	not "HUB051" in ids(warns(with_setting("cookie_secret_file", rel)))
}

test_hub044_not_when_absolute if {
	not "HUB044" in ids(warns(configured))
}

test_hub045_inline_cookie_secret if {
	doc := with_setting("cookie_secret", {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "line": 6})
	f := the(denies(doc), "HUB045")
	contains(f.msg, "line 6 writes the cookie secret itself into c.JupyterHub.cookie_secret")
	f.fix == `sudo sed -i '6s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py && sudo hubsecrets init --rotate  # rotates the exposed secret`
	"HUB045" in ids(denies(set(doc, "/profile", "image")))
}

test_hub045_not_for_empty_or_unset if {
	not "HUB045" in ids(denies(configured))
	not "HUB045" in ids(denies(with_setting("cookie_secret", {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "empty": true, "line": 6})))
}

test_hub045_literal_fallback_of_an_environment_variable if {
	s := {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "env": "JPY_COOKIE_SECRET", "fallback": true, "line": 5}
	doc := with_setting("cookie_secret", s)
	f := the(denies(doc), "HUB045")
	contains(f.msg, "line 5 writes the cookie secret into c.JupyterHub.cookie_secret as the fallback of the environment variable JPY_COOKIE_SECRET (the literal is in the file, and the hub uses it whenever JPY_COOKIE_SECRET is unset): it is copied with every image")
	f.fix == `sudo sed -i '5s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py && sudo hubsecrets init --rotate  # rotates the exposed secret`
	not "HUB046" in ids(warns(doc))
}

test_hub045_key_looking_part_of_an_expression if {
	doc := with_setting("cookie_secret", {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "partial": true, "line": 7, "conditional": true})
	f := the(denies(doc), "HUB045")
	contains(f.msg, "line 7 builds c.JupyterHub.cookie_secret around a literal that looks like a key (16 or more hex or base64 characters), so part of the cookie secret is written in the file (inside an if")
	startswith(f.fix, `sudo sed -i '7s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' `)
}

test_hub045_not_for_the_environment_without_a_fallback if {
	doc := with_setting("cookie_secret", {"kind": "env", "attr": "c.JupyterHub.cookie_secret", "env": "JPY_COOKIE_SECRET", "line": 5})
	not "HUB045" in ids(denies(doc))
	"HUB046" in ids(warns(doc))
}

test_hub046_cookie_secret_from_file if {
	doc := with_setting("cookie_secret", {"kind": "file", "attr": "c.JupyterHub.cookie_secret", "path": "/srv/jupyterhub/jupyterhub_cookie_secret", "line": 8})
	f := the(warns(doc), "HUB046")
	contains(f.msg, "sets c.JupyterHub.cookie_secret from the file /srv/jupyterhub/jupyterhub_cookie_secret: it wins over cookie_secret_file")
	f.fix == `sudo sed -i '8s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py`
}

test_hub046_not_for_literal_or_unset if {
	not "HUB046" in ids(warns(configured))
	not "HUB046" in ids(warns(with_setting("cookie_secret", {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "line": 6})))
}

test_hub047_inline_token if {
	doc := with_setting("proxy_auth_token", {"kind": "literal", "attr": "c.ConfigurableHTTPProxy.auth_token", "line": 4})
	f := the(denies(doc), "HUB047")
	contains(f.msg, "line 4 writes the proxy token itself into c.ConfigurableHTTPProxy.auth_token")
	f.fix == `sudo sed -i '4s|^\([[:space:]]*\).*|\1c.ConfigurableHTTPProxy.auth_token = open('\''/srv/jupyterhub/proxy_auth_token'\'').read().strip()|' /etc/jupyterhub/jupyterhub_config.py && sudo hubsecrets init --rotate  # rotates the exposed token`
}

test_hub047_not_for_file_or_empty if {
	not "HUB047" in ids(denies(configured))
	not "HUB047" in ids(denies(with_setting("proxy_auth_token", {"kind": "literal", "attr": "c.JupyterHub.proxy_auth_token", "empty": true, "line": 4})))
}

test_hub047_literal_fallback_of_an_environment_variable if {
	s := {"kind": "literal", "attr": "c.ConfigurableHTTPProxy.auth_token", "env": "CONFIGPROXY_AUTH_TOKEN", "fallback": true, "line": 4}
	doc := with_setting("proxy_auth_token", s)
	f := the(denies(doc), "HUB047")
	contains(f.msg, "line 4 writes the proxy token into c.ConfigurableHTTPProxy.auth_token as the fallback of the environment variable CONFIGPROXY_AUTH_TOKEN (the literal is in the file, and the hub uses it whenever CONFIGPROXY_AUTH_TOKEN is unset): whoever reads the file")
	f.fix == `sudo sed -i '4s|^\([[:space:]]*\).*|\1c.ConfigurableHTTPProxy.auth_token = open('\''/srv/jupyterhub/proxy_auth_token'\'').read().strip()|' /etc/jupyterhub/jupyterhub_config.py && sudo hubsecrets init --rotate  # rotates the exposed token`
	not "HUB050" in ids(warns(doc))
	not "HUB049" in ids(warns(doc))
}

test_hub047_key_looking_part_of_an_expression if {
	doc := with_setting("proxy_auth_token", {"kind": "literal", "attr": "c.ConfigurableHTTPProxy.auth_token", "partial": true, "line": 4})
	f := the(denies(doc), "HUB047")
	contains(f.msg, "line 4 builds c.ConfigurableHTTPProxy.auth_token around a literal that looks like a key")
	not "HUB051" in ids(warns(doc))
}

test_hub047_not_for_the_environment_or_an_unknown_expression if {
	env := with_setting("proxy_auth_token", {"kind": "env", "attr": "c.ConfigurableHTTPProxy.auth_token", "env": "CONFIGPROXY_AUTH_TOKEN", "line": 4})
	not "HUB047" in ids(denies(env))
	"HUB050" in ids(warns(env))
	unknown := with_setting("proxy_auth_token", {"kind": "unknown", "attr": "c.ConfigurableHTTPProxy.auth_token", "line": 4})
	not "HUB047" in ids(denies(unknown))
}

test_hub048_token_file_elsewhere if {
	doc := with_setting("proxy_auth_token", object.union(hub_good.proxy_auth_token, {"path": "/etc/jupyterhub/token"}))
	f := the(denies(doc), "HUB048")
	contains(f.msg, "reads c.ConfigurableHTTPProxy.auth_token from /etc/jupyterhub/token, not the checked /srv/jupyterhub/proxy_auth_token")
	f.fix == `sudo sed -i '4s|^\([[:space:]]*\).*|\1c.ConfigurableHTTPProxy.auth_token = open('\''/srv/jupyterhub/proxy_auth_token'\'').read().strip()|' /etc/jupyterhub/jupyterhub_config.py`
}

test_hub048_not_for_checked_or_relative if {
	not "HUB048" in ids(denies(configured))
	not "HUB048" in ids(denies(with_setting("proxy_auth_token", object.union(hub_good.proxy_auth_token, {"path": "token"}))))
}

test_hub049_token_unset if {
	f := the(warns(with_setting("proxy_auth_token", {"kind": "unset"})), "HUB049")
	contains(f.msg, "does not set c.ConfigurableHTTPProxy.auth_token: the hub takes CONFIGPROXY_AUTH_TOKEN from its environment or makes a new token at every start")
	f.fix == `printf '%s\n' 'c.ConfigurableHTTPProxy.auth_token = open('\''/srv/jupyterhub/proxy_auth_token'\'').read().strip()' | sudo tee -a /etc/jupyterhub/jupyterhub_config.py >/dev/null`
	g := the(warns(with_setting("proxy_auth_token", {"kind": "literal", "attr": "c.JupyterHub.proxy_auth_token", "empty": true, "line": 2})), "HUB049")
	contains(g.msg, "line 2 sets c.JupyterHub.proxy_auth_token to ''")
}

test_hub049_not_when_wired if {
	not "HUB049" in ids(warns(configured))
}

test_hub050_token_from_env if {
	doc := with_setting("proxy_auth_token", {"kind": "env", "attr": "c.ConfigurableHTTPProxy.auth_token", "env": "CONFIGPROXY_AUTH_TOKEN", "line": 4})
	f := the(warns(doc), "HUB050")
	contains(f.msg, "from the environment variable CONFIGPROXY_AUTH_TOKEN: unless the hub's service sets it from the checked /srv/jupyterhub/proxy_auth_token")
	not "HUB050" in ids(denies(doc))
}

test_hub050_not_for_file if {
	not "HUB050" in ids(warns(configured))
}

test_hub051_unknown_expressions if {
	doc := with_setting("proxy_auth_token", {"kind": "unknown", "attr": "c.ConfigurableHTTPProxy.auth_token", "line": 4})
	f := the(warns(doc), "HUB051")
	contains(f.msg, "line 4 sets c.ConfigurableHTTPProxy.auth_token with an expression hubsecrets does not evaluate")
	g := the(warns(with_setting("proxy_auth_token", object.union(hub_good.proxy_auth_token, {"path": "token"}))), "HUB051")
	contains(g.msg, "from the relative path token")
	h := the(warns(with_setting("cookie_secret_file", {"kind": "unknown", "attr": "c.JupyterHub.cookie_secret_file", "line": 3})), "HUB051")
	h.fix == `sudo sed -i '3s|^\([[:space:]]*\).*|\1c.JupyterHub.cookie_secret_file = '\''/srv/jupyterhub/jupyterhub_cookie_secret'\''|' /etc/jupyterhub/jupyterhub_config.py`
}

test_hub051_not_for_known_or_overridden if {
	not "HUB051" in ids(warns(configured))
	doc := with_setting("cookie_secret_file", {"kind": "unknown", "attr": "c.JupyterHub.cookie_secret_file", "line": 3})
	not "HUB051" in ids(warns(set(doc, "/hub_config/cookie_secret", {"kind": "literal", "attr": "c.JupyterHub.cookie_secret", "line": 6})))
}

test_hub052_token_with_newline if {
	doc := with_setting("proxy_auth_token", object.remove(hub_good.proxy_auth_token, ["stripped"]))
	f := the(warns(doc), "HUB052")
	contains(f.msg, "without .strip(), and the file ends with a newline")
}

test_hub052_not_when_stripped_or_no_newline if {
	not "HUB052" in ids(warns(configured))
	doc := with_setting("proxy_auth_token", object.remove(hub_good.proxy_auth_token, ["stripped"]))
	not "HUB052" in ids(warns(set(doc, "/files/proxy_token/secret/trailing_newline", false)))
}

test_hub053_syntax_error if {
	doc := set(configured, "/hub_config/errors", [{"file": hub_py, "line": 7, "msg": "SyntaxError: unterminated string literal"}])
	f := the(warns(doc), "HUB053")
	f.msg == "/etc/jupyterhub/jupyterhub_config.py line 7: SyntaxError: unterminated string literal."
	f.fix == "repair /etc/jupyterhub/jupyterhub_config.py line 7 (check with: python3 -m py_compile /etc/jupyterhub/jupyterhub_config.py)"
}

test_hub053_indentation_error if {
	e := {"file": hub_py, "line": 3, "msg": "TabError: inconsistent use of tabs and spaces in indentation (Python refuses the whole file, so the hub does not start; hubsecrets read the statements before line 3)"}
	f := the(warns(set(configured, "/hub_config/errors", [e])), "HUB053")
	startswith(f.msg, "/etc/jupyterhub/jupyterhub_config.py line 3: TabError: inconsistent use of tabs and spaces")
	f.fix == "repair /etc/jupyterhub/jupyterhub_config.py line 3 (check with: python3 -m py_compile /etc/jupyterhub/jupyterhub_config.py)"
}

test_hub053_not_without_errors if {
	not "HUB053" in ids(warns(configured))
}

test_hub054_dhparam_elsewhere if {
	other := {"value": "/etc/letsencrypt/ssl-dhparams.pem", "file": site, "line": 5}
	doc := set(configured, "/nginx/dhparams", [other])
	f := the(warns(doc), "HUB054")
	f.path == site
	contains(f.msg, "line 5: ssl_dhparam names /etc/letsencrypt/ssl-dhparams.pem, not the checked /srv/jupyterhub/dhparam.pem")
	f.fix == `sudo sed -i '5s|^\([[:space:]]*\).*|\1ssl_dhparam /srv/jupyterhub/dhparam.pem;|' /etc/nginx/sites-enabled/hub`
}

test_hub054_not_for_the_checked_file if {
	not "HUB054" in ids(warns(configured))
}

# 436 is 0o664.
weak_dh_file := object.union(root_file("/opt/dh1024.pem", 436), {"dh": {
	"parsed": true, "prime_bits": 1024, "generator": 2, "prime_probable": true,
	"safe_prime": true, "generator_valid": true, "weak_group": "oakley-group-2",
}})

test_hub055_weak_dh_file if {
	doc := set(configured, "/nginx/dh_files", {"/opt/dh1024.pem": weak_dh_file})
	f := the(denies(doc), "HUB055")
	f.path == "/opt/dh1024.pem"
	contains(f.msg, "its mode 0664 lets users other than its owner replace it")
	contains(f.msg, "its prime has 1024 bits, fewer than 2048")
	contains(f.msg, "known weak or widely shared group oakley-group-2")
	f.fix == "sudo hubsecrets dhparam --group ffdhe2048 -o /opt/dh1024.pem --force  # or point ssl_dhparam at the checked /srv/jupyterhub/dhparam.pem"
	g := the(denies(set(configured, "/nginx/dh_files", {"/x.pem": missing("/x.pem")})), "HUB055")
	contains(g.msg, "does not exist")
	h := the(denies(set(configured, "/nginx/dh_files", {"/x.pem": object.union(root_file("/x.pem", mode_0644), {"dh": {"parsed": false, "parse_error": "no PEM"}})})), "HUB055")
	contains(h.msg, "does not parse as PEM DH parameters (no PEM)")
}

test_hub055_not_for_good_or_unchecked_files if {
	good := object.union(root_file("/etc/letsencrypt/ssl-dhparams.pem", mode_0644), {"dh": good_instance.files.dhparam.dh})
	not "HUB055" in ids(denies(set(configured, "/nginx/dh_files", {"/etc/letsencrypt/ssl-dhparams.pem": good})))
	unread := object.union(root_file("/x.pem", mode_0644), {"error": "permission denied"})
	not "HUB055" in ids(denies(set(configured, "/nginx/dh_files", {"/x.pem": unread})))
}

test_hub056_dhe_without_dhparam if {
	f := the(warns(without_server_dh), "HUB056")
	f.path == site
	contains(f.msg, "The server block at /etc/nginx/sites-enabled/hub line 1 (server_name hub.example.org) uses TLS and nginx's default ssl_ciphers HIGH:!aNULL:!MD5 enables DHE-RSA-AES256-GCM-SHA384, DHE-RSA-CHACHA20-POLY1305, DHE-RSA-AES128-GCM-SHA256 and 1 more DHE suites")
	contains(f.fix, "add to the server block at /etc/nginx/sites-enabled/hub line 1: ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:")
	contains(f.fix, "; or add to the server block at /etc/nginx/sites-enabled/hub line 1: ssl_dhparam /srv/jupyterhub/dhparam.pem;")
	doc := set(without_server_dh, "/nginx/servers/0/ciphers", {"value": "EDH+AESGCM", "file": "/etc/nginx/nginx.conf", "line": 9})
	g := the(warns(doc), "HUB056")
	contains(g.msg, "ssl_ciphers EDH+AESGCM (/etc/nginx/nginx.conf line 9) enables")
	startswith(g.fix, "in /etc/nginx/nginx.conf, replace line 9 with: ssl_ciphers ECDHE-")
}

test_hub056_not_with_dhparam_without_dhe_or_tls if {
	not "HUB056" in ids(warns(configured))
	not "HUB056" in ids(warns(set(without_server_dh, "/nginx/servers/0/dhe_suites", false)))
	not "HUB056" in ids(warns(set(without_server_dh, "/nginx/servers/0/tls", false)))
}

test_hub057_nginx_error if {
	doc := set(configured, "/nginx/errors", [{"file": site, "line": 4, "msg": "\"listen\" directive is not terminated by \";\""}])
	f := the(warns(doc), "HUB057")
	contains(f.msg, "/etc/nginx/sites-enabled/hub line 4: \"listen\" directive is not terminated by \";\": nginx refuses")
	f.fix == "repair /etc/nginx/sites-enabled/hub line 4, then check with: sudo nginx -t"
	g := the(warns(set(configured, "/nginx/errors", [{"file": "/etc/nginx/nginx.conf", "line": 0, "msg": "include cycle"}])), "HUB057")
	startswith(g.msg, "/etc/nginx/nginx.conf: include cycle")
}

test_hub057_not_without_errors if {
	not "HUB057" in ids(warns(configured))
}

test_no_config_sections_no_config_findings if {
	count(ids(findings(good_instance)) & config_ids) == 0
	count(ids(findings(tutorial)) & config_ids) == 0
}
