#!/usr/bin/env bash
# make bench-provision: wall time of the `jupyterhub-secrets` provisioner step
# (defaults: ffdhe2048, first-boot hook, image check) against the tutorial's
# commands as an inline `shell` provisioner (whose `openssl dhparam 2048`
# runs on the target), both through real `packer build`s of the null builder
# against the same kind of SSH target, N rounds (default 5), the two sides in
# alternating order.
#
# Templates: scripts/bench/provision-{hubsecrets,tutorial}.pkr.hcl. In each,
# shell-local steps write the build host's clock right before and after the
# step, so the step's time excludes Packer's start-up and the SSH connection;
# the whole `packer build` is timed too. Two marks back to back measure what
# one provisioner hand-off costs: the floor under both step times.
#
# Target: every run (each side, each round) gets a fresh copy of the cached
# Debian root (scripts/testenv/sshd-root.sh start), with openssl installed
# into it before the build starts (untimed; the minbase root lacks it), sshd
# chrooted in it on 127.0.0.1, root over SSH. So both sides start from the
# same state and neither sees the other's files. After each build the copy is
# checked (untimed): both sides' dhparam.pem pass `openssl dhparam -check`,
# hubsecrets left no secret, the tutorial's `openssl dhparam` was seen
# running inside the copy's chroot (and hubsecrets' side never ran openssl
# there); then the copy is stopped and removed.
#
# Usage: scripts/bench-provision.sh [N]   (root; debootstrap on first use)
# Env: PLUGIN (default REPO/bin/packer-plugin-jupyterhub, built by
# `make plugin`), HUBSECRETS_CACHE (default REPO/.cache), BENCH_LOGS=DIR
# keeps every build's output there (no secret is in it).
# The tutorial's side is dominated by a random safe-prime search (5 to 60 s
# at 2048 bits), so its single runs vary tenfold; other load on the machine
# moves every figure too.
set -eu
N=${1:-5}
case $N in
'' | *[!0-9]* | 0)
	echo "usage: $0 [N]   (N rounds, default 5)" >&2
	exit 2
	;;
esac

