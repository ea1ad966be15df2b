#!/bin/sh
# A small bootable Debian bookworm disk for the qemu end-to-end test
# (scripts/e2e/vm.sh): the "base image" a user's Packer build would start from.
#
#   qemu-base.sh build   debootstrap it once into the cache (~6 min), then print
#                        KEY='VALUE' lines for sh's . (also in $cache/qemu-base/env):
#                          QEMU_BASE_DISK    raw ext4 disk, no partition table
#                          QEMU_BASE_KERNEL  vmlinuz for qemu -kernel
#                          QEMU_BASE_INITRD  initrd.img for qemu -initrd
#                          QEMU_BASE_APPEND  the kernel command line it needs
#                          QEMU_BASE_KEY     root's SSH private key
#   qemu-base.sh env     print them without building (fails if not built)
#   qemu-base.sh clean   remove the cached disk, kernel, initrd and key
#
# The disk is one ext4 file system made with mkfs.ext4 -d (no loop device, no
# bootloader: qemu boots the kernel and initrd beside it). It holds
# systemd, linux-image-cloud-amd64, cloud-init (NoCloud only, network config
# left to systemd-networkd), openssh-server with root's key, and two test-only
# units:
#   jupyterhub.service       a stand-in for the hub: at start it records in
#                            /var/lib/hub-standin/boots.log whether both secrets
#                            existed and looked valid, their modes, owners and
#                            SHA-256 hashes (never the secrets), and the
#                            monotonic start times of itself and of
#                            jupyterhub-secrets.service
#   hubsecrets-e2e-poweroff.service
#                            powers the machine off once multi-user.target is
#                            reached, only when the kernel command line has
#                            hubsecrets.e2e.poweroff (so a Packer build is not
#                            cut short)
# Needs root, debootstrap and e2fsprogs. Env: HUBSECRETS_CACHE (default
# REPO/.cache), DEBIAN_MIRROR (default: the mirror apt uses).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/testenv/lib.sh
. "$repo/scripts/testenv/lib.sh"
cache=${HUBSECRETS_CACHE:-$repo/.cache}
suite=bookworm
out=$cache/qemu-base
# Bump when the contents below change, so a stale cached disk is rebuilt.
recipe=5
size=2G
label=hubsecrets-root
append="root=LABEL=$label rw console=ttyS0 panic=-1 systemd.show_status=1"

die() { echo "qemu-base.sh: $*" >&2; exit 1; }
say() { echo "qemu-base.sh: $*" >&2; }

env_lines() {
	cat <<-EOF
		QEMU_BASE_DISK='$out/base.raw'
		QEMU_BASE_KERNEL='$out/vmlinuz'
		QEMU_BASE_INITRD='$out/initrd.img'
		QEMU_BASE_APPEND='$append'
		QEMU_BASE_KEY='$out/id_ed25519'
	EOF
}

