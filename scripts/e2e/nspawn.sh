#!/bin/bash
# shellcheck disable=SC2317 # functions called from traps look unreachable
# make e2e: a real `packer build` with the jupyterhub-secrets provisioner, then
# real instances of the built root booted with systemd as PID 1 under
# systemd-nspawn, running Debian's own JupyterHub (see docs/e2e.md).
#
#   1. set-up: Packer v1.15.0 (scripts/testenv/packer.sh, cached), the plugin
#      (bin/packer-plugin-jupyterhub) installed with `packer plugins install
#      --path` into a private plugin path, the hub root (scripts/testenv/
#      hub-root.sh, cached) served by a chrooted sshd on 127.0.0.1
#   2. packer build examples/local; the built root passes --profile image
#   3. instances A and B (own cloud-init instance-ids): first-boot unit before
#      the hub, the hub answers, secrets right and distinct; A rebooted keeps
#      its secrets and users' cookies; A cloned to C gets new ones; modes 0604
#      and 0640 against the hub and the policy
#   4. CI formats: SARIF (2.1.0 schema) and JUnit of A; a broken copy exits 1
#      with the finding in every format
#   5. the tutorial's own commands through Packer's shell provisioner: the
#      checker rejects the result, with reasons
#   6. examples/hub-user, the docs' example verbatim: a hub running as its own
#      user, built as a sudoer and verified; its instances pass the check with
#      no --data; reboot and clone (scripts/e2e/nspawn-cases.sh, as 7 and 8)
#   7. identity: a read-only root's transient machine-id, a clone's stale
#      cloud-init instance-id and the DMI UUID in a container are skipped
#   8. /srv as a fresh file system from /etc/fstab: the directory is made on
#      it at boot, dhparam.pem restored, the hub starts
#   9. continuous compliance: init --install-timer inside instance A, Debian's
#      node_exporter scraped before and after a secret is chmod-ed 0644
#      (scripts/e2e/nspawn-prometheus.sh)
#
# cloud-init is a stand-in unit (lib-hub.sh: cloud_init) that records a
# NoCloud seed's instance-id where cloud-init does.
#
# Needs root, systemd-container, debootstrap, curl, jq, openssl, go; the
# first run builds Packer and the hub root (minutes), later runs reuse them.
# Every container runs with --private-network; sshd listens on 127.0.0.1.
# Env: HUBSECRETS_CACHE (default REPO/.cache), E2E_KEEP=1 keeps the work
# directory (roots and logs) for inspection.
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck disable=SC2034 # read by lib.sh
E2E_PROG=nspawn.sh
# shellcheck source=scripts/e2e/lib.sh
. "$repo/scripts/e2e/lib.sh"
# shellcheck source=scripts/e2e/lib-nspawn.sh
. "$repo/scripts/e2e/lib-nspawn.sh"
# shellcheck source=scripts/e2e/lib-hub.sh
. "$repo/scripts/e2e/lib-hub.sh"
# shellcheck source=scripts/e2e/nspawn-cases.sh
. "$repo/scripts/e2e/nspawn-cases.sh"
# shellcheck source=scripts/e2e/nspawn-prometheus.sh
. "$repo/scripts/e2e/nspawn-prometheus.sh"

cache=${HUBSECRETS_CACHE:-$repo/.cache}
cli=$repo/bin/hubsecrets
plugin=$repo/bin/packer-plugin-jupyterhub
secrets=srv/jupyterhub
cookie=$secrets/jupyterhub_cookie_secret
token=$secrets/proxy_auth_token
dh=$secrets/dhparam.pem
hub_unit=jupyterhub.service
fb_unit=jupyterhub-secrets.service

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, systemd-nspawn): sudo make e2e"
need systemd-nspawn nsenter debootstrap curl jq openssl go cmp sha256sum setsid timeout
[ -x "$cli" ] || die "$cli is missing: make build (make e2e builds it)"
[ -x "$plugin" ] || die "$plugin is missing: make plugin (make e2e builds it)"

mkdir -p "$cache/e2e"
work=$(mktemp -d "$cache/e2e/nspawn.XXXXXX")
E2E_LOGS=$work/logs
mkdir -p "$E2E_LOGS"

