#!/usr/bin/env bash
# scripts/e2e/release.sh (make e2e-release): the release assets work as a user
# meets them. It runs `make release-snapshot`, checks dist/ against its
# SHA256SUMS, installs the linux/amd64 plugin zip into a fresh plugin path
# with `packer plugins install --path`, runs `packer init` on examples/local
# in a network namespace with nothing but loopback (so it must find the
# installed version: any download fails), `packer build`s the example against
# the chrooted sshd of scripts/testenv/sshd-root.sh, and checks the built root
# with the snapshot's own CLI (`hubsecrets check --root --profile image`).
#
# E2E_RELEASE_SINGLE_TARGET=1 builds the snapshot for linux/amd64 only
# (.goreleaser.yaml with goos/goarch narrowed, on an amd64 Linux host): .ci/run
# sets it, as the eight platforms take about 20 minutes on two cores; the
# release workflow builds them all.
#
# Needs root (chroot, sshd, unshare -n), debootstrap once, python3, jq, ip
# (iproute2), and Packer from scripts/testenv/packer.sh. Env: HUBSECRETS_CACHE.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export HUBSECRETS_CACHE=${HUBSECRETS_CACHE:-$repo/.cache}
source=github.com/hubsecrets/jupyterhub

die() { echo "e2e-release: FAIL: $*" >&2; exit 1; }
start=$(date +%s)
phase_start=$start
phase() {
	now=$(date +%s)
	printf 'e2e-release: %s (%ds, %ds in all)\n' "$*" $((now - phase_start)) $((now - start))
	phase_start=$now
}

[ "$(id -u)" -eq 0 ] || die "needs root (the chrooted sshd, unshare -n): sudo make e2e-release"
for t in python3 jq ip unshare sha256sum debootstrap; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install python3 jq iproute2 util-linux coreutils debootstrap)"
done

work=$(mktemp -d)
sshd_state=
cleanup() {
	rc=$?
	if [ -n "$sshd_state" ]; then
		scripts/testenv/sshd-root.sh stop "$sshd_state" || rc=1
	fi
	if [ $rc -eq 0 ]; then rm -rf "$work"; else echo "e2e-release: logs kept in $work" >&2; fi
	exit $rc
}
trap cleanup EXIT

# 1. The snapshot, checked against its own checksums.
packer=$(scripts/testenv/packer.sh)
phase "Packer ready: $("$packer" version | head -n1)"
plugin_targets=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64 freebsd_amd64 freebsd_arm64)
cli_targets=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64)
flags=
if [ "${E2E_RELEASE_SINGLE_TARGET:-}" = 1 ]; then
	[ "$(uname -s -m)" = "Linux x86_64" ] || die "E2E_RELEASE_SINGLE_TARGET=1 needs an amd64 Linux host"
	# `goreleaser release` has no --single-target: the same config, one platform.
	mkdir -p bin/release
	sed -e 's/^\([[:space:]]*goos:\) \[.*\]$/\1 [linux]/' -e 's/^\([[:space:]]*goarch:\) \[.*\]$/\1 [amd64]/' \
		.goreleaser.yaml >bin/release/goreleaser-linux-amd64.yaml
	plugin_targets=(linux_amd64) cli_targets=(linux_amd64) flags="--config bin/release/goreleaser-linux-amd64.yaml"
fi
make --no-print-directory release-snapshot GORELEASER_FLAGS="$flags" >"$work/snapshot.log" 2>&1 ||
	{ tail -n 40 "$work/snapshot.log" >&2; die "make release-snapshot failed (log above)"; }
version=$(jq -r .version dist/metadata.json)
sums=packer-plugin-jupyterhub_v${version}_SHA256SUMS
[ -f "dist/$sums" ] || die "no dist/$sums"
(cd dist && sha256sum -c --strict "$sums") >"$work/sums.log" || { cat "$work/sums.log" >&2; die "dist/$sums does not match"; }
# Every asset is in the sums, and the sums name nothing else.
want=()
for p in "${plugin_targets[@]}"; do
	want+=("packer-plugin-jupyterhub_v${version}_x5.0_$p.zip")
done
for p in "${cli_targets[@]}"; do
	want+=("hubsecrets_v${version}_$p.tar.gz")
done
want+=("hubsecrets-policy_v$version.tar.gz")
api=$(bin/packer-plugin-jupyterhub describe | jq -r .api_version)
[ "$api" = x5.0 ] || die "the plugin speaks API $api: update the expected zip names here"
diff <(printf '%s\n' "${want[@]}" | sort) <(awk '{print $2}' "dist/$sums" | sort) ||
	die "dist/$sums does not list exactly the expected assets (diff above: < expected, > listed)"
phase "make release-snapshot: v$version, ${#want[@]} assets, sha256sum -c OK"

# 2. The policy bundle is an OPA bundle rooted at hubsecrets, revision vVERSION.
mkdir "$work/bundle"
tar -xzf "dist/hubsecrets-policy_v$version.tar.gz" -C "$work/bundle"
jq -e --arg rev "v$version" '.revision == $rev and .roots == ["hubsecrets"]' "$work/bundle/.manifest" >/dev/null ||
	die "policy bundle manifest: $(cat "$work/bundle/.manifest"), want revision v$version and roots [\"hubsecrets\"]"
