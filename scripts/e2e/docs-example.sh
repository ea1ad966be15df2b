#!/bin/sh
# scripts/e2e/docs-example.sh: the documented example is the one make e2e
# builds. docs/provisioners/secrets.mdx's "Example Usage" shows a hub that
# runs as its own user in one ```hcl block (the one setting
# owner = "jupyterhub"); examples/hub-user/build.pkr.hcl holds the same
# provisioner "jupyterhub-secrets" block inside its build block. This prints
# both blocks' differences and exits 1 unless they are the same text, line
# for line, once the file's block loses the indentation of its first line.
# Needs nothing but sh, awk and diff (no root); nspawn.sh runs it.
#
#   scripts/e2e/docs-example.sh [DOC [TEMPLATE]]
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
doc=${1:-$repo/docs/provisioners/secrets.mdx}
tpl=${2:-$repo/examples/hub-user/build.pkr.hcl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The docs: every ```hcl block that sets owner = "jupyterhub"; exactly one.
awk '
	/^```hcl[ \t]*$/ { inb = 1; buf = ""; next }
	inb && /^```[ \t]*$/ {
		inb = 0
		if (buf ~ /(^|\n)[ \t]*owner[ \t]*=[ \t]*"jupyterhub"/) { printf "%s", buf; n++ }
		next
	}
	inb { buf = buf $0 "\n" }
	END { exit n == 1 ? 0 : 1 }
' "$doc" >"$tmp/doc" || {
	echo "docs-example.sh: $doc: want exactly one \`\`\`hcl block with owner = \"jupyterhub\"" >&2
	exit 1
}

# The template: its one provisioner "jupyterhub-secrets" block, from that line
# to the closing brace at the same indentation; every line of it must carry
# that indentation (or be empty), which is then removed.
awk '
	!inb && /^[ \t]*provisioner "jupyterhub-secrets" \{[ \t]*$/ {
		match($0, /^[ \t]*/); ind = RLENGTH; pad = substr($0, 1, ind); inb = 1; n++
	}
	inb {
		if ($0 != "" && substr($0, 1, ind) != pad) bad = 1
		print substr($0, ind + 1)
		if ($0 == pad "}") inb = 0
	}
	END { exit (n == 1 && !inb && !bad) ? 0 : 1 }
' "$tpl" >"$tmp/tpl" || {
	echo "docs-example.sh: $tpl: want exactly one provisioner \"jupyterhub-secrets\" block, consistently indented" >&2
	exit 1
}

if diff -u --label "$doc (the hub-user example)" --label "$tpl (its jupyterhub-secrets block, unindented)" "$tmp/doc" "$tmp/tpl"; then
	echo "docs-example.sh: $tpl builds the documented example ($(wc -l <"$tmp/doc") lines, the same text)"
else
	echo "docs-example.sh: the documented example and $tpl differ (above): make them the same text" >&2
	exit 1
fi