# finish: keep the logs of a failed run, then remove the work directory,
# unless something is still mounted under it.
finish() {
	local keep=$cache/e2e-logs
	if [ "$E2E_FAIL" -gt 0 ] || [ "${E2E_STATUS:-1}" -ne 0 ]; then
		rm -rf "$keep"
		cp -a "$E2E_LOGS" "$keep" 2>/dev/null && echo "nspawn.sh: logs kept in $keep" >&2
	fi
	if awk -v r="$work" '$5 == r || index($5, r "/") == 1' /proc/self/mountinfo | grep -q .; then
		echo "nspawn.sh: still mounted under $work; not removing it" >&2
		return 1
	fi
	if [ "${E2E_KEEP:-}" = 1 ]; then
		echo "nspawn.sh: E2E_KEEP=1: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
on_exit finish
on_exit umount_work

export CHECKPOINT_DISABLE=1 PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/packer-config
export PACKER_CACHE_DIR=$work/packer-cache
on_exit reap_discards_any

# ---------------------------------------------------------------------------
step "1. set-up: Packer, the plugin, the hub root served by sshd on 127.0.0.1"
t=$(date +%s)
packer=$("$repo/scripts/testenv/packer.sh") || die "scripts/testenv/packer.sh could not provide Packer"
note "$("$packer" version | head -n1) ($packer)"
hub_tarball=$("$repo/scripts/testenv/hub-root.sh" build) || die "scripts/testenv/hub-root.sh build failed"
note "hub root $hub_tarball ($(du -h "$hub_tarball" | cut -f1))"
expect "packer plugins install --path bin/packer-plugin-jupyterhub" \
	"$packer" plugins install --path "$plugin" github.com/hubsecrets/jupyterhub
serve_root sshd
note "sshd on 127.0.0.1:$SSH_PORT serves $SSH_ROOT ($(($(date +%s) - t))s)"

# ---------------------------------------------------------------------------
step "2. packer build examples/local with provisioner \"jupyterhub-secrets\""
t=$(date +%s)
if packer_build "$E2E_LOGS/packer-local.log" "$repo/examples/local" -var "report_file=$E2E_LOGS/build-report.json"; then
	pass "packer build examples/local ($(($(date +%s) - t))s)"
else
	fail "packer build examples/local"
	tail -n 30 "$E2E_LOGS/packer-local.log" | sed 's/^/      | /'
	die "no image to boot"
fi
stop_root sshd "$work/built"
built=$work/built
rc=$(check "$built" image "$E2E_LOGS/built.check.txt")
if [ "$rc" = 0 ]; then pass "built root: hubsecrets check --profile image exits 0"; else
	fail "built root: hubsecrets check --profile image exits $rc"
	sed 's/^/      | /' "$E2E_LOGS/built.check.txt"
fi
if [ ! -e "$built/$cookie" ] && [ ! -e "$built/$token" ]; then
	pass "built root holds no cookie secret and no proxy token"
else
	fail "built root holds a per-instance secret"
fi

# ---------------------------------------------------------------------------
step "3. instances A and B under systemd-nspawn, with Debian's jupyterhub"
t=$(date +%s)
instance A "$built" i-e2e-a
instance B "$built" i-e2e-b
ct_boot A "$work/A"
ct_boot B "$work/B"
booted A
booted B
note "A and B booted and checked in $(($(date +%s) - t))s"
if grep -q 'no instance recorded yet' "$E2E_LOGS/A.fb.log" && grep -q 'identified by /run/cloud-init/.instance-id' "$E2E_LOGS/A.fb.log"; then
	pass "A: first boot made the secrets for cloud-init's instance-id (no instance recorded yet)"
else
	fail "A: the first-boot journal does not say it made the secrets for cloud-init's instance-id"
	sed 's/^/      | /' "$E2E_LOGS/A.fb.log"
fi

# A user logs in (DummyAuthenticator) through the proxy: the cookie jar is
# kept on the host for the reboot.
jar=$work/A.cookies
code=$(curl_hub A "$jar" /hub/login -d 'username=e2e&password=e2e') || code=error
if [ "$code" = 302 ] && grep -q jupyterhub-hub-login "$jar"; then
	pass "A: user e2e logged in through the proxy on 127.0.0.1:8000 (302, login cookie set)"
else
	fail "A: login answered $code"
fi
if logged_in A "$jar"; then pass "A: the login cookie authenticates GET /hub/api/user"; else fail "A: the login cookie does not authenticate"; fi

stopped A
stopped B
for f in "$cookie" "$token"; do
	if ! same_file "$work/A/$f" "$work/B/$f"; then pass "A and B: ${f##*/} differ"; else fail "A and B: ${f##*/} are the same"; fi
done
if same_file "$work/A/$dh" "$built/$dh" && same_file "$work/B/$dh" "$built/$dh"; then
	pass "A and B: dhparam.pem is the one baked into the image"
else
	fail "A and B: dhparam.pem differs from the image's"
fi

discard "$work/B" "$built"

step "3b. reboot A (same instance-id): secrets and cookies survive"
t=$(date +%s)
a_cookie=$(secret_hash "$work/A/$cookie") || a_cookie=missing
a_token=$(secret_hash "$work/A/$token") || a_token=missing
ct_boot A "$work/A"
booted A
if grep -q 'nothing to do' "$E2E_LOGS/A.fb.log"; then
	pass "A rebooted: the first-boot unit changed nothing"
else
	fail "A rebooted: the first-boot unit did not say 'nothing to do'"
fi
if logged_in A "$jar"; then pass "A rebooted: the cookie from before the reboot is still valid"; else fail "A rebooted: the old cookie no longer authenticates"; fi
stopped A
if [ "$(secret_hash "$work/A/$cookie")" = "$a_cookie" ] && [ "$(secret_hash "$work/A/$token")" = "$a_token" ]; then
	pass "A rebooted: cookie secret and proxy token unchanged"
else
	fail "A rebooted: a secret changed"
fi
note "reboot checked in $(($(date +%s) - t))s"

step "3c. clone A to C with a new instance-id: new secrets, old cookies void"
t=$(date +%s)
cp -a --reflink=auto "$work/A" "$work/C"
cloud_init "$work/C" i-e2e-c
ct_boot C "$work/C"
booted C
if grep -q 'new instance (identity from /run/cloud-init/.instance-id)' "$E2E_LOGS/C.fb.log"; then
	pass "C: the first-boot unit saw a new instance (cloud-init's instance-id)"
else
	fail "C: the first-boot unit did not see a new instance"
	sed 's/^/      | /' "$E2E_LOGS/C.fb.log"
fi
code=$(curl_hub C "$jar" /hub/api/user) || code=error
if [ "$code" = 403 ] || [ "$code" = 401 ]; then
	pass "C: A's login cookie is refused ($code): signed with the old secret"
else
	fail "C: A's login cookie gave $code, want 403"
fi
stopped C
for f in "$cookie" "$token"; do
	if ! same_file "$work/A/$f" "$work/C/$f"; then pass "A and C: ${f##*/} differ"; else fail "A and C: ${f##*/} are the same"; fi
done
note "clone checked in $(($(date +%s) - t))s"
discard "$work/C"

step "3d. cookie secret modes: 0604 and 0640 against the hub and the policy"
t=$(date +%s)
cp -a --reflink=auto "$work/A" "$work/D"
ct_boot D "$work/D"
note "D (a copy of A): systemd $(ct_wait D)"
hub_api D || fail "D: the hub does not answer before the mode changes"
# The first-boot unit would repair a bad mode at the next boot, so the mode
# is changed in the running instance and the hub alone is restarted.
ct D chmod 0604 "/$cookie"
ct D systemctl restart "$hub_unit" || true
refused=
for ((i = 0; i < 120; i++)); do
	hub_log D >"$E2E_LOGS/D.hub.log" 2>&1 || true
	if grep -q 'cookie_secret_file can be read or written by anybody' "$E2E_LOGS/D.hub.log"; then
		refused=1
		break
	fi
	sleep 0.25
done
if [ -n "$refused" ] && ! ct_net D curl -fsS --noproxy '*' -m 3 -o /dev/null http://127.0.0.1:8081/hub/api 2>/dev/null; then
	pass "D 0604: the hub refuses to start ('cookie_secret_file can be read or written by anybody')"
else
	fail "D 0604: the hub did not refuse the cookie secret"
fi
ct D chmod 0640 "/$cookie"
ct D systemctl reset-failed "$hub_unit" || true
ct D systemctl restart "$hub_unit" || true
if hub_api D 60; then pass "D 0640: the hub starts and answers"; else fail "D 0640: the hub does not start"; fi
if ct_poweroff D; then pass "D: powered off"; else fail "D: did not power off cleanly"; fi
rc=$(check "$work/D" instance "$E2E_LOGS/D-0640.log" --format json --output "$E2E_LOGS/D-0640.json")
ids=$(deny_ids "$E2E_LOGS/D-0640.json") || ids=
if [ "$rc" = 1 ] && grep -qw HUB013 <<<"$ids"; then
	pass "D 0640: the default policy denies it (exit 1: $ids)"
else
	fail "D 0640: hubsecrets check exits $rc with deny [$ids], want 1 with HUB013"
fi
printf '{"hubsecrets": {"params": {"allow_group_read": true}}}\n' >"$work/group-read.json"
rc=$(check "$work/D" instance "$E2E_LOGS/D-0640-group.txt" --data "$work/group-read.json")
if [ "$rc" = 0 ]; then pass "D 0640: allowed with allow_group_read (exit 0)"; else fail "D 0640 with allow_group_read: exit $rc, want 0"; fi
chmod 0604 "$work/D/$cookie"
rc=$(check "$work/D" instance "$E2E_LOGS/D-0604.log" --format json --output "$E2E_LOGS/D-0604.json")
ids=$(deny_ids "$E2E_LOGS/D-0604.json") || ids=
if [ "$rc" = 1 ] && grep -qw HUB012 <<<"$ids"; then pass "D 0604: denied (exit 1: $ids)"; else fail "D 0604: exit $rc with deny [$ids], want 1 with HUB012"; fi
rc=$(check "$work/D" instance "$E2E_LOGS/D-0604-group.log" --format json --output "$E2E_LOGS/D-0604-group.json" --data "$work/group-read.json")
ids=$(deny_ids "$E2E_LOGS/D-0604-group.json") || ids=
if [ "$rc" = 1 ] && grep -qw HUB012 <<<"$ids"; then pass "D 0604: still denied with allow_group_read ($ids)"; else fail "D 0604 with allow_group_read: exit $rc [$ids], want 1 with HUB012"; fi
note "modes checked in $(($(date +%s) - t))s"

# ---------------------------------------------------------------------------
step "4. CI formats: SARIF and JUnit of A; a broken copy in every format"
t=$(date +%s)
go test -c -o "$work/report.test" "$repo/internal/report" >"$E2E_LOGS/go-test-c.log" 2>&1 ||
	{ cat "$E2E_LOGS/go-test-c.log"; die "cannot build internal/report's tests"; }
# validate SARIF JUNIT DENY: the report package's external-file tests.
validate() {
	(cd "$repo/internal/report" && HUBSECRETS_E2E_SARIF=$1 HUBSECRETS_E2E_JUNIT=$2 HUBSECRETS_E2E_DENY=$3 \
		"$work/report.test" -test.run '^TestExternal' -test.v -test.count=1)
}
rc_s=$(check "$work/A" instance "$E2E_LOGS/A.sarif.log" --format sarif --output "$work/A.sarif")
rc_j=$(check "$work/A" instance "$E2E_LOGS/A.junit.log" --format junit --output "$work/A.junit.xml")
if [ "$rc_s$rc_j" = 00 ]; then pass "A: sarif and junit scans exit 0"; else fail "A: sarif scan exit $rc_s, junit $rc_j"; fi
expect "A: SARIF validates against the 2.1.0 schema, JUnit parses, no failures" \
	validate "$work/A.sarif" "$work/A.junit.xml" none
# E: D again (a copy of A, stopped), its cookie secret now 0644.
mv "$work/D" "$work/E"
chmod 0644 "$work/E/$cookie"
for fmt in text json sarif junit; do
	rc=$(check "$work/E" instance "$E2E_LOGS/E.$fmt.log" --format "$fmt" --output "$work/E.$fmt")
	if [ "$rc" = 1 ] && grep -q HUB012 "$work/E.$fmt"; then
		pass "E (cookie secret 0644): --format $fmt exits 1 and names HUB012"
	else
		fail "E (cookie secret 0644): --format $fmt exits $rc$(grep -q HUB012 "$work/E.$fmt" || echo ', no HUB012')"
	fi
done
ids=$(deny_ids "$work/E.json") || ids=
expect "E: SARIF and JUnit validate and report exactly the JSON's deny findings ($ids)" \
	validate "$work/E.sarif" "$work/E.junit" "$ids"
cp "$work/A.sarif" "$work/A.junit.xml" "$work"/E.* "$E2E_LOGS/"
note "formats checked in $(($(date +%s) - t))s"
discard "$work/E" # A is step 9's

# ---------------------------------------------------------------------------
step "5. the tutorial's commands through Packer's shell provisioner"
t=$(date +%s)
serve_root tutorial
if packer_build "$E2E_LOGS/packer-tutorial.log" "$repo/examples/tutorial"; then
	pass "packer build examples/tutorial ($(($(date +%s) - t))s)"
else
	fail "packer build examples/tutorial"
	tail -n 30 "$E2E_LOGS/packer-tutorial.log" | sed 's/^/      | /'
fi
stop_root tutorial "$work/T"
rc=$(check "$work/T" instance "$E2E_LOGS/tutorial.log" --format json --output "$E2E_LOGS/tutorial.json")
check "$work/T" instance "$E2E_LOGS/tutorial.txt" >/dev/null
ids=$(finding_ids "$E2E_LOGS/tutorial.json" | paste -sd' ' -) || ids=
if [ "$rc" = 1 ] && grep -qw deny:HUB016 <<<"$ids" && grep -qw warn:HUB040 <<<"$ids"; then
	pass "tutorial's tree: hubsecrets check exits 1 with HUB016 (empty cookie secret) and HUB040 (jupyterhub_cookie_secretl)"
else
	fail "tutorial's tree: exit $rc, findings [$ids], want 1 with deny:HUB016 and warn:HUB040"
fi
note "findings: $ids"
grep -E '^(DENY|WARN) ' "$E2E_LOGS/tutorial.txt" | sed 's/^/    /' || true

discard "$work/T"

# ---------------------------------------------------------------------------
case_hub_user || true
case_identity || true
case_volume || true
case_prometheus || true
reap_discards

# ---------------------------------------------------------------------------
if summary; then E2E_STATUS=0; else E2E_STATUS=1; fi
exit "$E2E_STATUS"
