# shellcheck shell=bash
# scripts/lib/fleet.sh: a loopback fleet of N hosts for the Ansible e2e
# (scripts/e2e/ansible.sh) and make bench-fleet (scripts/bench-fleet.sh).
#
# Each host is its own file system: an overlay whose lower layer is one
# configured copy of scripts/testenv/sshd-root.sh's Debian root (with
# python3, for Ansible's modules) and whose upper layer is the host's own,
# with its own host key and its own sshd, chrooted, on a 127.0.0.1 port.
# Users as sshd-root.sh makes them: root, and builder with passwordless sudo,
# one client key for both.
#
#   fleet_start DIR N   start N hosts under DIR; writes
#                         DIR/id_ed25519     the client key
#                         DIR/known_hosts    every host's key, [127.0.0.1]:PORT
#                         DIR/ports          one port a line, host 1 first
#                         DIR/hN/root        host N's root (the overlay)
#   fleet_stop DIR      stop every sshd and session, unmount every overlay and
#                       /proc, remove DIR (safe to call twice or half-started)
#
# Needs root, debootstrap the first time (the root is cached in
# HUBSECRETS_CACHE), overlayfs, ssh-keygen, ssh-keyscan and ss.

fleet_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fleet_sshd_root=$fleet_here/testenv/sshd-root.sh
# shellcheck source=scripts/testenv/lib.sh
. "$fleet_here/testenv/lib.sh"

fleet_start() {
	local dir=$1 n=$2 i port root h
	mkdir -p "$dir"
	# One configured root (users, keys, sshd settings) becomes the shared
	# lower layer: start it, keep its key, stop it keeping the root.
	SSHD_ROOT_PACKAGES=python3 "$fleet_sshd_root" start "$dir/base" >"$dir/base.env" 2>"$dir/base.log" ||
		{ cat "$dir/base.log" >&2; echo "fleet: sshd-root.sh start failed" >&2; return 2; }
	cp "$dir/base/id_ed25519" "$dir/id_ed25519"
	"$fleet_sshd_root" stop "$dir/base" "$dir/lower" || return 2
	rm -f "$dir/lower"/etc/ssh/ssh_host_*
	: >"$dir/ports"
	port=$((30000 + $$ % 20000))
	for ((i = 1; i <= n; i++)); do
		h=$dir/h$i
		root=$h/root
		mkdir -p "$h/upper" "$h/work" "$root"
		mount -t overlay overlay -o "lowerdir=$dir/lower,upperdir=$h/upper,workdir=$h/work" "$root" ||
			{ echo "fleet: cannot mount an overlay for host $i (is overlayfs available?)" >&2; return 2; }
		mount -t proc proc "$root/proc"
		ssh-keygen -q -t ed25519 -N '' -C "fleet-h$i" -f "$root/etc/ssh/ssh_host_ed25519_key"
		fleet_sshd "$h" "$port" || return 2
		port=$(cat "$h/port")
		echo "$port" >>"$dir/ports"
		port=$((port + 1))
	done
	while read -r port; do
		ssh-keyscan -t ed25519 -p "$port" 127.0.0.1 2>/dev/null
	done <"$dir/ports" >"$dir/known_hosts"
	[ "$(wc -l <"$dir/known_hosts")" -eq "$n" ] ||
		{ echo "fleet: ssh-keyscan answered for $(wc -l <"$dir/known_hosts") of $n hosts" >&2; return 2; }
}

# fleet_sshd HOSTDIR PORT: start the host's sshd on PORT or the next free
# one; the port it got is written to HOSTDIR/port.
fleet_sshd() {
	local h=$1 port=$2 tries
	for ((tries = 0; tries < 20; tries++)); do
		while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
		: >"$h/sshd.log"
		setsid chroot "$h/root" /usr/sbin/sshd -D -e -p "$port" -o ListenAddress=127.0.0.1 \
			-o HostKey=/etc/ssh/ssh_host_ed25519_key >>"$h/sshd.log" 2>&1 </dev/null &
		echo $! >"$h/sshd.pid"
		for _ in $(seq 50); do
			if grep -q "Server listening on 127.0.0.1 port $port" "$h/sshd.log"; then
				echo "$port" >"$h/port"
				return 0
			fi
			kill -0 "$(cat "$h/sshd.pid")" 2>/dev/null || break
			sleep 0.1
		done
		kill "$(cat "$h/sshd.pid")" 2>/dev/null || true
		port=$((port + 1))
	done
	cat "$h/sshd.log" >&2
	echo "fleet: sshd did not start for $h" >&2
	return 1
}

fleet_stop() {
	local dir=$1 i pids h
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd -P)
	[ ! -d "$dir/base" ] || "$fleet_sshd_root" stop "$dir/base" || return 1
	# Every process whose root is one of the hosts' is ours: each sshd and
	# the sessions it started. One pass over /proc for all hosts (find reads
	# each /proc/PID/root link), not one a host.
	for ((i = 0; i < 20; i++)); do
		pids=$(find /proc -mindepth 2 -maxdepth 2 -name root -lname "$dir/h*/root" -printf '%h\n' 2>/dev/null | sed 's|^/proc/||')
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -s "$([ $i -lt 10 ] && echo TERM || echo KILL)" $pids 2>/dev/null || true
		sleep 0.2
	done
	[ -z "$pids" ] || { echo "fleet: processes still running in the hosts' roots: $pids" >&2; return 1; }
	for h in "$dir"/h[0-9]*; do
		[ ! -d "$h/root" ] || umount_under "$h/root"
	done
	if awk -v r="$dir/" 'index($5, r) == 1' /proc/self/mountinfo | grep -q .; then
		echo "fleet: still mounted under $dir: not removing it" >&2
		return 1
	fi
	rm -rf "$dir"
}

# fleet_inventory DIR USER: an INI inventory of the fleet, hosts h1..hN in
# the group fleet, connecting as USER.
fleet_inventory() {
	local n=0 port
	echo "[fleet]"
	while read -r port; do
		n=$((n + 1))
		echo "h$n ansible_host=127.0.0.1 ansible_port=$port ansible_user=$2"
	done <"$1/ports"
}

# fleet_ansible_cfg DIR WORK CONTROL: an ansible.cfg for the fleet, its state
# under WORK. CONTROL is ssh's ControlMaster setting: "auto" reuses each
# host's connection for 30 s (fast for many tasks), "no" opens one a module
# run, as a playbook run after a pause does (fair for timing).
fleet_ansible_cfg() {
	mkdir -p "$2/cp" "$2/ansible-home"
	cat <<-EOF
		[defaults]
		forks = 16
		# sudo on a loaded machine can take longer than the 10 s default.
		timeout = 120
		interpreter_python = /usr/bin/python3
		private_key_file = $1/id_ed25519
		retry_files_enabled = false
		nocolor = true
		home = $2/ansible-home
		local_tmp = $2/ansible-home/tmp
		[ssh_connection]
		ssh_args = -o UserKnownHostsFile=$1/known_hosts -o StrictHostKeyChecking=yes -o ControlMaster=$3 -o ControlPersist=30s
		control_path_dir = $2/cp
		pipelining = true
	EOF
}
