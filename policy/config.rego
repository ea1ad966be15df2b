# The hub's configuration (input.hub_config), in both profiles: the checked
# files matter only if the hub uses them. The section is present only when
# jupyterhub_config.py exists in the scanned root; a finding names the file
# and line, and its fix the line to write. nginx's side is nginx.rego.
package hubsecrets

hub := input.hub_config

hub_file := hub.path

checked_cookie := input.files.cookie_secret.path

checked_token := input.files.proxy_token.path

checked_dh := input.files.dhparam.path

# py quotes a path as a Python string literal.
py(s) := sprintf("'%s'", [s]) if {
	regex.match(`^[ -&(-\[\]-~]*$`, s)
} else := sprintf("%q", [s])

# config_obj is the name the config uses for its config object ("c").
config_obj(s) := split(s.attr, ".")[0] if {
	s.attr != ""
} else := "c"

cookie_file_line := sprintf("%s.JupyterHub.cookie_secret_file = %s", [config_obj(hub.cookie_secret_file), py(checked_cookie)])

token_line := sprintf(
	"%s.ConfigurableHTTPProxy.auth_token = open(%s).read().strip()",
	[config_obj(hub.proxy_auth_token), py(checked_token)],
)

# where(s) names a setting's line for a message.
where(s) := sprintf("%s line %d", [show(hub_file), s.line])

# write_fix replaces the setting's line (keeping its indentation), or adds
# one, with a command that works as printed.
write_fix(s, line) := replace_line_fix(hub_file, s.line, line) if {
	s.line > 0
} else := sprintf("printf '%%s\\n' %s | sudo tee -a %s >/dev/null", [sh(line), sh(hub_file)])

# replace_line_fix is a sed command that replaces line n of file with line,
# keeping the line's leading whitespace.
replace_line_fix(file, n, line) := sprintf("sudo sed -i %s %s", [sh(sprintf(`%ds|^\([[:space:]]*\).*|\1%s|`, [n, sed_text(line)])), sh(file)])

