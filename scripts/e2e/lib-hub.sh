# shellcheck shell=bash
# shellcheck disable=SC2154,SC2016 # globals set by nspawn.sh; awk programs in single quotes
# scripts/e2e/lib-hub.sh: the hub instances of make e2e (bash, sourced by
# nspawn.sh after lib.sh and lib-nspawn.sh).
#
#   serve_root NAME / stop_root NAME [KEEP]
#                         a fresh copy of the hub root served by sshd on
#                         127.0.0.1 (SSH_PORT, SSH_KEY, SSH_ROOT) / stopped,
#                         its root kept as KEEP
#   packer_build LOG DIR ARGS...   packer build against the served root
#   check ROOT PROFILE OUT [ARGS]  hubsecrets check; prints its exit status
#   deny_ids JSON         a report's deny finding ids, comma-separated
#   instance NAME FROM ID a copy of the root FROM whose cloud-init (a
#                         stand-in, see cloud_init) gives it instance-id ID
#   cloud_init DIR ID|off the stand-in's seed in DIR: instance-id ID, or no
#                         cloud-init at all (its unit and seed removed)
#   booted NAME / stopped NAME [SRC DST]   the checks of every booted /
#                         powered-off instance (SRC bind-mounted over DST)
#   with_bind SRC DST CMD...   CMD with SRC bind-mounted over DST
#   umount_work           unmount anything left under $work (cleanup)
#   id_in, perms, hub_user, fb_said, same_secrets, differ_secrets   small
#                         questions about roots and instances
#   hub_api, curl_hub, logged_in, hub_log, fb_log   talk to the hub in NAME
#   discard DIR... / reap_discards  remove roots in the background / wait
#
# Globals set by nspawn.sh: repo work cli packer hub_tarball secrets cookie
# token dh hub_unit fb_unit, and E2E_LOGS.

# serve_root NAME: serve a fresh copy of the hub root with sshd on
# 127.0.0.1; sets SSH_PORT, SSH_KEY, SSH_ROOT.
serve_root() {
	local out
	out=$(HUBSECRETS_SSH_TARBALL=$hub_tarball "$repo/scripts/testenv/sshd-root.sh" start "$work/$1") ||
		die "sshd-root.sh start failed"
	on_exit stop_root "$1"
	SSH_PORT=$(sed -n 's/^HUBSECRETS_SSH_PORT=//p' <<<"$out")
	SSH_KEY=$(sed -n 's/^HUBSECRETS_SSH_KEY=//p' <<<"$out")
	SSH_ROOT=$(sed -n 's/^HUBSECRETS_SSH_ROOT=//p' <<<"$out")
	if [ -z "$SSH_PORT" ] || [ -z "$SSH_KEY" ] || [ -z "$SSH_ROOT" ]; then
		die "sshd-root.sh start printed no environment: $out"
	fi
}

# stop_root NAME [KEEP]: stop its sshd (idempotent), optionally keeping the
# served root as KEEP.
stop_root() {
	[ -d "$work/$1" ] || return 0
	"$repo/scripts/testenv/sshd-root.sh" stop "$work/$1" ${2:+"$2"}
}

# packer_build LOG TEMPLATE-DIR ARGS...: packer build against the served root.
packer_build() {
	local log=$1 dir=$2
	shift 2
	(cd "$work" && "$packer" build -color=false -var "ssh_port=$SSH_PORT" -var "ssh_private_key_file=$SSH_KEY" "$@" "$dir") >"$log" 2>&1
}

# check ROOT PROFILE OUT [ARGS...]: hubsecrets check, its exit status echoed.
check() {
	local root=$1 profile=$2 out=$3 rc=0
	shift 3
	"$cli" check --root "$root" --profile "$profile" "$@" >"$out" 2>&1 || rc=$?
	echo "$rc"
}

# deny_ids JSON: the deny finding ids, comma-separated, sorted.
deny_ids() { finding_ids "$1" | sed -n 's/^deny://p' | paste -sd, -; }

# instance NAME FROM ID: a copy of the stopped root FROM in $work/NAME whose
# cloud-init (the stand-in below) gives it the instance-id ID; with ID "off",
# no cloud-init at all.
instance() {
	local dir=$work/$1
	cp -a --reflink=auto "$2" "$dir"
	cloud_init "$dir" "$3"
}

