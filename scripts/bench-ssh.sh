#!/usr/bin/env bash
# make bench-scan, SSH part: `hubsecrets check --hosts FILE` with HOSTS (50)
# entries that are all the same sshd (scripts/testenv/sshd-root.sh), each under
# its own loopback address (127.0.0.1, .2, ...: check scans a host named
# twice once),
# at --parallel 1 and --parallel 16: wall time of each, per host, and the ratio.
# Loopback only. Needs root and the sshd root (debootstrap, cached after the
# first build); without root it says so and exits 0, so bench-scan's other
# figures still count.
set -euo pipefail
HUBSECRETS=${1:?usage: bench-ssh.sh PATH-TO-hubsecrets [N]}
HUBSECRETS=$(cd "$(dirname "$HUBSECRETS")" && pwd)/$(basename "$HUBSECRETS")
N=${2:-${N:-1}} # rounds; the median is printed
HOSTS=${HOSTS:-50}
export HUBSECRETS
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib/sample-roots.sh
. "$here/lib/sample-roots.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-ssh: skipped: needs root (sshd runs chrooted in a Debian root)" >&2
	exit 0
fi
command -v ssh-keyscan >/dev/null || { echo "bench-ssh: needs ssh-keyscan (apt-get install openssh-client)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench-ssh.XXXXXX")
state=$tmp/sshd
cleanup() {
	"$here/testenv/sshd-root.sh" stop "$state" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$here/testenv/sshd-root.sh" start "$state" >"$tmp/env" 2>"$tmp/start.log"; then
	cat "$tmp/start.log" >&2
	exit 2
fi
# shellcheck disable=SC1091
. "$tmp/env"
root=$HUBSECRETS_SSH_ROOT port=$HUBSECRETS_SSH_PORT

# sshd drops, at random, unauthenticated connections beyond MaxStartups
# (10 by default): raise it, so --parallel 16 measures hubsecrets and not
# that throttle. SIGHUP makes sshd re-execute itself with the new setting.
# It also listens on 127.0.0.2 and up (all loopback), one address a host.
{
	echo "MaxStartups 100"
	for i in $(seq 2 "$HOSTS"); do echo "ListenAddress 127.0.0.$i"; done
} >"$root/etc/ssh/sshd_config.d/zz-hubsecrets-bench.conf"
listening() { grep -c "Server listening on 127.0.0.1 port $port" "$state/sshd.log" || true; }
before=$(listening)
kill -HUP "$(cat "$state/sshd.pid")"
for _ in $(seq 100); do [ "$(listening)" -gt "$before" ] && break; sleep 0.1; done
[ "$(listening)" -gt "$before" ] || { echo "bench-ssh: sshd did not come back after SIGHUP" >&2; exit 2; }

# A correct secrets directory, so every host passes and exits 0.
correct_root "$tmp/sample"
rm -rf "$root/srv/jupyterhub"
cp -a "$tmp/sample/srv/jupyterhub" "$root/srv/jupyterhub"

ssh-keyscan -p "$port" 127.0.0.1 >"$tmp/keys" 2>/dev/null
for i in $(seq "$HOSTS"); do sed "s/^\[127\.0\.0\.1\]/[127.0.0.$i]/" "$tmp/keys"; done >"$tmp/known_hosts"
for i in $(seq "$HOSTS"); do echo "root@127.0.0.$i:$port"; done >"$tmp/hosts"
check() { "$HUBSECRETS" check --hosts "$tmp/hosts" --identity "$HUBSECRETS_SSH_KEY" --known-hosts "$tmp/known_hosts" --format json --parallel "$1"; }

if ! check 16 >"$tmp/out" 2>"$tmp/err" || [ "$(wc -l <"$tmp/out")" -ne "$HOSTS" ]; then
	echo "bench-ssh: the check did not pass on all $HOSTS hosts:" >&2
	head -n 20 "$tmp/err" >&2
	exit 2
fi

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e9}'; }
for ((i = 0; i < N; i++)); do
	for p in 1 16; do
		t0=$(now); check "$p" >/dev/null; t1=$(now)
		echo $((t1 - t0)) >>"$tmp/p$p.ns"
	done
done
s1=$(median <"$tmp/p1.ns"); s16=$(median <"$tmp/p16.ns")

printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'hubsecrets check --hosts: %d entries, root@127.0.0.{1..%d}:%s (one chrooted sshd on each address, MaxStartups 100); median of %d\n' "$HOSTS" "$HOSTS" "$port" "$N"
awk -v s="$s1" -v n="$HOSTS" 'BEGIN {printf "  --parallel 1   %7.2f s  (%.0f ms a host)\n", s, s * 1000 / n}'
awk -v s="$s16" -v n="$HOSTS" 'BEGIN {printf "  --parallel 16  %7.2f s  (%.0f ms a host)\n", s, s * 1000 / n}'
awk -v a="$s1" -v b="$s16" 'BEGIN {printf "  ratio parallel 1 / parallel 16: %.2fx\n", a / b}'
echo "  (client, sshd and every remote shell share this machine's cores: the ratio is bounded by them, not by the hosts)"
