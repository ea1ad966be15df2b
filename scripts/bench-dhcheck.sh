#!/usr/bin/env bash
# make bench-dhcheck: checking an openssl-generated 2048-bit dhparam.pem, as
# hubsecrets does it against what a person would run instead,
# `openssl dhparam -check -in FILE -noout`. N rounds (default 7), each
# running every command once on the same file, in alternating order:
#   facts      hubsecrets facts --root R (R/srv/jupyterhub/dhparam.pem is the
#              file): parse, Inspect (the primality tests), no policy
#   check      hubsecrets dhparam --check FILE: the same collection and
#              Inspect, plus compiling and evaluating the Rego policy
#   openssl    openssl dhparam -check -in FILE -noout
#   fixed      hubsecrets facts on the RFC 7919 ffdhe2048 file, which Inspect
#              recognises without testing: process start, collection, JSON
# Prints each round, the medians of wall time (bash's time) and of CPU time
# (user+sys, steadier on a loaded machine) and the ratios to openssl. It
# fails only if a command fails or a result is wrong (each output is checked,
# untimed); it never fails on timing.
#
# The openssl file is made once (`openssl dhparam 2048` takes seconds to a
# minute) and kept in ${HUBSECRETS_CACHE:-.cache}/bench-dhcheck/.
#
# Usage: scripts/bench-dhcheck.sh PATH-TO-hubsecrets [N]
set -euo pipefail
HUBSECRETS=${1:?usage: bench-dhcheck.sh PATH-TO-hubsecrets [N]}
HUBSECRETS=$(cd "$(dirname "$HUBSECRETS")" && pwd)/$(basename "$HUBSECRETS")
N=${2:-${N:-7}}
case $N in
'' | *[!0-9]* | 0)
	echo "usage: $0 PATH-TO-hubsecrets [N]   (N rounds, default 7)" >&2
	exit 2
	;;
esac
command -v openssl >/dev/null || {
	echo "$0: openssl not found" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HUBSECRETS_CACHE:-$root/.cache}/bench-dhcheck
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench-dhcheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# opensslOK FILE: openssl dhparam -check accepts FILE.
opensslOK() {
	local out
	out=$(openssl dhparam -check -noout -in "$1" 2>&1) && grep -q "appear to be ok" <<<"$out"
}

pem=$cache/dhparam-2048.pem
if [[ ! -s $pem ]] || ! opensslOK "$pem"; then
	mkdir -p "$cache"
	echo "generating $pem with openssl dhparam 2048 (once; seconds to a minute)..."
	openssl dhparam -out "$pem.tmp" 2048 2>/dev/null
	mv "$pem.tmp" "$pem"
fi

# Two roots: the openssl file, and the RFC 7919 group for the fixed cost.
mkdir -p "$tmp/r/srv/jupyterhub" "$tmp/g/srv/jupyterhub"
install -m 0600 "$pem" "$tmp/r/srv/jupyterhub/dhparam.pem"
"$HUBSECRETS" dhparam --group ffdhe2048 --quiet -o "$tmp/g/srv/jupyterhub/dhparam.pem"
file=$tmp/r/srv/jupyterhub/dhparam.pem

# factsOK OUT GROUP: the facts document's DH parameters are a safe prime
# with a valid generator, of RFC 7919 group GROUP ("" for none).
factsOK() {
	local dh
	dh=$(sed -n '/"dh": {/,/}/p' "$1")
	grep -q '"prime_probable": true' <<<"$dh" && grep -q '"safe_prime": true' <<<"$dh" &&
		grep -q '"generator_valid": true' <<<"$dh" || return 1
	[[ $(sed -n 's/.*"group": "\([^"]*\)".*/\1/p' <<<"$dh") == "$2" ]]
}

# timed NAME COMMAND...: runs COMMAND (its output to $tmp/NAME.out), appends
# wall and CPU seconds to $tmp/NAME.wall and $tmp/NAME.cpu, sets wall, cpu.
TIMEFORMAT='%R %U %S'
timed() {
	local name=$1 user sys
	shift
	if ! { time "$@" >"$tmp/$name.out" 2>&1; } 2>"$tmp/time"; then
		echo "FAIL: round $i: $name: $* failed:" >&2
		cat "$tmp/$name.out" >&2
		exit 1
	fi
	read -r wall user sys <"$tmp/time"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
	echo "$wall" >>"$tmp/$name.wall"
	echo "$cpu" >>"$tmp/$name.cpu"
}