die() {
	echo "bench-provision: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (the SSH target is a chroot): run it as root or with sudo"
command -v openssl >/dev/null || die "openssl is missing on the build host (it checks the results): apt-get install -y openssl"

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
plugin=${PLUGIN:-$repo/bin/packer-plugin-jupyterhub}
sshd_root=$repo/scripts/testenv/sshd-root.sh
tpl_a=$repo/scripts/bench/provision-hubsecrets.pkr.hcl
tpl_b=$repo/scripts/bench/provision-tutorial.pkr.hcl
[ -x "$plugin" ] || die "$plugin: no plugin binary: run make plugin (make bench-provision does), or set PLUGIN"
for f in "$tpl_a" "$tpl_b"; do [ -f "$f" ] || die "$f is missing"; done

packer=$("$repo/scripts/testenv/packer.sh") || die "could not build Packer (scripts/testenv/packer.sh)"
"$sshd_root" build || die "could not build the target's root (scripts/testenv/sshd-root.sh build)"

# openssl for the target, from the host's apt sources once (the root keeps no
# apt lists). libssl3 comes along so that both match whatever apt serves.
debs=$cache/bench-provision/debs
if ! ls "$debs"/openssl_*.deb "$debs"/libssl3_*.deb >/dev/null 2>&1; then
	mkdir -p "$debs"
	echo "downloading openssl and libssl3 for the target (apt-get download, once)..." >&2
	(cd "$debs" && apt-get -q -o APT::Sandbox::User=root download openssl libssl3 >&2) ||
		die "apt-get download openssl libssl3 failed: run apt-get update, or put both .debs in $debs"
fi

mkdir -p "$cache/run"
work=$(mktemp -d "$cache/run/bench-provision.XXXXXX")
packer_pid='' watch_pid=''
cleanup() {
	local s i
	# Packer runs in its own process group (setsid): TERM lets it stop its
	# plugins; whatever is left of the group gets KILL.
	if [ -n "$packer_pid" ]; then
		kill -TERM -- "-$packer_pid" 2>/dev/null || true
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$packer_pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL -- "-$packer_pid" 2>/dev/null || true
		wait "$packer_pid" 2>/dev/null || true
	fi
	if [ -n "$watch_pid" ]; then
		kill "$watch_pid" 2>/dev/null || true
		wait "$watch_pid" 2>/dev/null || true
	fi
	# sshd-root.sh stop kills everything inside the copy (sshd, sessions,
	# a running openssl), unmounts its /proc and removes it.
	for s in "$work"/sshd-*; do
		[ -d "$s" ] || continue
		"$sshd_root" stop "$s" || echo "bench-provision: could not stop $s: see above" >&2
	done
	# Never rm -rf a tree that still has a mount under it.
	if grep -qF " $work/" /proc/self/mountinfo; then
		echo "bench-provision: something is still mounted under $work: not removing it" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'echo "bench-provision: interrupted, cleaning up" >&2; exit 130' INT
trap 'echo "bench-provision: terminated, cleaning up" >&2; exit 143' TERM

# A private Packer: nothing of the user's configuration or plugins, no
# checkpoint call (nothing leaves 127.0.0.1).
export CHECKPOINT_DISABLE=1 PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/config PACKER_CACHE_DIR=$work/packer_cache
unset PACKER_LOG
cd "$work"
"$packer" plugins install --path "$plugin" github.com/hubsecrets/jupyterhub >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; die "packer plugins install --path $plugin failed (output above)"; }

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# watch_openssl ROOT FLAG: until killed, twice a second, touch FLAG when an
# `openssl dhparam` process runs with ROOT as its root directory, that is
# inside the target's chroot, started over SSH by sshd.
watch_openssl() {
	local pid
	while :; do
		for pid in $(pgrep -x openssl || true); do
			if [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$1" ] &&
				tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'dhparam'; then
				: >"$2"
			fi
		done
		sleep 0.5
	done
}

host_srv_before=$([ -e /srv/jupyterhub ] && echo present || echo absent)

# run SIDE TEMPLATE: one packer build of TEMPLATE on a fresh target; sets
# step, floor, whole (seconds) and appends them to $work/SIDE.{step,floor,whole}.
run=0
run() {
	local side=$1 tpl=$2 state out root port key stamps log rc t0 t1 dir
	run=$((run + 1))
	state=$work/sshd-$run
	out=$("$sshd_root" start "$state" 2>"$work/sshd-start.log") ||
		{ cat "$work/sshd-start.log" >&2; die "round $i: sshd-root.sh start failed (output above)"; }
	root=$(sed -n 's/^HUBSECRETS_SSH_ROOT=//p' <<<"$out")
	port=$(sed -n 's/^HUBSECRETS_SSH_PORT=//p' <<<"$out")
	key=$(sed -n 's/^HUBSECRETS_SSH_KEY=//p' <<<"$out")
	if [ -z "$root" ] || [ -z "$port" ] || [ -z "$key" ]; then
		die "round $i: sshd-root.sh start printed no ROOT/PORT/KEY: $out"
	fi

	# Untimed: openssl into the copy.
	mkdir "$root/tmp/bench-debs"
	cp "$debs"/openssl_*.deb "$debs"/libssl3_*.deb "$root/tmp/bench-debs/"
	chroot "$root" sh -c 'dpkg -i /tmp/bench-debs/*.deb' >"$work/dpkg.log" 2>&1 ||
		{ cat "$work/dpkg.log" >&2; die "round $i: dpkg -i openssl in the target failed (output above)"; }
	rm -rf "$root/tmp/bench-debs"
	chroot "$root" openssl version >/dev/null || die "round $i: openssl does not run in the target"

	stamps=$work/stamps-$run
	mkdir "$stamps"
	watch_openssl "$root" "$stamps/openssl-in-target" &
	watch_pid=$!
	log=$work/$side-$run.log
	t0=$(now)
	setsid "$packer" build -color=false -var "ssh_port=$port" -var "ssh_private_key_file=$key" \
		-var "stamp_dir=$stamps" "$tpl" >"$log" 2>&1 </dev/null &
	packer_pid=$!
	rc=0
	wait "$packer_pid" || rc=$?
	t1=$(now)
	packer_pid=
	kill "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" 2>/dev/null || true
	watch_pid=
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$log" >&2
		[ -z "${BENCH_LOGS:-}" ] || { mkdir -p "$BENCH_LOGS" && cp "$log" "$BENCH_LOGS/"; } || true
		die "round $i: packer build of $(basename "$tpl") exited $rc (last lines above; BENCH_LOGS=DIR keeps the whole log)"
	fi
	if [ -n "${BENCH_LOGS:-}" ]; then
		mkdir -p "$BENCH_LOGS" || die "BENCH_LOGS=$BENCH_LOGS: cannot make the directory"
		cp "$log" "$BENCH_LOGS/" || die "BENCH_LOGS=$BENCH_LOGS: cannot copy the build log there"
	fi
	for m in mark0 mark1 mark2; do
		[ -s "$stamps/$m" ] || die "round $i: $side: no $m stamp: did the template's shell-local steps run?"
	done

	# Untimed checks of what the step left in the target.
	dir=$root/srv/jupyterhub
	openssl dhparam -check -noout -in "$dir/dhparam.pem" 2>&1 | grep -q 'appear to be ok' ||
		die "round $i: $side: $dir/dhparam.pem does not pass openssl dhparam -check"
	case $side in
	hubsecrets)
		[ "$(ls -A "$dir")" = dhparam.pem ] || die "round $i: hubsecrets: $dir holds more than dhparam.pem"
		[ -f "$root/etc/systemd/system/jupyterhub-secrets.service" ] || die "round $i: hubsecrets: the first-boot unit is not installed"
		[ ! -e "$stamps/openssl-in-target" ] || die "round $i: hubsecrets: an openssl dhparam ran in the target"
		;;
	tutorial)
		# Presence only: the values are secrets and are never read here.
		for f in proxy_auth_token jupyterhub_cookie_secretl; do
			[ -s "$dir/$f" ] || die "round $i: tutorial: $dir/$f, which the tutorial writes, is missing or empty"
		done
		[ -e "$stamps/openssl-in-target" ] ||
			die "round $i: tutorial: openssl dhparam was not seen running inside the target's chroot"
		;;
	esac
	[ "$([ -e /srv/jupyterhub ] && echo present || echo absent)" = "$host_srv_before" ] ||
		die "round $i: $side: the build host's own /srv/jupyterhub changed: the step did not run in the target"

	step=$(sub "$(cat "$stamps/mark2")" "$(cat "$stamps/mark1")")
	floor=$(sub "$(cat "$stamps/mark1")" "$(cat "$stamps/mark0")")
	whole=$(sub "$t1" "$t0")
	echo "$step" >>"$work/$side.step"
	echo "$floor" >>"$work/$side.floor"
	echo "$whole" >>"$work/$side.whole"

	"$sshd_root" stop "$state" || die "round $i: sshd-root.sh stop $state failed"
}

