# shellcheck shell=sh
# scripts/testenv/lib.sh: what the testenv root builders share (POSIX sh,
# sourced by sshd-root.sh, hub-root.sh and qemu-base.sh).
#
#   mirror            the Debian mirror to debootstrap from: DEBIAN_MIRROR, else
#                     the one apt already uses (no other host is assumed)
#   umount_under DIR  unmount every mount point at or below DIR, deepest first
#
# Both set the globals r and m (sh has no local).

mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
	# The mirror apt already uses: the only Debian network this host may reach.
	m=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	[ -n "$m" ] || m=$(sed -n 's/^deb \[*[^]]*\]* *\(http[^ ]*\/debian\)\/* .*/\1/p; s/^deb \(http[^ ]*\/debian\)\/* .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)
	if [ -z "$m" ]; then
		echo "testenv: no Debian mirror found in apt's sources (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list); set DEBIAN_MIRROR to the mirror debootstrap should use" >&2
		return 1
	fi
	echo "$m"
}

umount_under() {
	r=$(readlink -f "$1" 2>/dev/null) || return 0
	awk -v r="$r" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount "$m" || umount -l "$m"; done
}
