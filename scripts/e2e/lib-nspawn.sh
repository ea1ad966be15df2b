# shellcheck shell=bash
# scripts/e2e/lib-nspawn.sh: boot directory trees with systemd as PID 1 under
# systemd-nspawn, query them, power them off (bash, sourced after lib.sh).
#
#   ct_boot NAME DIR [ARGS...]
#                         boot DIR in the background (console appended to
#                         E2E_LOGS/NAME.console.log): --private-network (the
#                         container has only its own loopback), --register=no
#                         and --keep-unit (no machined, no scope: works without
#                         systemd on the host), then ARGS (more nspawn options,
#                         e.g. --read-only --bind=SRC:DST); sets
#                         CT_LEADER[NAME], the container's PID 1 as the host
#                         sees it
#   ct_wait NAME          wait for `systemctl is-system-running --wait`;
#                         prints the state (running, degraded, ...)
#   ct NAME CMD...        run CMD inside the container (all its namespaces)
#   ct_net NAME CMD...    run the host's CMD in the container's network
#                         namespace (curl against its 127.0.0.1)
#   ct_poweroff NAME      `systemctl poweroff` inside, wait for nspawn to exit
#   ct_kill_all           power off (or kill) every container still running;
#                         registered with on_exit by the first ct_boot
#
# Needs E2E_LOGS (console logs go there as NAME.console.log).

declare -A CT_NSPAWN=() CT_LEADER=()

# alive PID: the process exists and is not a zombie (cleanup runs in a
# subshell, which cannot reap the main shell's children).
alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
CT_CLEANUP_REGISTERED=

ct_boot() {
	local name=$1 dir=$2 pid leader i ns
	shift 2
	[ -z "${CT_NSPAWN[$name]:-}" ] || die "container $name is already running"
	[ -x "$dir/sbin/init" ] || [ -L "$dir/sbin/init" ] || die "$dir: no /sbin/init, not a bootable root"
	if [ -z "$CT_CLEANUP_REGISTERED" ]; then
		on_exit ct_kill_all
		CT_CLEANUP_REGISTERED=1
	fi
	# A new session, so a Ctrl-C on the terminal reaches the script (which
	# powers the container off) rather than nspawn directly.
	printf '=== boot %s of %s at %s\n' "$name" "$dir" "$(date -Is)" >>"$E2E_LOGS/$name.console.log"
	setsid systemd-nspawn -q -D "$dir" -M "$name" -b --private-network --register=no --keep-unit \
		--console=read-only "$@" </dev/null >>"$E2E_LOGS/$name.console.log" 2>&1 &
	pid=$!
	CT_NSPAWN[$name]=$pid
	# The container's PID 1 is nspawn's child whose innermost pid is 1.
	for ((i = 0; i < 200; i++)); do
		for leader in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			# nspawn's first child is short-lived: it may be gone already.
			ns=$(awk '/^NSpid:/ { print $NF }' "/proc/$leader/status" 2>/dev/null) || ns=
			if [ "$ns" = 1 ]; then
				CT_LEADER[$name]=$leader
				return 0
			fi
		done
		alive "$pid" || break
		sleep 0.05
	done
	tail -n 20 "$E2E_LOGS/$name.console.log" >&2
	die "container $name: systemd-nspawn started no PID 1 (console log above)"
}

ct() {
	local name=$1
	shift
	[ -n "${CT_LEADER[$name]:-}" ] || die "container $name is not running"
	nsenter -t "${CT_LEADER[$name]}" -m -u -i -n -p -C -r -w \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

ct_net() {
	local name=$1
	shift
	[ -n "${CT_LEADER[$name]:-}" ] || die "container $name is not running"
	nsenter -t "${CT_LEADER[$name]}" -n "$@"
}

# ct_wait NAME [SECONDS]: the system state once boot is done.
ct_wait() {
	local name=$1 t=${2:-180} state i
	# systemd's private socket appears a moment after PID 1 starts.
	for ((i = 0; i < 100; i++)); do
		[ -S "/proc/${CT_LEADER[$name]}/root/run/systemd/private" ] && break
		sleep 0.1
	done
	state=$(timeout "$t" nsenter -t "${CT_LEADER[$name]}" -m -u -i -n -p -C -r -w \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin systemctl is-system-running --wait 2>/dev/null) || true
	printf '%s\n' "${state:-timeout}"
}

# ct_poweroff NAME [SECONDS]: a clean shutdown, then nspawn's exit status.
ct_poweroff() {
	local name=$1 t=${2:-90} pid i
	pid=${CT_NSPAWN[$name]:-}
	[ -n "$pid" ] || return 0
	if [ -z "${CT_LEADER[$name]:-}" ]; then
		ct_kill "$name"
		return 1
	fi
	ct "$name" systemctl poweroff >/dev/null 2>&1 || true
	for ((i = 0; i < t * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		note "container $name did not power off in ${t}s: killing it"
		ct_kill "$name"
		return 1
	fi
	wait "$pid" 2>/dev/null || true
	unset "CT_NSPAWN[$name]" "CT_LEADER[$name]"
}

# ct_kill NAME: nspawn turns SIGTERM into the container's own shutdown
# signal; after 20 s the container's PID 1 (and with it its whole pid
# namespace) and nspawn are killed.
ct_kill() {
	local name=$1 pid leader i
	pid=${CT_NSPAWN[$name]:-}
	leader=${CT_LEADER[$name]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		[ -z "$leader" ] || kill -KILL "$leader" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	unset "CT_NSPAWN[$name]" "CT_LEADER[$name]"
}

ct_kill_all() {
	local name
	for name in "${!CT_NSPAWN[@]}"; do
		note "stopping container $name"
		ct_poweroff "$name" 30 || true
	done
}

# ct_failed_units NAME: the failed units, one per line.
ct_failed_units() {
	ct "$1" systemctl list-units --state=failed --no-legend --plain 2>/dev/null | awk '{ print $1 }'
}

# ct_show NAME UNIT PROP: one property's value.
ct_show() {
	ct "$1" systemctl show -P "$3" "$2"
}
