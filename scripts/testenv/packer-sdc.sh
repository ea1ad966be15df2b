#!/bin/sh
# Build packer-sdc (code and docs generation, plugin-check) at the SDK version
# go.mod requires, into the repository's cache, once. Built inside the SDK's
# own module, so this repository's go.mod and go.sum stay untouched.
# Usage: scripts/testenv/packer-sdc.sh   (prints the binary's path on stdout)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
version=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/hashicorp/packer-plugin-sdk)
bin=$cache/bin/packer-sdc-$version

if [ ! -x "$bin" ]; then
	mkdir -p "$cache/bin"
	dir=$(cd "$repo" && go list -m -f '{{.Dir}}' github.com/hashicorp/packer-plugin-sdk)
	[ -n "$dir" ] || { echo "packer-sdc.sh: packer-plugin-sdk $version is not in the module cache (go mod download)" >&2; exit 2; }
	echo "packer-sdc.sh: building packer-sdc $version" >&2
	(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp" ./cmd/packer-sdc)
	mv "$bin.tmp" "$bin"
fi
# A stable name for PATH users (go generate runs plain `packer-sdc`).
ln -sf "$(basename "$bin")" "$cache/bin/packer-sdc"
echo "$cache/bin/packer-sdc"
