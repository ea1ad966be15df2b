#!/usr/bin/env bash
# make e2e-ansible: the hubsecrets.jupyterhub collection, built with
# ansible-galaxy and run by Debian's ansible-playbook against a loopback fleet
# of HOSTS (20) hosts, each its own overlay root with its own chrooted sshd
# on 127.0.0.1 (scripts/lib/fleet.sh).
#   1. as root: the role installs the pinned archive (served on 127.0.0.1,
#      its sha256 verified), runs init and the check: every host changed;
#   2. as builder with become: the same play reports changed=0 everywhere;
#   3. check mode, the local binary instead of the archive: changed=0;
#   4. the findings the module returns (written out by the play) equal `hubsecrets check --hosts` on
#      the same hosts (ids, severities, paths per host), on the clean fleet
#      and after chmod 0644 of a secret on a few hosts, and the check task
#      fails on exactly those hosts;
#   5. no secret value in any output; every sshd stopped, every overlay
#      unmounted, no process left.
# Needs root, ansible-core, Go, jq, openssh-client, debootstrap (once).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
HOSTS=${HOSTS:-20}
export HUBSECRETS_CACHE=${HUBSECRETS_CACHE:-$repo/.cache}
# shellcheck source=scripts/lib/fleet.sh
. "$repo/scripts/lib/fleet.sh"

