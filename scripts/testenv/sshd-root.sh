#!/bin/sh
# A throwaway Debian bookworm root with sshd, for the provisioner's acceptance
# test: Packer's null builder connects to 127.0.0.1:PORT and provisions the
# root as if it were an image.
#
#   sshd-root.sh build        debootstrap the cached root tarball (once, ~1 min)
#   sshd-root.sh start [DIR]  unpack a fresh copy into DIR (default: a new
#                             directory under the cache), start sshd chrooted
#                             in it on 127.0.0.1, print KEY=VALUE lines:
#                               HUBSECRETS_SSH_STATE  DIR (give it to stop)
#                               HUBSECRETS_SSH_ROOT   the root sshd serves
#                               HUBSECRETS_SSH_PORT   its port on 127.0.0.1
#                               HUBSECRETS_SSH_KEY    private key for every user
#                             Users: root (key), builder (key, passwordless
#                             sudo), needspw (key, sudo only with a password).
#   sshd-root.sh stop DIR [KEEP]
#                             kill everything running in DIR's root, unmount
#                             what start mounted, remove DIR; with KEEP (a
#                             path that does not exist yet, on the same file
#                             system), move the served root there first
#
# Needs root and debootstrap (apt-get install debootstrap). Env:
# HUBSECRETS_CACHE (default REPO/.cache), DEBIAN_MIRROR (default: apt's),
# HUBSECRETS_SSH_TARBALL (serve this root tarball instead of the minimal one,
# e.g. scripts/testenv/hub-root.sh's; it needs openssh-server and sudo),
# SSHD_ROOT_PACKAGES (more packages for the built root, comma separated, e.g.
# python3 for Ansible's modules: cached as its own tarball, so the minimal
# root's users are not affected).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/testenv/lib.sh
. "$repo/scripts/testenv/lib.sh"
cache=${HUBSECRETS_CACHE:-$repo/.cache}
suite=bookworm
extra=${SSHD_ROOT_PACKAGES:-}
case $extra in *[!a-z0-9.+,-]*) echo "sshd-root.sh: SSHD_ROOT_PACKAGES=$extra: want package names separated by commas" >&2; exit 1 ;; esac
# Each package set is its own cached root: bookworm-sshd.tar.gz for none,
# bookworm-sshd+python3.tar.gz for python3, and so on.
tarball=$cache/rootfs/$suite-sshd${extra:+"+$(echo "$extra" | tr , +)"}.tar.gz

