#!/usr/bin/env bash
# make bench-check: `hubsecrets check` end to end (process start to exit) on a
# correct tree, against what a person would run instead: stat(1) of the same
# files. Alternating runs, medians and their ratio.
set -euo pipefail
HUBSECRETS=${1:?usage: bench-check.sh PATH-TO-hubsecrets [N]}
HUBSECRETS=$(cd "$(dirname "$HUBSECRETS")" && pwd)/$(basename "$HUBSECRETS")
N=${2:-${N:-30}}
export HUBSECRETS
# shellcheck source=scripts/lib/sample-roots.sh
. "$(dirname "$0")/lib/sample-roots.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
correct_root "$tmp/root"
d=$tmp/root/srv/jupyterhub

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}'; }

: >"$tmp/check.ns"; : >"$tmp/stat.ns"
"$HUBSECRETS" check --root "$tmp/root" >/dev/null # warm the page cache
for ((i = 0; i < N; i++)); do
	t0=$(now); "$HUBSECRETS" check --root "$tmp/root" >/dev/null; t1=$(now)
	echo $((t1 - t0)) >>"$tmp/check.ns"
	t0=$(now); stat "$d" "$d/jupyterhub_cookie_secret" "$d/proxy_auth_token" "$d/dhparam.pem" >/dev/null; t1=$(now)
	echo $((t1 - t0)) >>"$tmp/stat.ns"
done
c=$(median <"$tmp/check.ns"); s=$(median <"$tmp/stat.ns")
printf 'machine: %s cores, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
printf 'N=%d alternating runs on a correct tree\n' "$N"
printf '  hubsecrets check (collect, evaluate %s, report): median %s ms\n' "Rego" "$c"
printf '  stat of the same 4 paths:                          median %s ms\n' "$s"
awk -v c="$c" -v s="$s" 'BEGIN {printf "  ratio check/stat: %.1fx\n", c/s}'
