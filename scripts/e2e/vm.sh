#!/usr/bin/env bash
# make e2e-vm: the real thing, in QEMU with software emulation (TCG, no KVM).
#
#   1. a small Debian bookworm base disk (scripts/testenv/qemu-base.sh, cached)
#   2. `packer build` of examples/qemu: Packer's qemu builder boots the base
#      disk, a shell provisioner generalises it, provisioner
#      "jupyterhub-secrets" bakes /srv/jupyterhub and the first-boot hook; the
#      output disk must hold no secret and pass `hubsecrets check --profile image`
#   3. the output booted as machines, each powered off from inside once
#      multi-user.target is reached; each disk is then read back with debugfs
#      (no mount, no loop device) and checked with `hubsecrets check`:
#        a   copy 1, NoCloud seed instance-id iid-hubsecrets-a
#        b   copy 2, NoCloud seed instance-id iid-hubsecrets-b
#        a2  a again (a reboot): same seed, same disk
#        c   copy 3, no seed and no SMBIOS UUID: the identity is /etc/machine-id
#      A stand-in jupyterhub.service (in the base disk) records at its start
#      whether both secrets were there and valid, their modes and SHA-256
#      hashes, and the monotonic start times of itself and of
#      jupyterhub-secrets.service.
#
# Needs root, debootstrap, qemu-system-x86, e2fsprogs (debugfs), dosfstools
# and mtools (the cidata seed), Go (Packer and its qemu plugin are built from
# the module proxy once), and bin/hubsecrets and bin/packer-plugin-jupyterhub
# (`make e2e-vm` builds them). Nothing leaves this machine: every VM has only
# QEMU's user network with restrict=on, and Packer's SSH forward is bound to
# 127.0.0.1.
#
# Env: HUBSECRETS_CACHE (default REPO/.cache), HUBSECRETS_VM_BOOT_TIMEOUT
# (seconds per boot, default 900), HUBSECRETS_VM_ACCEL (default tcg),
# HUBSECRETS_VM_PARALLEL (boots at once, default 2), HUBSECRETS_VM_KEEP=1
# keeps the work directory (disks, logs) even on success.
set -eu -o pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
hubsecrets=$repo/bin/hubsecrets
plugin=$repo/bin/packer-plugin-jupyterhub
boot_timeout=${HUBSECRETS_VM_BOOT_TIMEOUT:-900}
accel=${HUBSECRETS_VM_ACCEL:-tcg}
parallel=${HUBSECRETS_VM_PARALLEL:-2}

die() { echo "vm.sh: $*" >&2; exit 2; }
say() { echo "$*"; }
step() { echo; echo "==> $*"; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot); run: sudo make e2e-vm"
for t in qemu-system-x86_64:qemu-system-x86 debugfs:e2fsprogs mkfs.vfat:dosfstools mcopy:mtools \
	debootstrap:debootstrap go:golang sha256sum:coreutils; do
	command -v "${t%%:*}" >/dev/null || die "${t%%:*} is missing: apt-get install -y ${t#*:}"
done
for b in "$hubsecrets" "$plugin"; do
	[ -x "$b" ] || die "$b is missing: run make e2e-vm (it builds bin/ first), or make build plugin"
done
case $boot_timeout in '' | *[!0-9]*) die "HUBSECRETS_VM_BOOT_TIMEOUT=$boot_timeout: want a number of seconds" ;; esac
case $parallel in 1 | 2) ;; *) die "HUBSECRETS_VM_PARALLEL=$parallel: want 1 or 2" ;; esac

mkdir -p "$cache"
work=$(mktemp -d "$cache/e2e-vm.XXXXXX")
work=$(cd "$work" && pwd)