built() {
	[ -f "$out/recipe" ] && [ "$(cat "$out/recipe")" = "$recipe" ] &&
		[ -f "$out/base.raw" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/id_ed25519" ]
}

# configure ROOT: everything the disk holds beyond the packages.
configure() {
	r=$1
	echo "LABEL=$label / ext4 defaults,errors=remount-ro 0 1" >"$r/etc/fstab"
	echo hubsecrets-base >"$r/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 hubsecrets-base\n' >"$r/etc/hosts"
	# Empty, as Debian's cloud images ship it: systemd makes one at first boot.
	: >"$r/etc/machine-id"
	rm -f "$r/var/lib/dbus/machine-id"

	# Root logs in with the cached key only; no password anywhere.
	mkdir -p "$r/root/.ssh"
	cp "$out/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
	chmod 0700 "$r/root/.ssh"
	chmod 0600 "$r/root/.ssh/authorized_keys"
	cat >"$r/etc/ssh/sshd_config.d/hubsecrets-e2e.conf" <<-'EOF'
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UseDNS no
	EOF
	# Host keys are per machine: cloud-init makes them per instance; without
	# cloud-init (no seed) this makes any that are missing, before the unit's
	# own config test (sshd -t), which fails without them.
	rm -f "$r"/etc/ssh/ssh_host_*
	mkdir -p "$r/etc/systemd/system/ssh.service.d"
	cat >"$r/etc/systemd/system/ssh.service.d/hostkeys.conf" <<-'EOF'
		[Service]
		ExecStartPre=
		ExecStartPre=/usr/bin/ssh-keygen -A
		ExecStartPre=/usr/sbin/sshd -t
	EOF

	# qemu's user network answers DHCP itself; nothing leaves the host.
	cat >"$r/etc/systemd/network/80-hubsecrets-e2e.network" <<-'EOF'
		[Match]
		Name=en* eth*

		[Network]
		DHCP=ipv4
	EOF
	chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
	# Nothing here waits for the network to be "online".
	chroot "$r" systemctl disable systemd-networkd-wait-online.service >/dev/null 2>&1 || true

	# cloud-init: local datasources only (NoCloud: a vfat or iso9660 file
	# system labelled cidata). Two of them on purpose: ds-identify enables a
	# single listed datasource without looking for it, and cloud-init then
	# falls back to DataSourceNone, whose instance-id (iid-datasource-none) is
	# the same on every machine. With two, a machine with neither seed runs
	# no cloud-init at all, as on a real multi-datasource image.
	cat >"$r/etc/cloud/cloud.cfg.d/90-hubsecrets-e2e.cfg" <<-'EOF'
		datasource_list: [NoCloud, ConfigDrive]
		network: {config: disabled}
	EOF

	mkdir -p "$r/usr/local/sbin"
	cat >"$r/usr/local/sbin/hub-standin" <<-'EOF'
		#!/bin/sh
		# Test stand-in for JupyterHub (hubsecrets make e2e-vm): records what a
		# hub starting now would find in /srv/jupyterhub. Hashes only, never a
		# secret. One line per boot in /var/lib/hub-standin/boots.log.
		set -u
		d=/srv/jupyterhub
		log=/var/lib/hub-standin/boots.log
		mkdir -p /var/lib/hub-standin
		fact() {
			f=$d/$1
			if [ -f "$f" ] && [ ! -L "$f" ]; then
				valid=no
				[ "$(wc -c <"$f")" = 65 ] && grep -qx '[0-9a-f]\{64\}' "$f" && valid=yes
				h=$(sha256sum <"$f")
				printf ' %s=%s,%s,%s,%s' "$2" "$valid" "$(stat -c %a "$f")" "$(stat -c %U:%G "$f")" "${h%% *}"
			else
				printf ' %s=missing,-,-,-' "$2"
			fi
		}
		mono() { systemctl show -P "$2" "$1"; }
		{
			printf 'boot=%s' "$(cat /proc/sys/kernel/random/boot_id)"
			printf ' hub_start_us=%s' "$(mono jupyterhub.service ExecMainStartTimestampMonotonic)"
			printf ' secrets_active_us=%s' "$(mono jupyterhub-secrets.service ActiveEnterTimestampMonotonic)"
			printf ' secrets_result=%s' "$(mono jupyterhub-secrets.service Result)"
			# Which instance identities this boot offered the first-boot script.
			yn() { if [ -s "$1" ]; then printf yes; else printf no; fi; }
			printf ' cloudinit_iid=%s dmi_uuid=%s' "$(yn /run/cloud-init/.instance-id)" "$(yn /sys/class/dmi/id/product_uuid)"
			fact jupyterhub_cookie_secret cookie
			fact proxy_auth_token token
			printf '\n'
		} >>"$log"
		sync "$log"
	EOF
	chmod 0755 "$r/usr/local/sbin/hub-standin"
	cat >"$r/etc/systemd/system/jupyterhub.service" <<-'EOF'
		# Test stand-in for JupyterHub: see /usr/local/sbin/hub-standin.
		[Unit]
		Description=JupyterHub (hubsecrets e2e stand-in)

		[Service]
		Type=oneshot
		RemainAfterExit=yes
		ExecStart=/usr/local/sbin/hub-standin

		[Install]
		WantedBy=multi-user.target
	EOF
	cat >"$r/etc/systemd/system/hubsecrets-e2e-poweroff.service" <<-'EOF'
		# Test only: power off once the boot is done, so the disk can be read.
		[Unit]
		Description=hubsecrets e2e: power off after the boot
		ConditionKernelCommandLine=hubsecrets.e2e.poweroff
		After=multi-user.target jupyterhub.service jupyterhub-secrets.service cloud-final.service

		[Service]
		Type=oneshot
		ExecStart=/bin/sh -c 'journalctl -b -o short-monotonic -u jupyterhub-secrets.service -u jupyterhub.service >/dev/console 2>&1; systemctl is-active jupyterhub-secrets.service jupyterhub.service >/dev/console 2>&1; sync; systemctl --no-block poweroff'

		[Install]
		WantedBy=multi-user.target
	EOF
	chroot "$r" systemctl enable jupyterhub.service hubsecrets-e2e-poweroff.service >/dev/null 2>&1

	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r/var/log/journal"
}

build() {
	if built; then env_lines; return 0; fi
	[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
	command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
	command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is missing: apt-get install -y e2fsprogs"
	mkdir -p "$out"
	work=$(mktemp -d "$out/build.XXXXXX")
	# debootstrap mounts /proc and /sys in the target while it runs; make
	# sure nothing stays mounted if it is interrupted.
	trap 'umount_under "$work/root"; rm -rf "$work"' EXIT
	trap 'exit 130' INT TERM
	rm -f "$out/id_ed25519" "$out/id_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -C hubsecrets-e2e-vm -f "$out/id_ed25519"

	mirror_url=$(mirror) || exit 2
	say "debootstrap $suite (minbase, systemd, linux-image-cloud-amd64, cloud-init, openssh-server) from $mirror_url"
	debootstrap --variant=minbase --include=systemd-sysv "$suite" "$work/root" "$mirror_url" >"$work/log" 2>&1 ||
		{ tail -n 20 "$work/log" >&2; die "debootstrap failed (log above)"; }
	# The rest through apt inside the root: debootstrap's own resolver does not
	# follow virtual packages (cloud-init's python3-cryptography needs one).
	# policy-rc.d keeps services from starting in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$work/root/usr/sbin/policy-rc.d"
	chmod 0755 "$work/root/usr/sbin/policy-rc.d"
	mount -t proc proc "$work/root/proc"
	chroot "$work/root" env DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get update && apt-get install -y --no-install-recommends udev dbus linux-image-cloud-amd64 initramfs-tools cloud-init openssh-server netbase iproute2' \
		>>"$work/log" 2>&1 || { tail -n 20 "$work/log" >&2; die "apt-get install in the new root failed (log above)"; }
	rm -f "$work/root/usr/sbin/policy-rc.d"
	umount_under "$work/root"
	configure "$work/root"

	# The kernel and initrd go beside the disk: qemu boots them directly.
	k=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | head -n1)
	i=$(find "$work/root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | head -n1)
	if [ -z "$k" ] || [ -z "$i" ]; then
		die "no kernel or initrd in $work/root/boot (did linux-image-cloud-amd64 install?)"
	fi
	cp "$k" "$work/vmlinuz"
	cp "$i" "$work/initrd.img"

	rm -f "$work/base.raw"
	truncate -s "$size" "$work/base.raw"
	mkfs.ext4 -q -L "$label" -d "$work/root" "$work/base.raw" ||
		die "mkfs.ext4 -d failed (e2fsprogs >= 1.43 is needed for -d)"
	mv "$work/base.raw" "$work/vmlinuz" "$work/initrd.img" "$out/"
	echo "$recipe" >"$out/recipe"
	umount_under "$work/root"
	rm -rf "$work"
	trap - EXIT INT TERM
	say "cached $out/base.raw ($(du -h "$out/base.raw" | cut -f1) used of $size)"
	env_lines >"$out/env"
	env_lines
}

case ${1:-} in
build) build ;;
env) built || die "not built: run qemu-base.sh build"; env_lines ;;
clean) rm -rf "$out" ;;
*) die "usage: qemu-base.sh build | env | clean" ;;
esac
