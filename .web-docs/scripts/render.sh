#!/bin/sh
# Renders docs/ into .web-docs/ in the layout Packer's integrations expect:
#   docs/README.md                -> .web-docs/README.md
#   docs/provisioners/secrets.mdx -> .web-docs/components/provisioner/secrets/README.md
# packer-sdc renderdocs expands the @include partials from docs-partials/
# (written by `go generate ./provisioner`); front matter and the page title
# are dropped, as the scaffolding's compile-to-webdocs does. Only the plugin's
# pages are rendered, not the project's other docs.
#
# Usage: .web-docs/scripts/render.sh [PACKER_SDC]   (default: packer-sdc on PATH)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
sdc=${1:-packer-sdc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/src/provisioners"
cp "$repo/docs/README.md" "$tmp/src/"
cp "$repo/docs/provisioners/secrets.mdx" "$tmp/src/provisioners/"
(cd "$repo" && "$sdc" renderdocs -src "$tmp/src" -partials docs-partials -dst "$tmp/dst") 2>"$tmp/log" ||
	{ cat "$tmp/log" >&2; exit 1; }

out=$repo/.web-docs
rm -rf "$out/components"
mkdir -p "$out/components/provisioner/secrets"
cp "$tmp/dst/README.md" "$out/README.md"
# Drop the leading front matter block, the first H1 and leading blank lines.
awk 'NR == 1 && /^---$/ { fm = 1; next }
	fm && /^---$/ { fm = 0; next }
	fm { next }
	!h1 && /^# / { h1 = 1; next }
	!out && /^$/ { next }
	{ out = 1; print }' "$tmp/dst/provisioners/secrets.mdx" >"$out/components/provisioner/secrets/README.md"
