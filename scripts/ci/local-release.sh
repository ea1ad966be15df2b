#!/bin/sh
# Lay out a hubsecrets release as GitHub serves it, from a local binary:
#   DIR/vVERSION/hubsecrets_vVERSION_OS_ARCH.tar.gz
#   DIR/vVERSION/packer-plugin-jupyterhub_vVERSION_SHA256SUMS
# (names as .goreleaser.yaml makes them), so action-install.sh can install
# it with HUBSECRETS_BASE_URL=DIR: the self-check workflow and the tests
# use it; nothing is downloaded.
#
#   local-release.sh BINARY VERSION DIR [OS ARCH]   (default: this machine's)
set -eu
die() { echo "local-release.sh: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: local-release.sh BINARY VERSION DIR [OS ARCH]"
bin=$1 version=${2#v} dir=$3
os=${4:-$(uname -s | tr '[:upper:]' '[:lower:]')}
arch=${5:-$(uname -m)}
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
[ -x "$bin" ] || die "$bin: not an executable"
out=$dir/v$version
mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/local-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp "$bin" "$stage/hubsecrets"
echo "hubsecrets $version (local build)" >"$stage/README.md"
archive=hubsecrets_v${version}_${os}_${arch}.tar.gz
tar -C "$stage" -czf "$out/$archive" hubsecrets README.md
(cd "$out" && sha256sum "$archive" >>"packer-plugin-jupyterhub_v${version}_SHA256SUMS")
echo "$out/$archive"