# cloud_init DIR ID|off: cloud-init in the root DIR, as the first-boot script
# sees it, without cloud-init itself (no package, no datasource, seconds of
# Python per boot): a stand-in unit named cloud-init.service reads the
# instance-id of a NoCloud seed (DIR/var/lib/cloud/seed/nocloud/meta-data)
# and records it where cloud-init does, /run/cloud-init/.instance-id (so
# /run/cloud-init exists: cloud-init ran on this boot) and
# /var/lib/cloud/data/instance-id. It waits a second first and is ordered
# before nothing: only the first-boot unit's own After=cloud-init.service
# puts it first. "off" removes the unit and the seed (cloud-init does not
# run), leaving whatever /var/lib/cloud/data/instance-id an earlier boot
# recorded.
cloud_init() {
	local dir=$1 id=$2 unit=$1/etc/systemd/system/cloud-init.service
	local bin=$1/usr/local/libexec/hubsecrets-e2e/cloud-init
	if [ "$id" = off ]; then
		rm -f "$unit" "$dir/etc/systemd/system/multi-user.target.wants/cloud-init.service" "$bin"
		rm -rf "$dir/var/lib/cloud/seed"
		return 0
	fi
	mkdir -p "${bin%/*}" "$dir/var/lib/cloud/seed/nocloud" "$dir/etc/systemd/system/multi-user.target.wants"
	cat >"$bin" <<-'SH'
		#!/bin/sh
		# make e2e's stand-in for cloud-init (scripts/e2e/lib-hub.sh): records
		# the NoCloud seed's instance-id where cloud-init records it.
		set -eu
		sleep 1
		id=$(sed -n 's/^instance-id: *//p' /var/lib/cloud/seed/nocloud/meta-data)
		[ -n "$id" ]
		mkdir -p /run/cloud-init /var/lib/cloud/data
		printf '%s\n' "$id" >/run/cloud-init/.instance-id
		printf '%s\n' "$id" >/var/lib/cloud/data/instance-id
		echo "cloud-init stand-in: instance-id $id"
	SH
	chmod 0755 "$bin"
	cat >"$unit" <<-'UNIT'
		# make e2e's stand-in for cloud-init (scripts/e2e/lib-hub.sh), not cloud-init.
		[Unit]
		Description=cloud-init stand-in (hubsecrets e2e): the NoCloud seed's instance-id
		ConditionPathExists=/var/lib/cloud/seed/nocloud/meta-data

		[Service]
		Type=oneshot
		RemainAfterExit=yes
		ExecStart=/usr/local/libexec/hubsecrets-e2e/cloud-init

		[Install]
		WantedBy=multi-user.target
	UNIT
	ln -sfn /etc/systemd/system/cloud-init.service "$dir/etc/systemd/system/multi-user.target.wants/cloud-init.service"
	printf 'instance-id: %s\nlocal-hostname: jupyterhub\n' "$id" >"$dir/var/lib/cloud/seed/nocloud/meta-data"
}

# hub_api NAME [SECONDS]: wait until the hub's REST API answers on
# 127.0.0.1:8081 inside the container; keeps the answer in NAME.api.json.
hub_api() {
	local name=$1 t=${2:-90} i
	for ((i = 0; i < t * 4; i++)); do
		if ct_net "$name" curl -fsS --noproxy '*' -m 5 -o "$E2E_LOGS/$name.api.json" http://127.0.0.1:8081/hub/api 2>/dev/null; then
			return 0
		fi
		sleep 0.25
	done
	return 1
}

# curl_hub NAME JAR PATH [ARGS]: an HTTP request through the proxy on
# 127.0.0.1:8000 inside the container with a cookie jar; prints the status.
curl_hub() {
	local name=$1 jar=$2 path=$3
	shift 3
	ct_net "$name" curl -sS --noproxy '*' -m 10 -o "$E2E_LOGS/$name.body" -w '%{http_code}' \
		-b "$jar" -c "$jar" -H 'Referer: http://127.0.0.1:8000/hub/' "$@" "http://127.0.0.1:8000$path"
}

# logged_in NAME JAR: the cookie in JAR authenticates user e2e.
logged_in() {
	local code
	code=$(curl_hub "$1" "$2" /hub/api/user) || return 1
	[ "$code" = 200 ] && jq -e '.name == "e2e"' "$E2E_LOGS/$1.body" >/dev/null
}