# sed_text escapes text for the replacement of sed's s|...|...| command.
sed_text(t) := replace(replace(replace(t, `\`, `\\`), "&", `\&`), "|", `\|`)

default maybe(_) := ""

maybe(s) := " (inside an if, for, def or except block: it may not even run)" if s.conditional

absolute(p) if startswith(p, "/")

# cookie_secret_set: the config sets cookie_secret, which wins over any file.
cookie_secret_set if hub.cookie_secret.kind != "unset"

# METADATA
# title: Hub reads another cookie secret file
# description: >-
#   jupyterhub_config.py sets c.JupyterHub.cookie_secret_file to a file other
#   than the checked cookie secret, so the hub signs its cookies with a secret
#   hubsecrets neither checks nor renews on a new instance.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub043
#     description: HUB043 in the rule reference
# custom:
#   id: HUB043
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.cookie_secret_file
	s.kind == "file"
	absolute(s.path)
	s.path != checked_cookie
	not cookie_secret_set
	msg := sprintf(
		"%s sets %s to %s, not the checked %s%s: the hub signs its cookies with a secret hubsecrets neither checks nor renews on a new instance.",
		[where(s), s.attr, show(s.path), show(checked_cookie), maybe(s)],
	)
	fix := write_fix(s, cookie_file_line)
}

# METADATA
# title: Cookie secret written in the hub's config
# description: >-
#   jupyterhub_config.py sets c.JupyterHub.cookie_secret to a literal, to an
#   environment variable with a literal fallback (os.environ.get(NAME,
#   '...'), os.getenv(NAME, default='...')), or to an expression around a
#   literal that looks like a key (an f-string's or a concatenation's
#   constant part): the secret lives in a config file (kept in images,
#   backups and version control, and the same on every instance made from an
#   image), and the hub ignores the checked cookie secret file. The value is
#   never shown.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub045
#     description: HUB045 in the rule reference
# custom:
#   id: HUB045
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.cookie_secret
	s.kind == "literal"
	not s.empty
	msg := sprintf(
		"%s %s%s: it is copied with every image, backup and checkout of the file, shared by every instance made from it, and the checked %s is ignored.",
		[where(s), inline_text(s, "the cookie secret"), maybe(s), show(checked_cookie)],
	)
	fix := sprintf("%s && %s  # rotates the exposed secret", [write_fix(s, cookie_file_line), rotate])
}

# METADATA
# title: Proxy token written in the hub's config
# description: >-
#   jupyterhub_config.py sets c.ConfigurableHTTPProxy.auth_token to a
#   literal, to an environment variable with a literal fallback
#   (os.environ.get('CONFIGPROXY_AUTH_TOKEN', '...')), or to an expression
#   around a literal that looks like a key (an f-string's or a
#   concatenation's constant part): whoever reads the config file (or an
#   image or backup of it) can drive the proxy's API, the token is the same
#   on every instance made from an image, and the checked proxy_auth_token is
#   unused. The value is never shown.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub047
#     description: HUB047 in the rule reference
# custom:
#   id: HUB047
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.proxy_auth_token
	s.kind == "literal"
	not s.empty
	msg := sprintf(
		"%s %s%s: whoever reads the file (or an image or backup of it) can reroute every user through the proxy's API, every instance made from it shares the token, and the checked %s is unused.",
		[where(s), inline_text(s, "the proxy token"), maybe(s), show(checked_token)],
	)
	fix := sprintf("%s && %s  # rotates the exposed token", [write_fix(s, token_line), rotate])
}

# METADATA
# title: Hub reads its proxy token from another file
# description: >-
#   jupyterhub_config.py reads c.ConfigurableHTTPProxy.auth_token from a file
#   other than the checked proxy_auth_token, so the token in use is one
#   hubsecrets neither checks nor renews on a new instance.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub048
#     description: HUB048 in the rule reference
# custom:
#   id: HUB048
#   severity: deny
#   profile: both
deny contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.proxy_auth_token
	s.kind == "file"
	absolute(s.path)
	s.path != checked_token
	msg := sprintf(
		"%s reads %s from %s, not the checked %s%s: the proxy token in use is one hubsecrets neither checks nor renews on a new instance.",
		[where(s), s.attr, show(s.path), show(checked_token), maybe(s)],
	)
	fix := write_fix(s, token_line)
}

# METADATA
# title: Hub's cookie secret file not set, or not where hubsecrets can see
# description: >-
#   jupyterhub_config.py does not set c.JupyterHub.cookie_secret_file (the hub
#   then uses jupyterhub_cookie_secret in its working directory, or
#   JPY_COOKIE_SECRET), sets a relative path (against that working directory),
#   or takes it from an environment variable. hubsecrets cannot tell whether
#   that is the checked file.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub044
#     description: HUB044 in the rule reference
# custom:
#   id: HUB044
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	not cookie_secret_set
	why := cookie_file_unclear(hub.cookie_secret_file)
	msg := sprintf("%s: hubsecrets cannot tell whether the hub uses the checked %s.", [why, show(checked_cookie)])
	fix := write_fix(hub.cookie_secret_file, cookie_file_line)
}

# METADATA
# title: Cookie secret set in the hub's config from elsewhere
# description: >-
#   jupyterhub_config.py sets c.JupyterHub.cookie_secret from a file, the
#   environment or an expression. It wins over cookie_secret_file, so the hub
#   skips JupyterHub's own permission check and hex decoding of the checked
#   file.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub046
#     description: HUB046 in the rule reference
# custom:
#   id: HUB046
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.cookie_secret
	s.kind in {"file", "env", "unknown"}
	msg := sprintf(
		"%s sets %s from %s%s: it wins over cookie_secret_file, so JupyterHub neither checks the permissions of nor hex-decodes the checked %s.",
		[where(s), s.attr, source_text(s), maybe(s), show(checked_cookie)],
	)
	fix := write_fix(s, cookie_file_line)
}

# METADATA
# title: Proxy token not set in the hub's config
# description: >-
#   jupyterhub_config.py does not set c.ConfigurableHTTPProxy.auth_token (or
#   sets it to ''). The hub then takes CONFIGPROXY_AUTH_TOKEN from its
#   environment or makes a new random token at every start, so a proxy that
#   outlives a hub restart refuses it (403), and the checked proxy_auth_token
#   is unused.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub049
#     description: HUB049 in the rule reference
# custom:
#   id: HUB049
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.proxy_auth_token
	token_unwired(s)
	msg := sprintf(
		"%s: the hub takes CONFIGPROXY_AUTH_TOKEN from its environment or makes a new token at every start, so a proxy that outlives a hub restart answers 403, and the checked %s is unused.",
		[token_unwired_text(s), show(checked_token)],
	)
	fix := write_fix(s, token_line)
}

# METADATA
# title: Proxy token taken from the environment
# description: >-
#   jupyterhub_config.py takes c.ConfigurableHTTPProxy.auth_token from an
#   environment variable. hubsecrets cannot see the hub service's environment:
#   unless the service sets the variable from the checked proxy_auth_token,
#   the token is missing (a new one every start) or comes from somewhere
#   unchecked. A warning, not a denial: setting it from the file with the
#   service's EnvironmentFile= or a wrapper is a sound design.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub050
#     description: HUB050 in the rule reference
# custom:
#   id: HUB050
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.proxy_auth_token
	s.kind == "env"
	msg := sprintf(
		"%s takes %s from the environment variable %s%s: unless the hub's service sets it from the checked %s, the token is missing (a new one every start) or unchecked.",
		[where(s), s.attr, show(s.env), maybe(s), show(checked_token)],
	)
	fix := write_fix(s, token_line)
}

# METADATA
# title: Hub config setting hubsecrets cannot evaluate
# description: >-
#   jupyterhub_config.py sets the cookie secret file or the proxy token with an
#   expression hubsecrets does not evaluate (it reads literals, os.path.join,
#   pathlib paths, open(...).read(), Path(...).read_text(), os.environ), or
#   reads the token from a relative path. hubsecrets cannot tell whether the
#   hub uses the checked files.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub051
#     description: HUB051 in the rule reference
# custom:
#   id: HUB051
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	some name, line in {"cookie_secret_file": cookie_file_line, "proxy_auth_token": token_line}
	s := hub[name]
	unclear_expression(s)
	not name_overridden(name)
	msg := sprintf(
		"%s sets %s %s%s: hubsecrets cannot tell whether the hub uses the checked file.",
		[where(s), s.attr, unclear_text(s), maybe(s)],
	)
	fix := write_fix(s, line)
}

# METADATA
# title: Proxy token read with its newline
# description: >-
#   jupyterhub_config.py reads the checked proxy_auth_token without .strip(),
#   and the file ends with a newline (as hubsecrets writes it): the token then
#   ends with a newline, which HTTP headers cannot carry, so the hub's calls to
#   the proxy's API fail.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub052
#     description: HUB052 in the rule reference
# custom:
#   id: HUB052
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), hub_file, msg, fix) if {
	s := hub.proxy_auth_token
	s.kind == "file"
	s.path == checked_token
	not s.stripped
	input.files.proxy_token.secret.trailing_newline
	msg := sprintf(
		"%s reads %s into %s without .strip(), and the file ends with a newline: the token carries it, HTTP headers cannot, and the hub's calls to the proxy's API fail.",
		[where(s), show(checked_token), s.attr],
	)
	fix := write_fix(s, token_line)
}

# METADATA
# title: Hub config does not compile
# description: >-
#   jupyterhub_config.py has an error Python's tokenizer refuses: an
#   unterminated string or bracket, mismatched brackets, an unexpected or
#   inconsistent indentation (IndentationError, TabError), a character that is
#   not Python, a malformed number, a bad escape (\x, \u, \U, \N{...}), a
#   malformed f-string, a NUL byte, invalid UTF-8. Python refuses the whole
#   file, so the hub does not start; hubsecrets read only the statements
#   before the error.
# related_resources:
#   - ref: https://github.com/hubsecrets/packer-plugin-jupyterhub/blob/main/policy/README.md#hub053
#     description: HUB053 in the rule reference
# custom:
#   id: HUB053
#   severity: warn
#   profile: both
warn contains finding(rego.metadata.rule(), e.file, msg, fix) if {
	some e in hub.errors
	msg := sprintf("%s line %d: %s.", [show(e.file), e.line, e.msg])
	fix := sprintf("repair %s line %d (check with: python3 -m py_compile %s)", [e.file, e.line, sh(e.file)])
}

# nginx

cookie_file_unclear(s) := sprintf(
	"%s does not set c.JupyterHub.cookie_secret_file, so the hub reads jupyterhub_cookie_secret in its working directory (or JPY_COOKIE_SECRET)",
	[show(hub_file)],
) if {
	s.kind == "unset"
}

cookie_file_unclear(s) := sprintf(
	"%s sets %s to the relative path %s, which the hub resolves against its working directory%s",
	[where(s), s.attr, show(s.path), maybe(s)],
) if {
	s.kind == "file"
	not absolute(s.path)
}

cookie_file_unclear(s) := sprintf(
	"%s takes %s from the environment variable %s%s",
	[where(s), s.attr, show(s.env), maybe(s)],
) if {
	s.kind == "env"
}

# inline_text says how a secret is written into the config (never what it
# is): itself, as an environment variable's fallback, or as a key-looking
# part of an expression.
inline_text(s, what) := sprintf(
	"writes %s into %s as the fallback of the environment variable %s (the literal is in the file, and the hub uses it whenever %s is unset)",
	[what, s.attr, show(s.env), show(s.env)],
) if {
	s.fallback
} else := sprintf(
	"builds %s around a literal that looks like a key (16 or more hex or base64 characters), so part of %s is written in the file",
	[s.attr, what],
) if {
	s.partial
} else := sprintf("writes %s itself into %s", [what, s.attr])

source_text(s) := sprintf("the file %s", [show(s.path)]) if s.kind == "file"

source_text(s) := sprintf("the environment variable %s", [show(s.env)]) if s.kind == "env"

source_text(s) := "an expression hubsecrets does not evaluate" if s.kind == "unknown"

token_unwired(s) if s.kind == "unset"

token_unwired(s) if {
	s.kind == "literal"
	s.empty
}

token_unwired_text(s) := sprintf("%s does not set c.ConfigurableHTTPProxy.auth_token", [show(hub_file)]) if {
	s.kind == "unset"
} else := sprintf("%s sets %s to ''%s", [where(s), s.attr, maybe(s)])

unclear_expression(s) if s.kind == "unknown"

unclear_expression(s) if {
	s.kind == "file"
	s.attr != ""
	not absolute(s.path)
	not endswith(s.attr, "cookie_secret_file") # HUB044 says it for the cookie secret
}

unclear_text(s) := "with an expression hubsecrets does not evaluate" if {
	s.kind == "unknown"
} else := sprintf("from the relative path %s (against the hub's working directory)", [show(s.path)])

# The cookie secret file does not matter when cookie_secret is set (HUB045,
# HUB046 say so).
name_overridden("cookie_secret_file") if cookie_secret_set
