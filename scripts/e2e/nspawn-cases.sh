# shellcheck shell=bash
# shellcheck disable=SC2154,SC2016 # globals set by nspawn.sh; awk programs in single quotes
# scripts/e2e/nspawn-cases.sh: make e2e's steps 6 to 8 (bash, sourced by
# nspawn.sh, which runs them after step 5; see docs/e2e.md):
#
#   case_hub_user   6. examples/hub-user, the docs' example of a hub running as
#                      its own user: built as a sudoer, verified, booted; the
#                      hub runs as jupyterhub with the secrets; reboot, clone
#   case_identity   7. identity sources the first-boot script must not trust:
#                      (a) a read-only root's transient machine-id, (b) a stale
#                      cloud-init instance-id on a clone, (c) the DMI UUID in a
#                      container
#   case_volume     8. /srv as a fresh file system from /etc/fstab: the unit
#                      makes the directory on it and restores dhparam.pem
#
# case_hub_user leaves the built root in $work/hub-built and the instance
# $work/H for the others; case_volume removes them.

hub_built=
jh=jupyterhub # the hub's user and group in examples/hub-user

# ---------------------------------------------------------------------------
case_hub_user() {
	local t rc hb uid gid want sarif c_hash t_hash
	step "6. a hub that runs as its own user: examples/hub-user, the docs' example"
	t=$(date +%s)
	expect "docs/provisioners/secrets.mdx's hub-user example is examples/hub-user's provisioner block, verbatim" \
		"$repo/scripts/e2e/docs-example.sh"
	serve_root hubuser
	note "sshd on 127.0.0.1:$SSH_PORT serves a fresh hub root ($(($(date +%s) - t))s)"
	t=$(date +%s)
	# As builder (passwordless sudo), for the example's use_sudo = true.
	if packer_build "$E2E_LOGS/packer-hub-user.log" "$repo/examples/hub-user" -var ssh_username=builder; then
		pass "packer build examples/hub-user as builder with use_sudo ($(($(date +%s) - t))s)"
	else
		fail "packer build examples/hub-user"
		tail -n 30 "$E2E_LOGS/packer-hub-user.log" | sed 's/^/      | /'
		stop_root hubuser
		return 1
	fi
	if grep -q "Verifying the image (profile image)" "$E2E_LOGS/packer-hub-user.log" &&
		grep -q "Verified: no deny findings" "$E2E_LOGS/packer-hub-user.log"; then
		pass "the provisioner's own verification passed (profile image: no deny findings)"
	else
		fail "the packer log shows no passed verification"
	fi
	stop_root hubuser "$work/hub-built"
	hb=$work/hub-built
	hub_built=$hb
	sarif=$work/reports/jupyterhub-secrets.sarif
	if grep -q "Saved the sarif report to reports/jupyterhub-secrets.sarif" "$E2E_LOGS/packer-hub-user.log" &&
		(cd "$repo/internal/report" && HUBSECRETS_E2E_SARIF=$sarif HUBSECRETS_E2E_DENY=none \
			"$work/report.test" -test.run '^TestExternalSARIF$' -test.count=1) >"$E2E_LOGS/hub-user-sarif.log" 2>&1; then
		pass "the build's report_file reports/jupyterhub-secrets.sarif: valid SARIF 2.1.0, no deny finding"
	else
		fail "the build's SARIF report is missing, invalid or has deny findings"
		tail -n 20 "$E2E_LOGS/hub-user-sarif.log" | sed 's/^/      | /'
	fi
	cp "$sarif" "$E2E_LOGS/" 2>/dev/null || true

	uid=$(id_in "$hb" passwd "$jh")
	gid=$(id_in "$hb" group "$jh")
	if [ -n "$uid" ] && [ -n "$gid" ] && [ "$uid" -lt 1000 ] && [ -f "$hb/etc/systemd/system/$hub_unit.d/20-user.conf" ]; then
		pass "built root: system user $jh ($uid:$gid) and the hub's User=$jh drop-in, made before the provisioner"
	else
		fail "built root: no system user $jh (uid '${uid}', gid '${gid}') or no 20-user.conf drop-in"
	fi
	if [ "$(jq -r '.hubsecrets.params | "\(.owner):\(.group)"' "$hb/etc/hubsecrets/params.json" 2>/dev/null)" = "$jh:$jh" ]; then
		pass "built root: its contract /etc/hubsecrets/params.json carries owner=$jh, group=$jh"
	else
		fail "built root: /etc/hubsecrets/params.json does not say owner=$jh group=$jh"
	fi
	want="750 0:$gid"
	if [ "$(perms "$hb/$secrets")" = "$want" ] && [ "$(perms "$hb/$dh" | cut -d' ' -f2)" = "$uid:$gid" ]; then
		pass "built root: /$secrets is root:$jh 0750, dhparam.pem is $jh's"
	else
		fail "built root: /$secrets is $(perms "$hb/$secrets") (want $want), dhparam.pem $(perms "$hb/$dh")"
	fi
	rc=$(check "$hb" image "$E2E_LOGS/hub-built.check.txt")
	if [ "$rc" = 0 ]; then pass "built root: hubsecrets check --profile image, no --data, exits 0"; else
		fail "built root: hubsecrets check --profile image exits $rc"
		sed 's/^/      | /' "$E2E_LOGS/hub-built.check.txt"
	fi

	step "6a. instance H: the hub runs as $jh and loads the secrets"
	t=$(date +%s)
	instance H "$hb" i-e2e-h
	ct_boot H "$work/H"
	booted H
	hub_runs_as_user H
	fb_said H "no instance recorded yet" "first boot made the secrets (no instance recorded yet)"
	fb_said H "($jh:$jh, 600) for the instance identified by /run/cloud-init/.instance-id" \
		"secrets written $jh:$jh 0600 for cloud-init's instance-id"
	after_cloud_init H
	stopped H
	secrets_owned H "$work/H/$secrets" "$uid:$gid"
	c_hash=$(secret_hash "$work/H/$cookie") || c_hash=missing
	t_hash=$(secret_hash "$work/H/$token") || t_hash=missing
	note "H booted and checked in $(($(date +%s) - t))s"

	step "6b. H rebooted and its clone H2 (a new instance-id), side by side"
	t=$(date +%s)
	cp -a --reflink=auto "$work/H" "$work/H2"
	cloud_init "$work/H2" i-e2e-h2
	ct_boot H "$work/H"
	ct_boot H2 "$work/H2"
	booted H
	booted H2
	fb_said H "nothing to do" "rebooted: the first-boot unit changed nothing"
	hub_runs_as_user H2
	fb_said H2 "new instance (identity from /run/cloud-init/.instance-id)" "the first-boot unit saw a new instance"
	stopped H
	stopped H2
	if [ "$(secret_hash "$work/H/$cookie")" = "$c_hash" ] && [ "$(secret_hash "$work/H/$token")" = "$t_hash" ]; then
		pass "H rebooted: cookie secret and proxy token unchanged"
	else
		fail "H rebooted: a secret changed"
	fi
	secrets_owned H2 "$work/H2/$secrets" "$uid:$gid"
	if differ_secrets "$work/H/$secrets" "$work/H2/$secrets"; then pass "H and H2: both secrets differ"; else fail "H and H2: a secret is the same"; fi
	discard "$work/H2"
	note "reboot and clone checked in $(($(date +%s) - t))s"
}