declare -A W C
run() {
	case $1 in
	facts)
		timed facts "$HUBSECRETS" facts --root "$tmp/r"
		factsOK "$tmp/facts.out" "" || { echo "FAIL: round $i: facts does not report a safe prime:" >&2; cat "$tmp/facts.out" >&2; exit 1; }
		;;
	check)
		timed check "$HUBSECRETS" dhparam --check "$file"
		grep -q "2048-bit safe prime, generator 2: passes" "$tmp/check.out" || { echo "FAIL: round $i: dhparam --check:" >&2; cat "$tmp/check.out" >&2; exit 1; }
		;;
	openssl)
		timed openssl openssl dhparam -check -in "$file" -noout
		grep -q "appear to be ok" "$tmp/openssl.out" || { echo "FAIL: round $i: openssl:" >&2; cat "$tmp/openssl.out" >&2; exit 1; }
		;;
	fixed)
		timed fixed "$HUBSECRETS" facts --root "$tmp/g"
		factsOK "$tmp/fixed.out" ffdhe2048 || { echo "FAIL: round $i: facts does not name ffdhe2048:" >&2; cat "$tmp/fixed.out" >&2; exit 1; }
		;;
	esac
	W[$1]=$wall C[$1]=$cpu
}

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%6.0f", s * 1000 }'; }

printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')" \
	"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
printf '%s; %s\n' "$(openssl version)" "$("$HUBSECRETS" version 2>/dev/null | head -1)"
printf 'file: %s (openssl dhparam 2048, %s)\n' "$pem" "$(sha256sum "$pem" | cut -c1-12)"
i=0
for name in facts check openssl fixed; do run "$name"; done # warm the page cache
rm -f "$tmp"/*.wall "$tmp"/*.cpu
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then order="facts check openssl fixed"; else order="fixed openssl check facts"; fi
	for name in $order; do run "$name"; done
	printf 'round %d/%d (%-7s first): facts %s ms (CPU %s)  check %s ms (CPU %s)  openssl %s ms (CPU %s)  fixed %s ms (CPU %s)\n' \
		"$i" "$N" "${order%% *}" \
		"$(ms "${W[facts]}")" "$(ms "${C[facts]}")" "$(ms "${W[check]}")" "$(ms "${C[check]}")" \
		"$(ms "${W[openssl]}")" "$(ms "${C[openssl]}")" "$(ms "${W[fixed]}")" "$(ms "${C[fixed]}")"
done
for name in facts check openssl fixed; do
	W[$name]=$(median <"$tmp/$name.wall")
	C[$name]=$(median <"$tmp/$name.cpu")
done
printf 'N=%d rounds, alternating; medians, wall time (CPU = user+sys)\n' "$N"
printf '  hubsecrets facts --root R:               %s ms (CPU %s ms)\n' "$(ms "${W[facts]}")" "$(ms "${C[facts]}")"
printf '  hubsecrets dhparam --check FILE:         %s ms (CPU %s ms)\n' "$(ms "${W[check]}")" "$(ms "${C[check]}")"
printf '  openssl dhparam -check -in FILE -noout:  %s ms (CPU %s ms)\n' "$(ms "${W[openssl]}")" "$(ms "${C[openssl]}")"
printf '  fixed cost: facts on ffdhe2048 (no test) %s ms (CPU %s ms)\n' "$(ms "${W[fixed]}")" "$(ms "${C[fixed]}")"
awk -v f="${W[facts]}" -v c="${W[check]}" -v o="${W[openssl]}" -v fc="${C[facts]}" -v cc="${C[check]}" -v oc="${C[openssl]}" 'BEGIN {
	printf "  ratio facts/openssl: %.2f (CPU %.2f)   dhparam --check/openssl: %.2f (CPU %.2f)\n", f / o, fc / oc, c / o, cc / oc
}'
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