if find "$work/bundle" -name '*_test.rego' | grep -q .; then die "the policy bundle holds test files"; fi

# 3. Install the zip as Packer users do: the binary alone, under the zip's name.
zip=dist/packer-plugin-jupyterhub_v${version}_${api}_linux_amd64.zip
bin=packer-plugin-jupyterhub_v${version}_${api}_linux_amd64
# python3's zipfile rather than unzip: .ci/run installs python3 already.
members=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$zip")
[ "$members" = "$bin" ] || die "$zip holds [$members], want only $bin"
python3 -m zipfile -e "$zip" "$work/unzipped"
chmod 0755 "$work/unzipped/$bin"
described=$("$work/unzipped/$bin" describe | jq -r '.version + " " + .api_version')
[ "$described" = "$version $api" ] || die "$bin describes itself as $described, want $version $api"
export CHECKPOINT_DISABLE=1 PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/config
"$packer" plugins install --path "$work/unzipped/$bin" "$source" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; die "packer plugins install --path failed"; }
[ -x "$PACKER_PLUGIN_PATH/$source/$bin" ] || die "no $PACKER_PLUGIN_PATH/$source/$bin after install"
phase "packer plugins install --path: $bin"

# 4. packer init offline: in a network namespace with only loopback, where
# any download fails. Without the installed plugin, the same init fails
# there: the namespace really cuts the network off.
cp -r examples/local "$work/example"
# offline SECONDS CMD...: run CMD in the example's copy, in the namespace.
offline() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare -n -- bash -c '
		ip link set lo up
		links=$(ip -o link show | wc -l)
		[ "$links" -eq 1 ] || { echo "offline: $links links in the namespace, want loopback only" >&2; exit 90; }
		cd "$1" && exec timeout "$2" "${@:3}"' offline "$work/example" "$@"
}
PACKER_PLUGIN_PATH=$work/empty offline 120 "$packer" init . >"$work/init-empty.log" 2>&1 &&
	{ cat "$work/init-empty.log" >&2; die "packer init with no plugin installed succeeded offline: the namespace is not offline"; }
grep -q 'offline: .* links' "$work/init-empty.log" && { cat "$work/init-empty.log" >&2; die "the namespace is not offline"; }
PACKER_LOG=1 offline 120 "$packer" init . >"$work/init.log" 2>&1 ||
	{ tail -n 30 "$work/init.log" >&2; die "packer init offline failed: it did not find the installed v$version"; }
offline 60 "$packer" plugins installed >"$work/installed.log" 2>&1 || { cat "$work/installed.log" >&2; die "packer plugins installed failed"; }
grep -qx "$PACKER_PLUGIN_PATH/$source/$bin" "$work/installed.log" ||
	{ cat "$work/installed.log" >&2; die "packer plugins installed does not list $bin"; }
[ "$(find "$PACKER_PLUGIN_PATH" -type f -name 'packer-plugin-*' ! -name '*SHA256SUM' | wc -l)" -eq 1 ] ||
	die "packer init added plugins: $(find "$PACKER_PLUGIN_PATH" -type f)"
phase "packer init offline (unshare -n): found the installed v$version; without it, init fails offline"

# 5. packer build against the chrooted sshd (on the host's loopback, so not
# in the namespace), then the snapshot's CLI checks the root as an image.
env_out=$(scripts/testenv/sshd-root.sh start "$work/sshd")
sshd_state=$work/sshd
root=$(sed -n 's/^HUBSECRETS_SSH_ROOT=//p' <<<"$env_out")
port=$(sed -n 's/^HUBSECRETS_SSH_PORT=//p' <<<"$env_out")
key=$(sed -n 's/^HUBSECRETS_SSH_KEY=//p' <<<"$env_out")
if [ -z "$root" ] || [ -z "$port" ] || [ -z "$key" ]; then
	die "sshd-root.sh start printed no environment: $env_out"
fi
phase "chrooted sshd on 127.0.0.1:$port"
(cd "$work/example" && timeout 1200 "$packer" build -color=false -var "ssh_port=$port" \
	-var "ssh_private_key_file=$key" -var "report_file=$work/report.json" .) >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log" >&2; die "packer build failed"; }
grep -q "Verified: no deny findings" "$work/build.log" || { tail -n 40 "$work/build.log" >&2; die "the build did not verify the image"; }
jq -e . "$work/report.json" >/dev/null || die "report_file $work/report.json is not JSON"
phase "packer build with the installed v$version against the chrooted sshd: verified"

mkdir "$work/cli"
tar -xzf "dist/hubsecrets_v${version}_linux_amd64.tar.gz" -C "$work/cli"
cli=$work/cli/hubsecrets
[ "$("$cli" version)" = "hubsecrets $version" ] || die "the CLI says $("$cli" version), want hubsecrets $version"
"$cli" check --root "$root" --profile image >"$work/check.log" 2>&1 ||
	{ cat "$work/check.log" >&2; die "hubsecrets check --root --profile image failed on the built root"; }
phase "hubsecrets $version check --root --profile image: clean"
echo "e2e-release: PASS"