# hub_runs_as_user NAME: the hub's process runs as $jh; its database is in
# /var/lib/jupyterhub and is $jh's; none in the secrets directory.
hub_runs_as_user() {
	local name=$1 who
	who=$(hub_user "$name") || who=
	if [ "$who" = "$jh" ]; then
		pass "$name: the hub's process runs as $jh"
	else
		fail "$name: the hub's process runs as '${who:-?}', want $jh"
	fi
	if [ "$(ct "$name" stat -c %U /var/lib/jupyterhub/jupyterhub.sqlite 2>/dev/null)" = "$jh" ] &&
		! ct "$name" test -e "/$secrets/jupyterhub.sqlite"; then
		pass "$name: the hub's database is /var/lib/jupyterhub/jupyterhub.sqlite, $jh's; none in /$secrets"
	else
		fail "$name: the hub's database is not $jh's in /var/lib/jupyterhub (or it went into /$secrets)"
	fi
}

# after_cloud_init NAME: the cloud-init stand-in had finished when the
# first-boot unit started (only the unit's After=cloud-init.service orders
# them).
after_cloud_init() {
	local t_ci t_fb
	t_ci=$(ct_show "$1" cloud-init.service ActiveEnterTimestampMonotonic) || t_ci=
	t_fb=$(ct_show "$1" "$fb_unit" InactiveExitTimestampMonotonic) || t_fb=
	if [ "${t_ci:-0}" -gt 0 ] && [ "${t_fb:-0}" -gt 0 ] && [ "$t_ci" -le "$t_fb" ]; then
		pass "$1: cloud-init.service was done before $fb_unit started ($(((t_fb - t_ci) / 1000)) ms)"
	else
		fail "$1: cloud-init.service done at ${t_ci:-?} us, $fb_unit started at ${t_fb:-?} us: wrong order"
	fi
}

