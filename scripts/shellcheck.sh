#!/usr/bin/env bash
# make lint, shell part: shellcheck (Debian's package) on every shell script
# in the repository, and on the first-boot script as hubsecrets renders it
# for the default parameters and for a non-default set (sh: images run it
# under dash or busybox).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
	echo "shellcheck: not installed (apt-get install shellcheck)" >&2
	exit 2
fi

# Tracked files that are shell scripts: *.sh, and files whose first line
# names sh or bash (.ci/run); templates are checked rendered, below.
scripts=()
while IFS= read -r f; do
	case $f in
	*.tmpl | internal/firstboot/testdata/*) continue ;;
	*.sh) scripts+=("$f") ;;
	*) [ -f "$f" ] && head -n1 "$f" | grep -Eq '^#!(/usr/bin/env )?(/bin/)?(ba)?sh( |$)' && scripts+=("$f") ;;
	esac
done < <(git ls-files)
shellcheck -x "${scripts[@]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/hubsecrets" ./cmd/hubsecrets
"$tmp/hubsecrets" firstboot script >"$tmp/default.sh"
printf '{"hubsecrets": {"params": {"allow_group_read": true, "secret_bytes": 64, "min_dh_bits": 3072}}}\n' >"$tmp/site.json"
"$tmp/hubsecrets" firstboot script --data "$tmp/site.json" --dir /data/hub-secrets --dir-mode 0700 \
	--hub-unit hub@main.service --owner nobody --group nogroup >"$tmp/site.sh"
shellcheck -s sh "$tmp/default.sh" "$tmp/site.sh"
echo "shellcheck: ${#scripts[@]} scripts and the rendered first-boot script (default and site parameters) are clean"
