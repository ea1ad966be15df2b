#!/bin/sh
# A throwaway Debian bookworm root that boots under systemd-nspawn and runs
# Debian's own JupyterHub, for `make e2e` (scripts/e2e/nspawn.sh).
#
#   hub-root.sh build     debootstrap it once into the cache (a few minutes) and
#                         print the tarball's path; later calls only print it
#
# The root holds: systemd as PID 1, libnss-myhostname (its host name resolves
# without DNS), openssh-server and sudo (so
# scripts/testenv/sshd-root.sh can serve it to Packer:
# HUBSECRETS_SSH_TARBALL=$(hub-root.sh build) sshd-root.sh start), openssl (the
# tutorial's commands), prometheus-node-exporter (make e2e's Prometheus case
# runs it; its own unit is left disabled, so no other instance runs it), and
# jupyterhub 3.0.0 with node-configurable-http-proxy, configured as README.md
# tells users:
#   - /etc/jupyterhub/jupyterhub_config.py (written by the package's postinst)
#     gets README.md's two lines: cookie_secret_file, and the proxy token read
#     from /srv/jupyterhub/proxy_auth_token;
#   - Debian's jupyterhub.service runs `-f .../jupyterhub_config.d/config.yaml`,
#     which traitlets turns into config.py/config.json in that directory, and
#     neither exists: the stock unit loads no configuration at all. A drop-in
#     (jupyterhub.service.d/10-config.conf) points ExecStart at
#     /etc/jupyterhub/jupyterhub_config.py, the file Debian's README.Debian.md
#     tells admins to edit;
#   - for the test only: DummyAuthenticator (any password), so a script can
#     log a user in without PAM and keep the cookie.
# No secret is in the root: the hub never ran. /etc/machine-id is empty, as in
# Debian's cloud images.
#
# Needs root and debootstrap. Env: HUBSECRETS_CACHE (default REPO/.cache),
# DEBIAN_MIRROR (default: the mirror apt uses).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/testenv/lib.sh
. "$repo/scripts/testenv/lib.sh"
cache=${HUBSECRETS_CACHE:-$repo/.cache}
suite=bookworm
# Bump when the recipe below changes, so a stale cached root is not reused.
recipe=3
tarball=$cache/rootfs/$suite-hub-r$recipe.tar.gz

die() { echo "hub-root.sh: $*" >&2; exit 1; }
say() { echo "hub-root.sh: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"

build() {
	if [ -f "$tarball" ]; then echo "$tarball"; return 0; fi
	command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
	mkdir -p "$cache/rootfs"
	work=$(mktemp -d "$cache/rootfs/hubbuild.XXXXXX")
	root=$work/root
	trap 'umount_under "$root"; rm -rf "$work"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	m=$(mirror) || exit 2
	say "debootstrap $suite (minbase, systemd, openssh-server, sudo, openssl) from $m"
	debootstrap --variant=minbase --include=systemd-sysv,openssh-server,sudo,openssl "$suite" "$root" "$m" >"$work/log" 2>&1 ||
		{ tail -n 20 "$work/log" >&2; die "debootstrap failed (log above)"; }
	umount_under "$root"

	say "apt-get install jupyterhub node-configurable-http-proxy prometheus-node-exporter (in the root)"
	# Nothing may start in the chroot: no systemd runs there, and
	# policy-rc.d makes sure of it.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc"
	{
		chroot "$root" apt-get update &&
			DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends \
				jupyterhub node-configurable-http-proxy libnss-myhostname prometheus-node-exporter
	} >>"$work/log" 2>&1 || { tail -n 30 "$work/log" >&2; die "apt-get install in the root failed (log above)"; }
	umount_under "$root"
	rm -f "$root/usr/sbin/policy-rc.d"

	# The e2e case starts node_exporter itself, listening on 127.0.0.1.
	rm -f "$root/etc/systemd/system/multi-user.target.wants/prometheus-node-exporter.service"
	[ -x "$root/usr/bin/prometheus-node-exporter" ] || die "the prometheus-node-exporter package installed no /usr/bin/prometheus-node-exporter"

	cfg=$root/etc/jupyterhub/jupyterhub_config.py
	[ -f "$cfg" ] || die "the jupyterhub package wrote no $cfg"
	[ -L "$root/etc/systemd/system/multi-user.target.wants/jupyterhub.service" ] ||
		die "the jupyterhub package did not enable jupyterhub.service"
	cat >>"$cfg" <<-'PY'

		# --- hubsecrets: the secrets, as README.md tells users ---
		from pathlib import Path
		c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'
		c.ConfigurableHTTPProxy.auth_token = Path('/srv/jupyterhub/proxy_auth_token').read_text().strip()

		# --- hubsecrets e2e test only: log a user in without PAM ---
		c.JupyterHub.authenticator_class = 'jupyterhub.auth.DummyAuthenticator'
		c.Authenticator.allowed_users = {'e2e'}
	PY
	mkdir -p "$root/etc/systemd/system/jupyterhub.service.d"
	cat >"$root/etc/systemd/system/jupyterhub.service.d/10-config.conf" <<-'UNIT'
		# Debian's unit passes -f .../jupyterhub_config.d/config.yaml, which
		# loads nothing (traitlets looks for config.py and config.json there).
		# Use the file README.Debian.md tells admins to edit.
		[Service]
		ExecStart=
		ExecStart=/usr/bin/python3 -m jupyterhub.app -f /etc/jupyterhub/jupyterhub_config.py --upgrade-db
	UNIT

	# The hub reaches its proxy at http://HOSTNAME:8000: the host name must
	# resolve without DNS (containers have no network), whatever the build
	# host's name was. libnss-myhostname's postinst added it to nsswitch.conf.
	echo jupyterhub >"$root/etc/hostname"
	grep -q '^hosts:.*myhostname' "$root/etc/nsswitch.conf" || die "libnss-myhostname is not in $root/etc/nsswitch.conf"

	# Per copy, not per tarball: host keys, machine id, caches.
	rm -f "$root"/etc/ssh/ssh_host_*
	: >"$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id"
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	[ ! -e "$root/srv/jupyterhub" ] || die "the root already has /srv/jupyterhub: the recipe made a secret?"
	tar -C "$root" -czf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	say "cached $tarball ($(du -h "$tarball" | cut -f1))"
	echo "$tarball"
}

case ${1:-} in
build) build ;;
*) die "usage: hub-root.sh build   (prints the cached tarball's path, building it once)" ;;
esac
