#!/bin/sh
# Build goreleaser from the Go module proxy into the repository's cache, once.
# Usage: scripts/testenv/goreleaser.sh   (prints the binary's path on stdout)
# Env: GORELEASER_VERSION (default 2.15.1), HUBSECRETS_CACHE (default REPO/.cache).
set -eu
version=${GORELEASER_VERSION:-2.15.1}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${HUBSECRETS_CACHE:-$repo/.cache}
bin=$cache/bin/goreleaser-$version

if [ ! -x "$bin" ]; then
	mkdir -p "$cache/bin"
	# The module cache is read-only and outside this repository: build there
	# with the module's own go.mod, so nothing here constrains goreleaser's
	# dependencies.
	dir=$(cd "$repo" && GOFLAGS=-mod=mod go mod download -json "github.com/goreleaser/goreleaser/v2@v$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { echo "goreleaser.sh: go mod download gave no Dir for goreleaser v$version" >&2; exit 2; }
	echo "goreleaser.sh: building goreleaser v$version from $dir (a few minutes)" >&2
	# The version is stamped as the release's own build would, so
	# `goreleaser --version` names it.
	(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X main.version=$version -X main.builtBy=hubsecrets" -o "$bin.tmp.$$" .)
	mv "$bin.tmp.$$" "$bin"
fi
# A stable name for PATH users.
ln -sf "$(basename "$bin")" "$cache/bin/goreleaser"
echo "$cache/bin/goreleaser"