# secrets_owned NAME DIR UID:GID: both secrets in DIR are 0600 and UID:GID's.
secrets_owned() {
	local c t
	c=$(perms "$2/${cookie##*/}" 2>/dev/null) || c=missing
	t=$(perms "$2/${token##*/}" 2>/dev/null) || t=missing
	if [ "$c" = "600 $3" ] && [ "$t" = "600 $3" ]; then
		pass "$1: both secrets are 0600 and $jh's ($3)"
	else
		fail "$1: cookie secret $c, proxy token $t; want 600 $3"
	fi
}

# ---------------------------------------------------------------------------
# ro_instance NAME: for a read-only root (systemd-nspawn --read-only), the
# secrets directory and the hub's state directory on writable binds, copies
# of the root's own; sets RO_ARGS, the nspawn options.
RO_ARGS=()
ro_instance() {
	cp -a "$work/$1/$secrets" "$work/$1-srv"
	cp -a "$work/$1/var/lib/jupyterhub" "$work/$1-state"
	RO_ARGS=(--read-only "--bind=$work/$1-srv:/$secrets" "--bind=$work/$1-state:/var/lib/jupyterhub")
}

# dmi_standin DIR: the host has no DMI (its sysfs has no /sys/class/dmi), so
# the first-boot unit of the root DIR is given one: a drop-in that shows it a
# product UUID at /sys/class/dmi/id/product_uuid, on a tmpfs over /sys/class
# in its own mount namespace, as a VM's firmware would.
dmi_standin() {
	mkdir -p "$1/etc/hubsecrets-e2e" "$1/etc/systemd/system/$fb_unit.d"
	echo 4c4c4544-0042-3510-8052-b4c04f4e3232 >"$1/etc/hubsecrets-e2e/product_uuid"
	cat >"$1/etc/systemd/system/$fb_unit.d/50-e2e-dmi.conf" <<-'UNIT'
		# make e2e only: a DMI product UUID for the first-boot script to see.
		[Service]
		TemporaryFileSystem=/sys/class:ro
		BindReadOnlyPaths=/etc/hubsecrets-e2e/product_uuid:/sys/class/dmi/id/product_uuid
	UNIT
}

# transient_machine_id NAME: the root is read-only and /etc/machine-id is a
# mount point (systemd's id for this boot only).
transient_machine_id() {
	local root_opts
	root_opts=$(ct "$1" awk '$5 == "/" { o = $6 } END { print o }' /proc/self/mountinfo)
	if [[ ,$root_opts, == *,ro,* ]] && ct "$1" awk '$5 == "/etc/machine-id" { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		pass "$1: the root is read-only and /etc/machine-id is mounted over (transient)"
	else
		fail "$1: root mounted '$root_opts', /etc/machine-id not a mount point: not a read-only root's transient id"
	fi
}

