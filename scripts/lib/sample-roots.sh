# shellcheck shell=bash
# Sample roots for the demo and the benchmarks; source it, then call
# tutorial_root DIR or correct_root DIR (HUBSECRETS must name the binary).
# Each root has its own etc/passwd and etc/group, as a mounted image would, so
# owners resolve the same whether or not this runs as root. Nothing here
# prints a secret.

# newroot DIR GROUPNAME: our uid is "root" and our gid GROUPNAME there, and
# /srv/jupyterhub is made as the tutorial makes it (0755).
newroot() {
	mkdir -p "$1/etc" "$1/srv/jupyterhub"
	printf 'root:x:%s:%s:root:/root:/bin/sh\n' "$(id -u)" "$(id -g)" >"$1/etc/passwd"
	printf '%s:x:%s:\n' "$2" "$(id -g)" >"$1/etc/group"
	chmod 0755 "$1/srv/jupyterhub"
}

# secret FILE: 32 random bytes as hex and a newline, mode 0600 from creation.
secret() {
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1" && echo >>"$1")
}

# tutorial_root DIR: what the tutorial really leaves behind: the cookie secret
# written to the misspelled jupyterhub_cookie_secretl, the real file empty,
# group sudo.
tutorial_root() {
	newroot "$1" sudo
	(
		cd "$1/srv/jupyterhub" || exit
		umask 022
		touch jupyterhub_cookie_secret && chmod 600 jupyterhub_cookie_secret
		secret jupyterhub_cookie_secretl && chmod 644 jupyterhub_cookie_secretl
		secret proxy_auth_token
		"$HUBSECRETS" dhparam --group ffdhe2048 --quiet -o dhparam.pem
	)
}

# correct_root DIR: what `hubsecrets init` makes.
correct_root() {
	newroot "$1" root
	(
		cd "$1/srv/jupyterhub" || exit
		secret jupyterhub_cookie_secret
		secret proxy_auth_token
		"$HUBSECRETS" dhparam --group ffdhe2048 --quiet -o dhparam.pem
	)
}