hub_log() { ct "$1" journalctl -b -u "$hub_unit" -o cat --no-pager; }
fb_log() { ct "$1" journalctl -b -u "$fb_unit" -o cat --no-pager; }

# booted NAME: the checks every freshly booted instance must pass; the
# first-boot unit's journal is kept in NAME.fb.log.
booted() {
	local name=$1 state failed t_fb t_hub u
	state=$(ct_wait "$name")
	case $state in
	running) pass "$name: systemd reached 'running'" ;;
	degraded)
		# Acceptable only when what failed is unrelated to the hub: shown
		# with its journal, and never the hub's units or a target.
		failed=$(ct_failed_units "$name") || true
		for u in $failed; do
			note "$name: failed unit $u:"
			ct "$name" journalctl -b -u "$u" -o cat --no-pager -n 8 2>&1 | sed 's/^/      | /' || true
		done
		if [ -n "$failed" ] && ! grep -qE '^jupyterhub|\.target$' <<<"$failed"; then
			pass "$name: systemd reached 'degraded', failed units unrelated to the hub: $(paste -sd' ' - <<<"$failed")"
		else
			fail "$name: systemd 'degraded', failed units: $(paste -sd' ' - <<<"$failed")"
		fi
		;;
	*) fail "$name: systemd state '$state' (failed units: $(ct_failed_units "$name" | paste -sd' ' -))" ;;
	esac
	if [ "$(ct "$name" ls /sys/class/net | paste -sd' ' -)" = lo ]; then
		pass "$name: no network interface but its own loopback"
	else
		fail "$name: has network interfaces besides lo: $(ct "$name" ls /sys/class/net | paste -sd' ' -)"
	fi
	fb_log "$name" >"$E2E_LOGS/$name.fb.log" 2>&1 || true
	if [ "$(ct_show "$name" "$fb_unit" ActiveState)/$(ct_show "$name" "$fb_unit" Result)" = active/success ]; then
		pass "$name: $fb_unit ran and succeeded"
	else
		fail "$name: $fb_unit is $(ct_show "$name" "$fb_unit" ActiveState)/$(ct_show "$name" "$fb_unit" Result)"
		sed 's/^/      | /' "$E2E_LOGS/$name.fb.log"
	fi
	if hub_api "$name"; then
		pass "$name: the hub answers GET /hub/api on 127.0.0.1:8081 (version $(jq -r .version "$E2E_LOGS/$name.api.json"))"
	else
		fail "$name: the hub does not answer on 127.0.0.1:8081"
	fi
	t_fb=$(ct_show "$name" "$fb_unit" ActiveEnterTimestampMonotonic) || t_fb=
	t_hub=$(ct_show "$name" "$hub_unit" ExecMainStartTimestampMonotonic) || t_hub=
	if [ "${t_fb:-0}" -gt 0 ] && [ "${t_hub:-0}" -gt 0 ] && [ "$t_fb" -le "$t_hub" ]; then
		pass "$name: $fb_unit was done $(((t_hub - t_fb) / 1000)) ms before the hub's process started"
	else
		fail "$name: $fb_unit active at ${t_fb:-?} us, hub started at ${t_hub:-?} us (monotonic): wrong order"
	fi
	hub_log "$name" >"$E2E_LOGS/$name.hub.log" 2>&1 || true
	if grep -q 'Loading cookie_secret from /srv/jupyterhub/jupyterhub_cookie_secret' "$E2E_LOGS/$name.hub.log"; then
		pass "$name: the hub loaded the cookie secret from /srv/jupyterhub"
	else
		fail "$name: the hub's log does not say it loaded /srv/jupyterhub/jupyterhub_cookie_secret"
	fi
	local bad
	bad=$(grep -E -e 'Generating new CONFIGPROXY_AUTH_TOKEN' -e 'Writing cookie_secret' -e 'cookie[-_ ]secret' "$E2E_LOGS/$name.hub.log" |
		grep -v 'Loading cookie_secret from' || true)
	if [ -z "$bad" ]; then
		pass "$name: hub log has neither 'Generating new CONFIGPROXY_AUTH_TOKEN' nor a cookie secret warning"
	else
		fail "$name: hub log: $bad"
	fi
}

