#!/usr/bin/env bash
# make bench-dhparam: `hubsecrets dhparam --bits 2048` against
# `openssl dhparam 2048`, N rounds (default 7), each round running both (in
# alternating order), every output checked with `openssl dhparam -check`.
# Prints each round, both medians and their ratio.
#
# Usage: scripts/bench-dhparam.sh [N]
# A search's length is random (geometric in the number of candidates), so
# single rounds vary tenfold; the medians of 7 rounds still move by about
# half from one run to the next. The machine's other load counts too.
set -eu
N=${1:-7}
case $N in
'' | *[!0-9]* | 0)
	echo "usage: $0 [N]   (N rounds, default 7)" >&2
	exit 2
	;;
esac
command -v openssl >/dev/null || {
	echo "$0: openssl not found" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench-dh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "building hubsecrets..."
(cd "$root" && ${GO:-go} build -o "$tmp/hubsecrets" ./cmd/hubsecrets)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# check fails loudly unless openssl accepts the parameters.
check() {
	if ! out=$(openssl dhparam -check -noout -in "$1" 2>&1) || ! grep -q "appear to be ok" <<<"$out"; then
		echo "FAIL: round $i: $2's parameters do not pass openssl dhparam -check:" >&2
		echo "$out" >&2
		exit 1
	fi
}

run_hubsecrets() {
	rm -f "$tmp/a.pem"
	t0=$(now)
	"$tmp/hubsecrets" dhparam --bits 2048 --quiet -o "$tmp/a.pem"
	t1=$(now)
	check "$tmp/a.pem" hubsecrets
	elapsed "$t0" "$t1" >>"$tmp/hubsecrets.s"
	h=$(elapsed "$t0" "$t1")
}

run_openssl() {
	rm -f "$tmp/b.pem"
	t0=$(now)
	openssl dhparam -out "$tmp/b.pem" 2048 2>/dev/null
	t1=$(now)
	check "$tmp/b.pem" openssl
	elapsed "$t0" "$t1" >>"$tmp/openssl.s"
	o=$(elapsed "$t0" "$t1")
}

printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')" \
	"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
printf '%s; %s\n' "$(openssl version)" "$(${GO:-go} version)"
: >"$tmp/hubsecrets.s"
: >"$tmp/openssl.s"
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then
		run_hubsecrets
		run_openssl
	else
		run_openssl
		run_hubsecrets
	fi
	printf 'round %d/%d: hubsecrets %7.2f s   openssl %7.2f s   (both pass openssl dhparam -check)\n' "$i" "$N" "$h" "$o"
done
hm=$(median <"$tmp/hubsecrets.s")
om=$(median <"$tmp/openssl.s")
printf 'N=%d rounds, 2048-bit safe primes, generator 2\n' "$N"
printf '  hubsecrets dhparam --bits 2048: median %7.2f s\n' "$hm"
printf '  openssl dhparam 2048:           median %7.2f s\n' "$om"
awk -v h="$hm" -v o="$om" 'BEGIN { printf "  ratio hubsecrets/openssl: %.2f\n", h / o }'
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
