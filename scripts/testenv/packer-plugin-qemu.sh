#!/bin/sh
# Build Packer's qemu builder plugin from the Go module proxy into the
# repository's cache, once, and optionally install it into a Packer plugin
# directory (packer init would fetch it from GitHub, which is out of reach).
#
# Usage: scripts/testenv/packer-plugin-qemu.sh            prints the binary's path
#        scripts/testenv/packer-plugin-qemu.sh install    also installs it into
#                                                         $PACKER_PLUGIN_PATH
# Env: PACKER_PLUGIN_QEMU_VERSION (default 1.0.9: later versions are refused
# by the proxy here), HUBSECRETS_CACHE (default REPO/.cache), PACKER (the
# packer binary for install; default scripts/testenv/packer.sh's).
set -eu
version=${PACKER_PLUGIN_QEMU_VERSION:-1.0.9}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
bin=$cache/bin/packer-plugin-qemu_v$version

die() { echo "packer-plugin-qemu.sh: $*" >&2; exit 2; }

if ! [ -x "$bin" ] || ! "$bin" describe 2>/dev/null | grep -q "\"version\":\"$version\""; then
	mkdir -p "$cache/bin"
	# The module cache is read-only and outside this repository: build there
	# with the plugin's own go.mod, as scripts/testenv/packer.sh does.
	dir=$(cd "$repo" && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/packer-plugin-qemu@v$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || die "go mod download gave no Dir for packer-plugin-qemu v$version"
	echo "packer-plugin-qemu.sh: building packer-plugin-qemu v$version from $dir (a few minutes)" >&2
	(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" .) ||
		die "go build of packer-plugin-qemu v$version failed (output above)"
	mv "$bin.tmp" "$bin"
fi

case ${1:-} in
'') ;;
install)
	[ -n "${PACKER_PLUGIN_PATH:-}" ] || die "install: set PACKER_PLUGIN_PATH to the plugin directory to install into"
	packer=${PACKER:-$("$repo/scripts/testenv/packer.sh")}
	CHECKPOINT_DISABLE=1 "$packer" plugins install --path "$bin" github.com/hashicorp/qemu >&2 ||
		die "packer plugins install --path $bin github.com/hashicorp/qemu failed (output above)"
	;;
*) die "usage: packer-plugin-qemu.sh [install]" ;;
esac
echo "$bin"