# --- cleanup: every process started here, whatever happens ---
qemu_pids=()
packer_pid=
failures=0
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	if [ -n "$packer_pid" ] && kill -0 "$packer_pid" 2>/dev/null; then
		# Packer stops its own VM on SIGTERM; give it a moment.
		kill -TERM "$packer_pid" 2>/dev/null || true
		for _ in $(seq 30); do kill -0 "$packer_pid" 2>/dev/null || break; sleep 1; done
		kill -KILL "$packer_pid" 2>/dev/null || true
	fi
	for p in "${qemu_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# Any QEMU still running on a file in this run's directory is ours (the
	# one Packer started, if Packer died first): found by pid, not by name.
	for p in $(our_qemus); do
		echo "vm.sh: killing QEMU $p left running" >&2
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$rc" -ne 0 ] || [ -n "${HUBSECRETS_VM_KEEP:-}" ]; then
		# Keep the logs; the disks (GBs, and the instances' test secrets) go
		# unless asked to keep everything.
		[ -n "${HUBSECRETS_VM_KEEP:-}" ] || rm -rf "$work"/*.raw "$work"/*.root "$work/build"
		echo "vm.sh: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
our_qemus() {
	local d
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$(readlink -f "$(command -v qemu-system-x86_64)")" ] || continue
		tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$work/" && echo "${d#/proc/}"
	done
	return 0
}
trap cleanup EXIT
trap 'echo "vm.sh: interrupted" >&2; exit 130' INT TERM

# --- results ---
results=()
pass() { results+=("PASS  $*"); echo "PASS  $*"; }
fail() { results+=("FAIL  $*"); echo "FAIL  $*"; failures=$((failures + 1)); }
# not COMMAND...: succeeds when COMMAND fails.
not() { ! "$@"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
check() { # check DESCRIPTION COMMAND...: PASS if the command succeeds
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
phases=()
t_phase=$(date +%s)
t_start=$t_phase
phase_done() {
	local now
	now=$(date +%s)
	phases+=("$(printf '%-34s %5ss' "$1" $((now - t_phase)))")
	t_phase=$now
}

# --- reading a powered-off disk: debugfs, read-only, nothing mounted ---
# disk_has DISK PATH
disk_has() { debugfs -R "stat $2" "$1" 2>&1 | grep -q '^Inode:'; }
# disk_cat DISK PATH
disk_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
# extract DISK DIR: the files hubsecrets check and this script read, with
# their owners and modes (debugfs rdump keeps both when run as root).
extract() {
	local disk=$1 dir=$2
	rm -rf "$dir"
	mkdir -p "$dir/etc/systemd" "$dir/srv" "$dir/usr/local/libexec" "$dir/var/lib/cloud"
	chmod 0755 "$dir" "$dir"/*
	{
		echo "dump -p /etc/passwd $dir/etc/passwd"
		echo "dump -p /etc/group $dir/etc/group"
		echo "dump -p /etc/machine-id $dir/etc/machine-id"
		echo "rdump /etc/systemd/system $dir/etc/systemd"
		echo "rdump /usr/local/libexec/hubsecrets $dir/usr/local/libexec"
		# The contract: the image profile checks the script's digest against it (HUB060).
		disk_has "$disk" /etc/hubsecrets && echo "rdump /etc/hubsecrets $dir/etc"
		disk_has "$disk" /srv/jupyterhub && echo "rdump /srv/jupyterhub $dir/srv"
		disk_has "$disk" /var/lib/hub-standin && echo "rdump /var/lib/hub-standin $dir/var/lib"
		disk_has "$disk" /var/lib/cloud/data && echo "rdump /var/lib/cloud/data $dir/var/lib/cloud"
	} >"$dir.cmds"
	debugfs -f "$dir.cmds" "$disk" >"$dir.debugfs.log" 2>&1 || { cat "$dir.debugfs.log" >&2; return 1; }
	[ -f "$dir/etc/passwd" ] || { cat "$dir.debugfs.log" >&2; return 1; }
}

# sha_line TEXT: SHA-256 of TEXT and a newline, as the first-boot script
# hashes an instance identity.
sha_line() { printf '%s\n' "$1" | sha256sum | cut -d' ' -f1; }

# field RECORD KEY: a key=value field of a stand-in record.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# --- 1. base disk ---
step "1. base disk (debootstrap once, then cached)"
"$repo/scripts/testenv/qemu-base.sh" build >"$work/base.env" || die "scripts/testenv/qemu-base.sh build failed"
# shellcheck disable=SC1091
. "$work/base.env"
say "    $QEMU_BASE_DISK"
phase_done "1 base disk"

# --- 2. packer build ---
step "2. packer build examples/qemu (qemu builder, accelerator $accel)"
packer=$("$repo/scripts/testenv/packer.sh") || die "scripts/testenv/packer.sh failed"
export CHECKPOINT_DISABLE=1
export PACKER_PLUGIN_PATH=$work/plugins
export PACKER_CONFIG_DIR=$work/packer-config
export PACKER_CACHE_DIR=$work/packer_cache
PACKER=$packer "$repo/scripts/testenv/packer-plugin-qemu.sh" install >/dev/null ||
	die "scripts/testenv/packer-plugin-qemu.sh install failed"
"$packer" plugins install --path "$plugin" github.com/hubsecrets/jupyterhub >/dev/null ||
	die "packer plugins install --path $plugin failed"
phase_done "2a packer and plugins"

out=$work/build
report=$work/image-report.json
set +e
PACKER_LOG=1 PACKER_LOG_PATH=$work/packer-debug.log "$packer" build -color=false \
	-var "base_image=$QEMU_BASE_DISK" \
	-var "kernel=$QEMU_BASE_KERNEL" -var "initrd=$QEMU_BASE_INITRD" -var "kernel_append=$QEMU_BASE_APPEND" \
	-var "ssh_private_key_file=$QEMU_BASE_KEY" \
	-var "output_directory=$out" -var "vm_name=hub.raw" -var "accelerator=$accel" \
	-var "serial_log=$work/build-serial.log" -var "report_file=$report" \
	"$repo/examples/qemu" >"$work/packer.log" 2>&1 </dev/null &
packer_pid=$!
wait "$packer_pid"
rc=$?
packer_pid=
set -e
sed 's/^/    /' "$work/packer.log"
image=$out/hub.raw
if [ "$rc" -ne 0 ] || [ ! -f "$image" ]; then
	fail "packer build exited $rc (debug log: $work/packer-debug.log)"
	tail -n 30 "$work/build-serial.log" 2>/dev/null | sed 's/^/    serial: /' || true
	die "no image to boot"
fi
pass "packer build with the qemu builder and provisioner jupyterhub-secrets"
check "the provisioner verified the image (Verified: no deny findings)" grep -q 'Verified: no deny findings' "$work/packer.log"
check "the provisioner wrote its report ($report)" test -s "$report"
# The build VM's only network: user networking with restrict=on, one SSH
# forward on 127.0.0.1 (the command line the qemu plugin ran, from its log).
build_net_restricted() {
	local n
	n=$(grep -a 'Executing .*qemu-system' "$work/packer-debug.log" | grep -o '"-netdev", "[^"]*"' | sort -u)
	[ "$(grep -c . <<<"$n")" = 1 ] &&
		grep -qx '"-netdev", "user,id=user.0,restrict=on,hostfwd=tcp:127.0.0.1:[0-9]*-:22"' <<<"$n"
}
check "the build VM had only -netdev user,...,restrict=on,hostfwd=tcp:127.0.0.1:PORT-:22" build_net_restricted
phase_done "2b packer build"

step "2. the output image"
for f in jupyterhub_cookie_secret proxy_auth_token .hubsecrets-instance; do
	check "image has no /srv/jupyterhub/$f" not disk_has "$image" "/srv/jupyterhub/$f"
done
check "image has /srv/jupyterhub/dhparam.pem" disk_has "$image" /srv/jupyterhub/dhparam.pem
check "image /etc/machine-id is empty (generalised)" test -z "$(disk_cat "$image" /etc/machine-id)"
check "image holds no cloud-init instance state (cloud-init clean)" not disk_has "$image" /var/lib/cloud/data/instance-id
extract "$image" "$work/image.root" || die "debugfs could not read $image"
set +e
"$hubsecrets" check --root "$work/image.root" --profile image >"$work/image-check.txt" 2>&1
rc=$?
set -e
check "hubsecrets check --profile image on the output disk (exit $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' "$work/image-check.txt"
phase_done "2c image read back"

# --- 3. boots ---
# seed NAME INSTANCE_ID: a NoCloud seed, a vfat file system labelled CIDATA
# (no mount: mtools writes into the image file).
seed() {
	local s=$work/$1.seed
	mkdir -p "$s.d"
	printf 'instance-id: %s\nlocal-hostname: hub-%s\n' "$2" "$1" >"$s.d/meta-data"
	printf '#cloud-config\n{}\n' >"$s.d/user-data"
	rm -f "$s.img"
	mkfs.vfat -n CIDATA -C "$s.img" 1024 >/dev/null || die "mkfs.vfat failed for $s.img"
	mcopy -i "$s.img" "$s.d/meta-data" "$s.d/user-data" ::/ || die "mcopy into $s.img failed"
	echo "$s.img"
}

# boot_start NAME DISK SEED|- UUID|-: start QEMU on DISK in the background.
declare -A boot_pid boot_t0
boot_start() {
	local name=$1 disk=$2 seedimg=$3 uuid=$4 log=$work/$1.serial.log
	# shellcheck disable=SC2054 # commas belong to QEMU's option syntax
	local args=(-name "hubsecrets-e2e-$name" -machine "pc,accel=$accel" -m 1024 -smp 1
		-nodefaults -no-user-config -display none -no-reboot
		-serial "file:$log"
		-kernel "$QEMU_BASE_KERNEL" -initrd "$QEMU_BASE_INITRD"
		-append "$QEMU_BASE_APPEND hubsecrets.e2e.poweroff"
		-drive "file=$disk,if=virtio,format=raw"
		-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0)
	[ "$seedimg" = - ] || args+=(-drive "file=$seedimg,if=virtio,format=raw,readonly=on")
	[ "$uuid" = - ] || args+=(-uuid "$uuid")
	qemu-system-x86_64 "${args[@]}" </dev/null >"$work/$name.qemu.log" 2>&1 &
	boot_pid[$name]=$!
	qemu_pids+=("$!")
	boot_t0[$name]=$(date +%s)
	say "    $name: QEMU pid ${boot_pid[$name]} ($( [ "$seedimg" = - ] && echo 'no seed' || echo "seed ${seedimg##*/}"), $( [ "$uuid" = - ] && echo 'no SMBIOS UUID' || echo "UUID $uuid"))"
}
# boot_wait NAME: wait until it powers itself off, or the timeout.
boot_wait() {
	local name=$1 pid=${boot_pid[$1]} rc
	while kill -0 "$pid" 2>/dev/null; do
		if [ $(($(date +%s) - boot_t0[$name])) -ge "$boot_timeout" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			fail "$name: powered off within ${boot_timeout}s (killed)"
			tail -n 40 "$work/$name.serial.log" | sed 's/^/    serial: /'
			return 1
		fi
		sleep 2
	done
	set +e
	wait "$pid"
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		fail "$name: QEMU exited $rc"
		sed 's/^/    qemu: /' "$work/$name.qemu.log"
		tail -n 40 "$work/$name.serial.log" | sed 's/^/    serial: /'
		return 1
	fi
	pass "$name: booted and powered itself off in $(($(date +%s) - boot_t0[$name]))s"
}

declare -A nrec rec
# inspect NAME DISK: read the disk back, check the instance.
inspect() {
	local name=$1 disk=$2 root=$work/$1.root n r rc
	extract "$disk" "$root" || { fail "$name: debugfs could not read the disk"; return 0; }
	n=0
	[ -f "$root/var/lib/hub-standin/boots.log" ] && n=$(wc -l <"$root/var/lib/hub-standin/boots.log")
	nrec[$name]=$n
	r=$(tail -n 1 "$root/var/lib/hub-standin/boots.log" 2>/dev/null || true)
	rec[$name]=$r
	if [ -z "$r" ]; then
		fail "$name: the hub stand-in left no record (did jupyterhub.service start?)"
		tail -n 40 "$work/$name.serial.log" | sed 's/^/    serial: /'
		return 0
	fi
	local c t hs ss
	c=$(field "$r" cookie)
	t=$(field "$r" token)
	hs=$(field "$r" hub_start_us)
	ss=$(field "$r" secrets_active_us)
	check "$name: jupyterhub-secrets.service succeeded before the hub started (Result=$(field "$r" secrets_result))" \
		test "$(field "$r" secrets_result)" = success
	check "$name: the hub started after the secrets were in place (monotonic ${ss}us <= ${hs}us)" \
		ordered "$ss" "$hs"
	check "$name: at hub start the cookie secret was valid, 0600, root:root" test "${c%,*}" = "yes,600,root:root"
	check "$name: at hub start the proxy token was valid, 0600, root:root" test "${t%,*}" = "yes,600,root:root"
	set +e
	"$hubsecrets" check --root "$root" --profile instance >"$work/$name-check.txt" 2>&1
	rc=$?
	set -e
	check "$name: hubsecrets check --profile instance on the powered-off disk (exit $rc)" test "$rc" -eq 0
	[ "$rc" -eq 0 ] || sed 's/^/    /' "$work/$name-check.txt"
	# The secrets on disk are the ones the hub saw.
	local dc dt
	dc=$(sha256sum <"$root/srv/jupyterhub/jupyterhub_cookie_secret" 2>/dev/null | cut -d' ' -f1)
	dt=$(sha256sum <"$root/srv/jupyterhub/proxy_auth_token" 2>/dev/null | cut -d' ' -f1)
	check "$name: the secrets on disk are the ones the hub found" test "$dc,$dt" = "${c##*,},${t##*,}"
}
# ordered FIRST_US THEN_US: both monotonic times known and in that order.
ordered() { [ "${1:-0}" -gt 0 ] && [ "${2:-0}" -ge "$1" ]; }
hash_of() { field "${rec[$1]}" "$2" | sed 's/.*,//'; }
same() { [ -n "$(hash_of "$1" "$3")" ] && [ "$(hash_of "$1" "$3")" = "$(hash_of "$2" "$3")" ]; }
stamp_of() { cat "$work/$1.root/srv/jupyterhub/.hubsecrets-instance" 2>/dev/null; }

step "3. instances a and b (copies of the image, each with its own NoCloud instance-id)"
for n in a b c; do
	cp --sparse=always "$image" "$work/$n.raw"
done
seed_a=$(seed a iid-hubsecrets-a)
seed_b=$(seed b iid-hubsecrets-b)
uuid_a=$(cat /proc/sys/kernel/random/uuid)
uuid_b=$(cat /proc/sys/kernel/random/uuid)
boot_start a "$work/a.raw" "$seed_a" "$uuid_a"
if [ "$parallel" -ge 2 ]; then boot_start b "$work/b.raw" "$seed_b" "$uuid_b"; fi
ok_a=0 ok_b=0
boot_wait a && ok_a=1
if [ "$parallel" -lt 2 ]; then boot_start b "$work/b.raw" "$seed_b" "$uuid_b"; fi
boot_wait b && ok_b=1
phase_done "3a boot a, b"
[ "$ok_a" = 1 ] && inspect a "$work/a.raw"
[ "$ok_b" = 1 ] && inspect b "$work/b.raw"
if [ "$ok_a" = 1 ] && [ "$ok_b" = 1 ]; then
	check "a and b: cookie secrets differ" not same a b cookie
	check "a and b: proxy tokens differ" not same a b token
fi
for n in a b; do
	v=$(cat "$work/$n.root/var/lib/cloud/data/instance-id" 2>/dev/null || true)
	check "$n: cloud-init honoured its seed (instance-id on disk is iid-hubsecrets-$n)" test "$v" = "iid-hubsecrets-$n"
	check "$n: the boot offered a cloud-init instance-id and a DMI UUID" \
		test "$(field "${rec[$n]:-}" cloudinit_iid),$(field "${rec[$n]:-}" dmi_uuid)" = yes,yes
	check "$n: the secrets are recorded for that instance-id" test "$(stamp_of "$n")" = "$(sha_line "iid-hubsecrets-$n")"
done
phase_done "3b check a, b"

step "3. a rebooted (same disk, same seed); c (no seed, no SMBIOS UUID: machine-id)"
boot_start a2 "$work/a.raw" "$seed_a" "$uuid_a"
if [ "$parallel" -ge 2 ]; then boot_start c "$work/c.raw" - -; fi
ok_a2=0 ok_c=0
boot_wait a2 && ok_a2=1
if [ "$parallel" -lt 2 ]; then boot_start c "$work/c.raw" - -; fi
boot_wait c && ok_c=1
phase_done "3c boot a2, c"
[ "$ok_a2" = 1 ] && inspect a2 "$work/a.raw"
[ "$ok_c" = 1 ] && inspect c "$work/c.raw"
if [ "$ok_a2" = 1 ] && [ "$ok_a" = 1 ]; then
	check "a2: the reboot added one hub record ($((nrec[a])) -> $((nrec[a2])))" test "$((nrec[a2]))" -eq "$((nrec[a] + 1))"
	check "a2: a new boot (boot ids differ)" test "$(field "${rec[a]}" boot)" != "$(field "${rec[a2]}" boot)"
	check "a2: cookie secret unchanged by the reboot" same a a2 cookie
	check "a2: proxy token unchanged by the reboot" same a a2 token
fi
if [ "$ok_c" = 1 ]; then
	mid=$(cat "$work/c.root/etc/machine-id" 2>/dev/null || true)
	check "c: systemd gave it a machine-id" grep -qx '[0-9a-f]\{32\}' <<<"$mid"
	check "c: cloud-init did not run (no seed, so no instance-id)" test ! -e "$work/c.root/var/lib/cloud/data/instance-id"
	check "c: the boot offered neither a cloud-init instance-id nor a DMI UUID" \
		test "$(field "${rec[c]}" cloudinit_iid),$(field "${rec[c]}" dmi_uuid)" = no,no
	check "c: the secrets are recorded for its machine-id" test "$(stamp_of c)" = "$(sha_line "$mid")"
	for o in a b; do
		[ "$(eval echo "\$ok_$o")" = 1 ] || continue
		check "c and $o: cookie secrets differ" not same c "$o" cookie
		check "c and $o: proxy tokens differ" not same c "$o" token
	done
fi
phase_done "3d check a2, c"

# --- nothing left behind ---
step "cleanup"
for p in "${qemu_pids[@]}"; do
	check "QEMU $p is gone" gone "$p"
done
check "no QEMU of this run is running" test -z "$(our_qemus)"
check "nothing of this run is mounted" not grep -qF "$work" /proc/self/mountinfo
check "no loop device of this run" not grep -qF "$work" <<<"$(losetup -a 2>/dev/null)"

step "summary"
for p in "${phases[@]}"; do echo "  $p"; done
printf '  %-34s %5ss\n' total $(($(date +%s) - t_start))
npass=0
for r in "${results[@]}"; do case $r in PASS*) npass=$((npass + 1)) ;; esac; done
for r in "${results[@]}"; do case $r in FAIL*) echo "  $r" ;; esac; done
echo "e2e-vm: $npass passed, $failures failed"
[ "$failures" -eq 0 ] || exit 1