ossl_debs=("$debs"/openssl_*.deb)
printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')" \
	"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
printf '%s; plugin %s; target openssl %s\n' "$("$packer" version | head -n1)" "$plugin" \
	"$(basename "${ossl_debs[0]}" .deb | sed 's/^openssl_//')"
printf 'each run: a fresh copy of the Debian root, sshd on 127.0.0.1, root over SSH; step = the provisioner alone\n'
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then
		run hubsecrets "$tpl_a" && as=$step aw=$whole
		run tutorial "$tpl_b" && bs=$step bw=$whole
		first=hubsecrets
	else
		run tutorial "$tpl_b" && bs=$step bw=$whole
		run hubsecrets "$tpl_a" && as=$step aw=$whole
		first=tutorial
	fi
	printf 'round %d/%d (%-10s first): jupyterhub-secrets step %7.2f s (build %6.2f s)   tutorial shell step %7.2f s (build %6.2f s)\n' \
		"$i" "$N" "$first" "$as" "$aw" "$bs" "$bw"
done

am=$(median <"$work/hubsecrets.step")
bm=$(median <"$work/tutorial.step")
awm=$(median <"$work/hubsecrets.whole")
bwm=$(median <"$work/tutorial.whole")
fm=$(cat "$work/hubsecrets.floor" "$work/tutorial.floor" | median)
printf 'N=%d rounds, medians (wall time)                    step      packer build\n' "$N"
printf '  A: provisioner "jupyterhub-secrets" {}         %7.2f s   %7.2f s\n' "$am" "$awm"
printf '  B: tutorial as inline shell (dhparam 2048)     %7.2f s   %7.2f s\n' "$bm" "$bwm"
printf '  provisioner hand-off (two marks back to back)  %7.2f s   (in both step times)\n' "$fm"
awk -v a="$am" -v b="$bm" -v aw="$awm" -v bw="$bwm" 'BEGIN {
	printf "  ratio A/B: step %.3f (B/A %.1fx), packer build %.3f (B/A %.1fx)\n", a / b, b / a, aw / bw, bw / aw }'
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