case_identity() {
	local t m1 m2 rc h_c h_t
	local skip_mid="/etc/machine-id: made for this boot only (a read-only root)"
	local skip_dmi="/sys/class/dmi/id/product_uuid: a container sees its host's"
	local skip_ci="/var/lib/cloud/data/instance-id: cloud-init did not run on this boot"
	local kept="valid secrets are kept, so a clone of this machine keeps them too"
	[ -n "$hub_built" ] || { fail "7: no hub-user image to boot (step 6 failed)"; return 1; }

	step "7a. a read-only root: a transient machine-id each boot is skipped, the secrets kept"
	t=$(date +%s)
	instance R "$hub_built" off
	dmi_standin "$work/R"
	if [ ! -s "$work/R/etc/machine-id" ] && [ ! -e "$work/R/var/lib/cloud" ]; then
		pass "R: the image's /etc/machine-id is empty and no cloud-init id is present"
	else
		fail "R: the image has a machine-id or a cloud-init id"
	fi
	ro_instance R
	ct_boot R "$work/R" "${RO_ARGS[@]}"
	booted R
	if ct R test -e /run/systemd/container; then
		pass "R: the container marker /run/systemd/container exists (systemd in nspawn)"
	else
		fail "R: no /run/systemd/container in the container"
	fi
	transient_machine_id R
	m1=$(ct R cat /etc/machine-id) || m1=
	fb_said R "no instance identity found (skipped" "the first-boot script found no identity it trusts"
	fb_said R "$skip_mid" "it says the machine-id was skipped (made for this boot only)"
	fb_said R "$skip_dmi" "7c: it says the DMI product UUID was skipped (in a container)"
	fb_said R "jupyterhub_cookie_secret is missing" "first boot made the secrets (none were there)"
	stopped R "$work/R-srv" "/$secrets"
	secrets_owned R "$work/R-srv" "$(id_in "$hub_built" passwd "$jh"):$(id_in "$hub_built" group "$jh")"
	h_c=$(secret_hash "$work/R-srv/${cookie##*/}") || h_c=missing
	h_t=$(secret_hash "$work/R-srv/${token##*/}") || h_t=missing
	ct_boot R "$work/R" "${RO_ARGS[@]}"
	booted R
	transient_machine_id R
	m2=$(ct R cat /etc/machine-id) || m2=
	if [ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ]; then
		pass "R: a new machine-id on the second boot (systemd's transient one)"
	else
		fail "R: machine-ids of the two boots: '$m1' and '$m2', want two different ones"
	fi
	fb_said R "$skip_mid" "second boot: the machine-id was skipped again"
	fb_said R "nothing to do" "second boot: valid secrets kept (nothing to do)"
	stopped R "$work/R-srv" "/$secrets"
	if [ "$(secret_hash "$work/R-srv/${cookie##*/}")" = "$h_c" ] && [ "$(secret_hash "$work/R-srv/${token##*/}")" = "$h_t" ]; then
		pass "R: two boots with different machine-ids, the same secrets"
	else
		fail "R: the secrets changed between the two boots"
	fi
	discard "$work/R" "$work/R-srv" "$work/R-state"
	note "read-only root checked in $(($(date +%s) - t))s"

	step "7b. clones of H on which cloud-init does not run: its stale instance-id is skipped"
	t=$(date +%s)
	# S1: H's disk as it is (H's machine-id, committed on its first boot),
	# writable, cloud-init gone. S2: the same with an empty machine-id (as a
	# generalised image), read-only: no identity left at all.
	cp -a --reflink=auto "$work/H" "$work/S1"
	cp -a --reflink=auto "$work/H" "$work/S2"
	cloud_init "$work/S1" off
	cloud_init "$work/S2" off
	dmi_standin "$work/S1"
	: >"$work/S2/etc/machine-id"
	ro_instance S2
	if [ "$(cat "$work/S1/var/lib/cloud/data/instance-id")" = i-e2e-h ] && [ -s "$work/S1/etc/machine-id" ]; then
		pass "S1, S2: H's cloud-init instance-id (i-e2e-h) left in /var/lib/cloud/data, no cloud-init unit"
	else
		fail "S1: no stale instance-id from H, or no machine-id"
	fi
	ct_boot S1 "$work/S1"
	ct_boot S2 "$work/S2" "${RO_ARGS[@]}"
	booted S1
	booted S2
	# The stale instance-id and the DMI UUID (both present, both before the
	# machine-id in its order) were passed over for the machine-id, and the
	# script says which and why.
	fb_said S1 "new instance (identity from /etc/machine-id; skipped" \
		"stale instance-id and DMI UUID (7c) passed over: identity from the machine-id, a new instance"
	fb_said S1 "$skip_ci" "the new instance's reason names the stale cloud-init instance-id it skipped"
	fb_said S2 "$skip_ci" "the stale cloud-init instance-id was skipped"
	fb_said S2 "$skip_mid" "the transient machine-id was skipped"
	fb_said S2 "$kept" "no identity left: it warns that valid secrets are kept, a clone keeping them too"
	stopped S1
	stopped S2 "$work/S2-srv" "/$secrets"
	if differ_secrets "$work/H/$secrets" "$work/S1/$secrets"; then
		pass "S1: new secrets, not H's (a trusted stale instance-id would have kept H's)"
	else
		fail "S1: a secret is H's: the stale instance-id was trusted"
	fi
	if same_secrets "$work/H/$secrets" "$work/S2-srv"; then
		pass "S2: H's secrets kept, as documented when no identity is left (and as the warning says)"
	else
		fail "S2: the secrets changed with no identity to tell a new instance"
	fi
	discard "$work/S1" "$work/S2" "$work/S2-srv" "$work/S2-state"
	note "clones checked in $(($(date +%s) - t))s"
}

# ---------------------------------------------------------------------------
case_volume() {
	local t rc uid gid t_mnt t_fb bad v
	[ -n "$hub_built" ] || { fail "8: no hub-user image to boot (step 6 failed)"; return 1; }
	step "8. /srv as a fresh file system from /etc/fstab: made on the volume at boot"
	t=$(date +%s)
	uid=$(id_in "$hub_built" passwd "$jh")
	gid=$(id_in "$hub_built" group "$jh")
	instance V "$hub_built" i-e2e-v
	v=$work/V/data-volume
	mkdir -m 0755 "$v"
	echo '/data-volume /srv none bind 0 0' >>"$work/V/etc/fstab"
	ct_boot V "$work/V"
	booted V
	if ct V awk '$5 == "/srv" { f = 1 } END { exit !f }' /proc/self/mountinfo &&
		[ "$(ct_show V srv.mount ActiveState)" = active ]; then
		pass "V: /srv is a mount point (srv.mount from /etc/fstab, active)"
	else
		fail "V: /srv is not mounted from /etc/fstab"
	fi
	bad=$(grep -hE '226/NAMESPACE|status=226|Failed to set up mount namespacing' "$E2E_LOGS/V.fb.log" "$E2E_LOGS/V.console.log" || true)
	if [ -z "$bad" ] && [ "$(ct_show V "$fb_unit" Result)" = success ]; then
		pass "V: $fb_unit did not fail (no 226/NAMESPACE)"
	else
		fail "V: $fb_unit: $(ct_show V "$fb_unit" Result) $bad"
	fi
	if ct_show V "$fb_unit" RequiresMountsFor | grep -qw "/$secrets" && ct_show V "$fb_unit" After | grep -qw srv.mount; then
		pass "V: $fb_unit has RequiresMountsFor=/$secrets, so After=srv.mount"
	else
		fail "V: $fb_unit is not ordered after srv.mount"
	fi
	t_mnt=$(ct_show V srv.mount ActiveEnterTimestampMonotonic) || t_mnt=
	t_fb=$(ct_show V "$fb_unit" InactiveExitTimestampMonotonic) || t_fb=
	if [ "${t_mnt:-0}" -gt 0 ] && [ "${t_fb:-0}" -gt 0 ] && [ "$t_mnt" -le "$t_fb" ]; then
		pass "V: /srv was mounted before $fb_unit started"
	else
		fail "V: srv.mount active at ${t_mnt:-?} us, $fb_unit started at ${t_fb:-?} us"
	fi
	fb_said V "created /$secrets (0750 root:$jh)" "the unit made /$secrets on the new volume (0750 root:$jh)"
	fb_said V "restored /$dh from /etc/hubsecrets/dhparam.pem" "dhparam.pem restored from the image's copy"
	fb_said V "no instance recorded yet" "the secrets were made"
	if [ "$(ct V stat -c '%a %U:%G' "/$secrets")" = "750 root:$jh" ]; then
		pass "V: in the instance, /$secrets on the volume is 0750 root:$jh"
	else
		fail "V: /$secrets is $(ct V stat -c '%a %U:%G' "/$secrets")"
	fi
	hub_runs_as_user V
	stopped V "$v" /srv
	if [ -d "$v/jupyterhub" ] && [ "$(perms "$v/jupyterhub")" = "750 0:$gid" ]; then
		pass "V: the volume holds jupyterhub/ (0750 root:$jh)"
	else
		fail "V: the volume's jupyterhub/ is $(perms "$v/jupyterhub" 2>&1)"
	fi
	secrets_owned V "$v/jupyterhub" "$uid:$gid"
	if same_file "$v/jupyterhub/dhparam.pem" "$hub_built/$dh" && same_file "$v/jupyterhub/dhparam.pem" "$work/V/etc/hubsecrets/dhparam.pem" &&
		[ "$(perms "$v/jupyterhub/dhparam.pem")" = "$(perms "$hub_built/$dh")" ]; then
		pass "V: the volume's dhparam.pem is the image's, with its mode and owner ($(perms "$hub_built/$dh"))"
	else
		fail "V: the volume's dhparam.pem ($(perms "$v/jupyterhub/dhparam.pem" 2>&1)) is not the image's ($(perms "$hub_built/$dh"))"
	fi
	if [ ! -e "$work/V/$cookie" ] && [ ! -e "$work/V/$token" ] && same_file "$work/V/$dh" "$hub_built/$dh"; then
		pass "V: the image's own /$secrets, hidden under the volume, is untouched (no secret in it)"
	else
		fail "V: something was written into the image's hidden /$secrets"
	fi
	discard "$work/V" "$work/H" "$hub_built"
	note "data volume checked in $(($(date +%s) - t))s"
}
