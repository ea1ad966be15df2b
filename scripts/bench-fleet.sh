#!/usr/bin/env bash
# make bench-fleet: the same check of HOSTS (20) loopback hosts, each its own
# overlay root with its own chrooted sshd (scripts/lib/fleet.sh), done four
# ways: ansible-playbook running the hubsecrets_check module (connecting as
# root, no become) with forks 1 and 16, and `hubsecrets check --hosts FILE`
# with --parallel 1 and 16. Prints the median wall time of N (3) rounds and
# the cost a host. Every host passes, so each way does the whole check.
# Ansible opens a fresh SSH connection a host (ControlMaster=no), as a
# scheduled run does; `check --hosts` always does.
# Needs root, ansible-core, Go, openssh-client, debootstrap (once).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
N=${1:-${N:-3}}
HOSTS=${HOSTS:-20}
export HUBSECRETS_CACHE=${HUBSECRETS_CACHE:-$repo/.cache}
# shellcheck source=scripts/lib/fleet.sh
. "$repo/scripts/lib/fleet.sh"

die() { printf 'bench-fleet: %s\n' "$*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (chrooted sshd, overlay mounts)"
for t in ansible-playbook ansible-galaxy ssh-keyscan go; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install ansible-core openssh-client)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench-fleet.XXXXXX")
cleanup() {
	rc=$?
	fleet_stop "$tmp/fleet" || rc=1
	if awk -v r="$tmp/" 'index($5, r) == 1' /proc/self/mountinfo | grep -q .; then
		echo "bench-fleet: still mounted under $tmp" >&2; rc=1
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=$tmp/bin/hubsecrets
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/hubsecrets
ansible-galaxy collection build ansible --output-path "$tmp/dist" >/dev/null
ANSIBLE_COLLECTIONS_PATH=$tmp/collections ansible-galaxy collection install -p "$tmp/collections" "$tmp"/dist/hubsecrets-jupyterhub-*.tar.gz >/dev/null
fleet_start "$tmp/fleet" "$HOSTS"
fleet=$tmp/fleet
fleet_inventory "$fleet" root >"$tmp/inventory"
sed 's/^/root@127.0.0.1:/' "$fleet/ports" >"$tmp/hosts"
fleet_ansible_cfg "$fleet" "$tmp" no >"$tmp/ansible.cfg"
export ANSIBLE_CONFIG=$tmp/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$tmp/collections

# Set every host up (binary, init) with the role; not timed.
ansible-playbook -i "$tmp/inventory" ansible/tests/e2e/site.yml -e "hubsecrets_local_binary=$bin" >"$tmp/setup.log" 2>&1 ||
	{ tail -n 30 "$tmp/setup.log" >&2; die "setting the fleet up failed"; }

ways=(ansible-f1 ansible-f16 check-p1 check-p16)
run() {
	case $1 in
	ansible-f*) ansible-playbook -i "$tmp/inventory" -f "${1#ansible-f}" ansible/tests/e2e/check.yml >"$tmp/out" 2>&1 ;;
	check-p*) "$bin" check --hosts "$tmp/hosts" --identity "$fleet/id_ed25519" --known-hosts "$fleet/known_hosts" \
		--format json --parallel "${1#check-p}" >"$tmp/out" 2>&1 ;;
	esac || { tail -n 30 "$tmp/out" >&2; die "$1 did not pass on every host"; }
}
for w in "${ways[@]}"; do run "$w"; done # warm: page cache, Python's bytecode
now() { date +%s%N; }
for ((i = 0; i < N; i++)); do
	for w in "${ways[@]}"; do
		t0=$(now); run "$w"; t1=$(now)
		echo $((t1 - t0)) >>"$tmp/$w.ns"
	done
done
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e9}'; }

printf 'machine: %s cores, %s; load average %s (other work shares these cores)\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%d hosts (overlay roots, one chrooted sshd each, 127.0.0.1); median of %d rounds\n' "$HOSTS" "$N"
for w in "${ways[@]}"; do
	s=$(median <"$tmp/$w.ns")
	case $w in
	ansible-f*) label="ansible-playbook hubsecrets_check, forks ${w#ansible-f}" ;;
	check-p*) label="hubsecrets check --hosts, --parallel ${w#check-p}" ;;
	esac
	awk -v l="$label" -v s="$s" -v n="$HOSTS" 'BEGIN {printf "  %-46s %7.2f s  (%4.0f ms a host)\n", l, s, s * 1000 / n}'
done