die() { echo "sshd-root.sh: $*" >&2; exit 1; }
say() { echo "sshd-root.sh: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mknod)"

build() {
	[ -f "$tarball" ] && return 0
	command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
	mkdir -p "$cache/rootfs"
	work=$(mktemp -d "$cache/rootfs/build.XXXXXX")
	# debootstrap mounts /proc and /sys in the target while it runs; make
	# sure nothing stays mounted if it is interrupted.
	trap 'umount_under "$work/root"; rm -rf "$work"' EXIT INT TERM
	mirror_url=$(mirror) || exit 2
	say "debootstrap $suite (minbase + openssh-server, sudo${extra:+,$extra}) from $mirror_url"
	debootstrap --variant=minbase --include=openssh-server,sudo${extra:+,$extra} "$suite" "$work/root" "$mirror_url" >"$work/log" 2>&1 ||
		{ tail -n 20 "$work/log" >&2; die "debootstrap failed (log above)"; }
	umount_under "$work/root"
	# Host keys and caches are per copy, not per tarball.
	rm -f "$work/root"/etc/ssh/ssh_host_*
	rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/*
	tar -C "$work/root" -czf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$work"
	trap - EXIT INT TERM
	say "cached $tarball ($(du -h "$tarball" | cut -f1))"
}

free_port() {
	p=$((20000 + $$ % 20000))
	while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

start() {
	if [ -n "${HUBSECRETS_SSH_TARBALL:-}" ]; then
		tarball=$HUBSECRETS_SSH_TARBALL
		[ -f "$tarball" ] || die "HUBSECRETS_SSH_TARBALL=$tarball: no such file"
	else
		build
	fi
	state=${1:-}
	if [ -z "$state" ]; then
		mkdir -p "$cache/run"
		state=$(mktemp -d "$cache/run/sshd.XXXXXX")
	fi
	mkdir -p "$state"
	state=$(cd "$state" && pwd)
	root=$state/root
	[ ! -e "$root" ] || die "$root exists: stop the previous run first (sshd-root.sh stop $state)"
	mkdir "$root"
	tar -C "$root" -xzf "$tarball"

	# sudo and /dev/std* need /proc; mounted here, unmounted by stop.
	mount -t proc proc "$root/proc"
	chroot "$root" ssh-keygen -q -A >&2
	mkdir -p "$root/run/sshd" && chmod 0755 "$root/run/sshd"

	# One client key for every user.
	rm -f "$state/id_ed25519" "$state/id_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -C hubsecrets-testenv -f "$state/id_ed25519"
	for u in builder needspw; do
		chroot "$root" useradd -m -s /bin/sh "$u"
		# "*": no password, but not locked (sshd refuses locked accounts).
		chroot "$root" usermod -p '*' "$u"
	done
	chroot "$root" usermod -aG sudo needspw
	echo 'builder ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/builder"
	chmod 0440 "$root/etc/sudoers.d/builder"
	for h in /root /home/builder /home/needspw; do
		mkdir -p "$root$h/.ssh"
		cp "$state/id_ed25519.pub" "$root$h/.ssh/authorized_keys"
		chmod 0700 "$root$h/.ssh"
		chmod 0600 "$root$h/.ssh/authorized_keys"
	done
	chroot "$root" sh -c 'chown -R builder: /home/builder/.ssh && chown -R needspw: /home/needspw/.ssh'
	echo "127.0.0.1 localhost $(hostname)" >"$root/etc/hosts"

	cat >"$root/etc/ssh/sshd_config.d/hubsecrets-testenv.conf" <<-'EOF'
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
	EOF

	# A taken port makes sshd exit at once: try the next one.
	tries=0
	while :; do
		port=$(free_port)
		: >"$state/sshd.log"
		setsid chroot "$root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 \
			>>"$state/sshd.log" 2>&1 </dev/null &
		echo $! >"$state/sshd.pid"
		n=0
		while [ $n -lt 50 ]; do
			grep -q "Server listening on 127.0.0.1 port $port" "$state/sshd.log" && break 2
			kill -0 "$(cat "$state/sshd.pid")" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$(cat "$state/sshd.pid")" 2>/dev/null || true
		tries=$((tries + 1))
		[ $tries -lt 5 ] || { cat "$state/sshd.log" >&2; stop_state "$state"; die "sshd did not start"; }
	done

	cat >"$state/env" <<-EOF
		HUBSECRETS_SSH_STATE=$state
		HUBSECRETS_SSH_ROOT=$root
		HUBSECRETS_SSH_PORT=$port
		HUBSECRETS_SSH_KEY=$state/id_ed25519
	EOF
	cat "$state/env"
}

stop_state() {
	state=$1
	keep=${2:-}
	root=$(readlink -f "$state/root" 2>/dev/null) || root=
	# Every process whose root is this chroot is ours: sshd and the sessions
	# it started. Nothing else on the host is touched.
	if [ -n "$root" ]; then
		for i in 1 2 3 4 5 6 7 8 9 10; do
			pids=
			for d in /proc/[0-9]*; do
				[ "$(readlink "$d/root" 2>/dev/null)" = "$root" ] && pids="$pids ${d#/proc/}"
			done
			[ -n "$pids" ] || break
			sig=TERM; [ $i -lt 5 ] || sig=KILL
			# shellcheck disable=SC2086
			kill -s $sig $pids 2>/dev/null || true
			sleep 0.2
		done
		umount_under "$root"
	fi
	if awk -v r="$root" 'r != "" && ($5 == r || index($5, r "/") == 1)' /proc/self/mountinfo | grep -q .; then
		die "still mounted under $root: not removing it"
	fi
	if [ -n "$keep" ] && [ -n "$root" ]; then
		mv "$root" "$keep" || die "cannot move $root to $keep (it must not exist yet, and be on the same file system)"
	fi
	rm -rf "$state"
}

case ${1:-} in
build) build ;;
start) shift; start "${1:-}" ;;
stop)
	[ -n "${2:-}" ] || die "usage: sshd-root.sh stop STATE_DIR [KEEP_ROOT_AS]"
	[ -f "$2/env" ] || [ -d "$2/root" ] || die "$2: not a state directory made by start"
	[ -z "${3:-}" ] || [ ! -e "$3" ] || die "$3 exists: KEEP_ROOT_AS must be a new path"
	stop_state "$2" "${3:-}"
	;;
*) die "usage: sshd-root.sh build | start [STATE_DIR] | stop STATE_DIR [KEEP_ROOT_AS]" ;;
esac