# stopped NAME [SRC DST]: power off, then the checks on the stopped copy
# (no --data: the root's own /etc/hubsecrets/params.json sets the
# parameters). With SRC and DST, the directory SRC is bind-mounted over DST
# (a path in the root) for the check, as it was while the instance ran.
stopped() {
	local name=$1 rc what=
	if ct_poweroff "$name"; then pass "$name: powered off"; else fail "$name: did not power off cleanly"; fi
	if [ $# -ge 3 ]; then
		what=" (${2#"$work/"} over $3)"
		rc=$(with_bind "$2" "$work/$name$3" check "$work/$name" instance "$E2E_LOGS/$name.check.txt")
	else
		rc=$(check "$work/$name" instance "$E2E_LOGS/$name.check.txt")
	fi
	if [ "$rc" = 0 ]; then
		pass "$name: hubsecrets check --profile instance exits 0$what"
	else
		fail "$name: hubsecrets check --profile instance exits ${rc:-?}$what"
		sed 's/^/      | /' "$E2E_LOGS/$name.check.txt"
	fi
}

# with_bind SRC DST CMD...: run CMD with the directory SRC bind-mounted over
# DST on the host, unmounted afterwards whatever CMD did; CMD's status.
# (umount_work is the safety net if the script dies in between.)
with_bind() {
	local src=$1 dst=$2 rc=0
	shift 2
	mount --bind "$src" "$dst" || return 1
	"$@" || rc=$?
	umount "$dst" || umount -l "$dst" || rc=1
	return "$rc"
}

# umount_work: unmount whatever is still mounted under $work, deepest first;
# registered before the containers' and sshd's cleanups, so it runs after
# them and before finish, which refuses to remove a tree with a mount in it.
umount_work() {
	local m
	awk -v r="$work" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			echo "nspawn.sh: unmounting $m" >&2
			umount "$m" || umount -l "$m"
		done
}

# id_in ROOT passwd|group NAME: NAME's numeric id in ROOT's own /etc/passwd
# or /etc/group (not the host's).
id_in() { awk -F: -v n="$3" '$1 == n { print $3; exit }' "$1/etc/$2"; }

# perms PATH: "MODE UID:GID" of PATH on the host, numeric.
perms() { stat -c '%a %u:%g' "$1"; }

# hub_user NAME: the user name the hub's main process runs as in NAME.
hub_user() {
	local pid uid
	pid=$(ct_show "$1" "$hub_unit" MainPID) || return 1
	[ "${pid:-0}" -gt 0 ] || return 1
	uid=$(ct "$1" awk '/^Uid:/ { print $2 }' "/proc/$pid/status") || return 1
	ct "$1" id -nu "$uid"
}

# fb_said NAME TEXT WHAT: pass if NAME's first-boot journal (NAME.fb.log,
# kept by booted) holds the fixed string TEXT; WHAT says what that shows.
fb_said() {
	if grep -qF -- "$2" "$E2E_LOGS/$1.fb.log"; then
		pass "$1: $3"
	else
		fail "$1: $3: the first-boot journal does not say '$2'"
		sed 's/^/      | /' "$E2E_LOGS/$1.fb.log"
	fi
}

# same_secrets A B: A's and B's cookie secret and proxy token are the same
# (paths are roots or secrets directories: DIR/jupyterhub_cookie_secret).
same_secrets() { same_file "$1/${cookie##*/}" "$2/${cookie##*/}" && same_file "$1/${token##*/}" "$2/${token##*/}"; }
# differ_secrets A B: both differ.
differ_secrets() { ! same_file "$1/${cookie##*/}" "$2/${cookie##*/}" && ! same_file "$1/${token##*/}" "$2/${token##*/}"; }

# discard DIR...: remove roots no longer needed, in the background while the
# test goes on (removing a 650 MB tree takes seconds here); reaped by
# reap_discards before the summary, and by the cleanup after a failure.
DISCARDS=()
discard() {
	rm -rf "$@" &
	DISCARDS+=($!)
}
reap_discards() {
	local p
	for p in "${DISCARDS[@]}"; do wait "$p" || true; done
	DISCARDS=()
}
# reap_discards_any: from the cleanup subshell, which cannot wait for the
# main shell's children: poll until they are gone (alive: lib-nspawn.sh).
reap_discards_any() {
	local p
	for p in "${DISCARDS[@]}"; do
		while alive "$p"; do sleep 0.2; done
	done
}
