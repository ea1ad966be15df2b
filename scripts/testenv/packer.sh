#!/bin/sh
# Build Packer from the Go module proxy into the repository's cache, once.
# Usage: scripts/testenv/packer.sh   (prints the binary's path on stdout)
# Env: PACKER_VERSION (default 1.15.0), HUBSECRETS_CACHE (default REPO/.cache).
set -eu
version=${PACKER_VERSION:-1.15.0}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
bin=$cache/bin/packer

if [ -x "$bin" ] && "$bin" version 2>/dev/null | head -n1 | grep -qx "Packer v$version"; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache/bin"
# The module cache is read-only and outside this repository: build there with
# the module's own go.mod, so nothing here constrains Packer's dependencies.
dir=$(cd "$repo" && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/packer@v$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "packer.sh: go mod download gave no Dir for packer v$version" >&2; exit 2; }
echo "packer.sh: building Packer v$version from $dir (a few minutes)" >&2
(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