say() { printf 'e2e-ansible: %s\n' "$*"; }
die() { printf 'e2e-ansible: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (chrooted sshd, overlay mounts)"
for t in ansible-playbook ansible-galaxy jq ssh ssh-keyscan python3 go; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install ansible-core jq openssh-client python3)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-e2e-ansible.XXXXXX")
http_pid=
cleanup() {
	rc=$?
	[ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null || true
	fleet_stop "$tmp/fleet" || rc=1
	# Nothing of ours may outlive the run: no process under the fleet's
	# roots or using its SSH control sockets, no mount under tmp.
	# SSH control masters end when their sshd does: give them a moment.
	for _ in $(seq 50); do pgrep -f "$tmp/" >/dev/null || break; sleep 0.1; done
	if pgrep -f "$tmp/" >/dev/null; then
		echo "e2e-ansible: processes left:" >&2; pgrep -af "$tmp/" >&2; rc=1
	fi
	if awk -v r="$tmp/" 'index($5, r) == 1' /proc/self/mountinfo | grep -q .; then
		echo "e2e-ansible: still mounted under $tmp" >&2; rc=1
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The binary a release ships: static, so it runs in the bookworm roots.
bin=$tmp/bin/hubsecrets
say "building a static hubsecrets"
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/hubsecrets

# A release-shaped archive (as goreleaser names it), served on 127.0.0.1.
mkdir -p "$tmp/www"
archive=hubsecrets_v0.0.0-e2e_linux_amd64.tar.gz
tar -C "$tmp/bin" -czf "$tmp/www/$archive" hubsecrets
sha=$(sha256sum "$tmp/www/$archive" | cut -d' ' -f1)
http_port=$((20000 + RANDOM % 10000))
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$http_port" >"$tmp/http.log" 2>&1 &
http_pid=$!

say "building and installing the collection"
ansible-galaxy collection build ansible --output-path "$tmp/dist" >/dev/null
ANSIBLE_COLLECTIONS_PATH=$tmp/collections ansible-galaxy collection install -p "$tmp/collections" "$tmp"/dist/hubsecrets-jupyterhub-*.tar.gz >/dev/null

say "starting $HOSTS hosts"
fleet_start "$tmp/fleet" "$HOSTS"
fleet=$tmp/fleet
fleet_inventory "$fleet" root >"$tmp/root.ini"
fleet_inventory "$fleet" builder >"$tmp/builder.ini"
sed 's/^/root@127.0.0.1:/' "$fleet/ports" >"$tmp/hosts"

fleet_ansible_cfg "$fleet" "$tmp" auto >"$tmp/ansible.cfg"
export ANSIBLE_CONFIG=$tmp/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$tmp/collections

play() { # NAME INVENTORY PLAYBOOK [ARGS...]: run, keep the output in tmp/NAME.log
	local name=$1 inv=$2 pb=$3
	shift 3
	say "ansible-playbook $name"
	ansible-playbook -i "$inv" "ansible/tests/e2e/$pb" "$@" >"$tmp/$name.log" 2>&1
}
# recap NAME FIELD: "HOST VALUE" for every host of the PLAY RECAP.
recap() {
	sed -n '/^PLAY RECAP/,$p' "$tmp/$1.log" |
		awk -v f="$2" '$2 == ":" { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print $1, kv[2] } }'
}
# expect_all NAME FIELD TEST: every one of the HOSTS hosts has FIELD TEST
# (an awk condition on v, e.g. "v == 0").
expect_all() {
	local got
	got=$(recap "$1" "$2" | awk -v n="$HOSTS" "{ v = \$2 } $3 { ok++ } END { print ok + 0 }")
	[ "$got" -eq "$HOSTS" ] || { tail -n 40 "$tmp/$1.log" >&2; die "$1: $2 $3 on $got of $HOSTS hosts"; }
}
role_vars=(-e "hubsecrets_archive_url=http://127.0.0.1:$http_port/$archive" -e "hubsecrets_archive_sha256=$sha")

play first-root "$tmp/root.ini" site.yml "${role_vars[@]}" || { tail -n 40 "$tmp/first-root.log" >&2; die "first run as root failed"; }
expect_all first-root changed "v > 0"
expect_all first-root failed "v == 0"
say "first run as root: changed on all $HOSTS hosts"

play second-become "$tmp/builder.ini" site.yml -e e2e_become=true "${role_vars[@]}" ||
	{ tail -n 40 "$tmp/second-become.log" >&2; die "second run (builder, become) failed"; }
expect_all second-become changed "v == 0"
expect_all second-become failed "v == 0"
expect_all second-become unreachable "v == 0"
say "second run as builder with become: changed=0 on all $HOSTS hosts"

play check-mode "$tmp/builder.ini" site.yml --check -e e2e_become=true -e "hubsecrets_local_binary=$bin" ||
	{ tail -n 40 "$tmp/check-mode.log" >&2; die "check mode run failed"; }
expect_all check-mode changed "v == 0"
say "check mode with the local binary: changed=0 on all $HOSTS hosts"

# The checksum is verified: a wrong one fails before anything is installed.
bad=$(printf '%064d' 0)
if play bad-sum "$tmp/root.ini" site.yml --limit h1 -e "hubsecrets_archive_url=http://127.0.0.1:$http_port/$archive" \
	-e "hubsecrets_archive_sha256=$bad" -e hubsecrets_cache_dir=/var/cache/hubsecrets-bad; then
	die "a wrong sha256 was accepted"
fi
grep -q "checksum mismatch\|did not match" "$tmp/bad-sum.log" || { tail -n 20 "$tmp/bad-sum.log" >&2; die "the wrong sha256 failed for another reason"; }
say "a wrong sha256 is refused"

# findings_ansible NAME: "PORT ID SEVERITY PATH" lines from what the module
# returned, written out by the play (tmp/NAME.findings/hN.json).
findings_ansible() {
	local f h
	for f in "$tmp/$1.findings"/h*.json; do
		h=$(basename "$f" .json)
		jq -r --arg p "$(sed -n "${h#h}p" "$fleet/ports")" '.findings[] | "\($p) \(.id) \(.severity) \(.path)"' "$f"
	done | sort
}
# findings_cli NAME: the same from hubsecrets check --hosts (JSON Lines).
findings_cli() {
	jq -r '(.host | sub(".*:"; "")) as $p | .findings[] | "\($p) \(.id) \(.severity) \(.path)"' "$tmp/$1.jsonl" | sort
}
compare() { # NAME: run both, compare, and check each saw every host
	local name=$1 rc=0
	say "comparing the module's findings with hubsecrets check --hosts ($name)"
	mkdir -p "$tmp/$name.findings"
	play "$name" "$tmp/builder.ini" check.yml -e e2e_become=true -e e2e_fail_on_deny=false \
		-e "e2e_findings_dir=$tmp/$name.findings" || { tail -n 40 "$tmp/$name.log" >&2; die "$name: the check play failed"; }
	[ "$(find "$tmp/$name.findings" -name 'h*.json' | wc -l)" -eq "$HOSTS" ] || die "$name: the play did not answer for every host"
	"$bin" check --hosts "$tmp/hosts" --identity "$fleet/id_ed25519" --known-hosts "$fleet/known_hosts" \
		--format json --parallel 16 >"$tmp/$name.jsonl" 2>"$tmp/$name.cli.err" || rc=$?
	[ "$rc" -le 1 ] || { cat "$tmp/$name.cli.err" >&2; die "$name: hubsecrets check --hosts could not check (exit $rc)"; }
	[ "$(wc -l <"$tmp/$name.jsonl")" -eq "$HOSTS" ] || die "$name: hubsecrets check --hosts did not report every host"
	findings_ansible "$name" >"$tmp/$name.ansible"
	findings_cli "$name" >"$tmp/$name.cli"
	diff -u "$tmp/$name.cli" "$tmp/$name.ansible" >&2 || die "$name: the module's findings differ from check --hosts (above: - cli, + ansible)"
	say "$name: $(wc -l <"$tmp/$name.cli") findings on $(cut -d' ' -f1 "$tmp/$name.cli" | sort -u | wc -l) hosts, the same both ways"
}
compare clean

# Break a secret's mode on a few hosts, over SSH as an admin would.
broken=(2 5 9 13)
for i in "${broken[@]}"; do
	[ "$i" -le "$HOSTS" ] || continue
	port=$(sed -n "${i}p" "$fleet/ports")
	f=/srv/jupyterhub/jupyterhub_cookie_secret
	[ "$i" -ne 13 ] || f=/srv/jupyterhub/proxy_auth_token
	ssh -i "$fleet/id_ed25519" -o UserKnownHostsFile="$fleet/known_hosts" -o StrictHostKeyChecking=yes \
		-p "$port" root@127.0.0.1 chmod 0644 "$f"
done
compare broken
want=$(for i in "${broken[@]}"; do [ "$i" -gt "$HOSTS" ] || sed -n "${i}p" "$fleet/ports"; done | sort -u)
got=$(awk '$3 == "deny" { print $1 }' "$tmp/broken.cli" | sort -u)
[ "$want" = "$got" ] || die "deny findings on ports [$got], want the broken hosts [$want]"

# fail_on_deny (the default) fails the task on exactly the broken hosts.
if play fail-on-deny "$tmp/builder.ini" check.yml -e e2e_become=true; then
	die "the check passed on the broken hosts"
fi
failed=$(recap fail-on-deny failed | awk '$2 > 0 { print $1 }' | sort | tr '\n' ' ')
want_failed=$(for i in "${broken[@]}"; do [ "$i" -gt "$HOSTS" ] || echo "h$i"; done | sort | tr '\n' ' ')
[ "$failed" = "$want_failed" ] || die "the check failed on [$failed], want [$want_failed]"
grep -q "HUB012" "$tmp/fail-on-deny.log" || die "the failed task does not name the finding"
say "the check task fails on exactly the broken hosts ($failed)"

# No secret value in anything the runs printed or returned.
for ((i = 1; i <= HOSTS; i++)); do
	for f in jupyterhub_cookie_secret proxy_auth_token; do
		s=$(tr -d '\n' <"$fleet/h$i/root/srv/jupyterhub/$f")
		[ ${#s} -ge 32 ] || die "host $i: $f is not a secret (${#s} characters)"
		if grep -rlF -- "$s" "$tmp"/*.log "$tmp"/*.findings "$tmp"/*.jsonl "$tmp"/*.err 2>/dev/null | grep -q .; then
			die "host $i: a secret value appears in the output"
		fi
	done
done
say "no secret value in any output"
say "PASS ($HOSTS hosts)"
