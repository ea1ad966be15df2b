#!/usr/bin/env bash
# make bench-dhparam: `hubsecrets dhparam --bits 2048` against
# `openssl dhparam 2048`, N rounds (default 7), each round running both (in
# alternating order), every output checked with `openssl dhparam -check`.
# Prints each round, both medians and their ratio: wall time (bash's time),
# and CPU time (user+sys), which shows the work done whatever else the
# machine runs (openssl is single-threaded, hubsecrets uses every core).
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

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# check fails loudly unless openssl accepts the parameters.
check() {
	if ! out=$(openssl dhparam -check -noout -in "$1" 2>&1) || ! grep -q "appear to be ok" <<<"$out"; then
		echo "FAIL: round $i: $2's parameters do not pass openssl dhparam -check:" >&2
		echo "$out" >&2
		exit 1
	fi
}

# timed NAME OUT COMMAND...: runs COMMAND (which writes OUT), checks OUT,
# appends the wall and CPU (user+sys) seconds to $tmp/NAME.wall and .cpu
# and sets wall and cpu.
timed() {
	local name=$1 out=$2
	shift 2
	rm -f "$out"
	if ! { time "$@" 2>"$tmp/stderr"; } 2>"$tmp/time"; then
		echo "FAIL: round $i: $name failed:" >&2
		cat "$tmp/stderr" >&2
		exit 1
	fi
	check "$out" "$name"
	read -r wall user sys <"$tmp/time"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	echo "$wall" >>"$tmp/$name.wall"
	echo "$cpu" >>"$tmp/$name.cpu"
}

TIMEFORMAT='%R %U %S'
run_hubsecrets() {
	timed hubsecrets "$tmp/a.pem" "$tmp/hubsecrets" dhparam --bits 2048 --quiet -o "$tmp/a.pem"
	hw=$wall hc=$cpu
}
run_openssl() {
	timed openssl "$tmp/b.pem" openssl dhparam -out "$tmp/b.pem" 2048
	ow=$wall oc=$cpu
}

printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" \
	"$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')" \
	"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
printf '%s; %s\n' "$(openssl version)" "$(${GO:-go} version)"
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then
		run_hubsecrets
		run_openssl
	else
		run_openssl
		run_hubsecrets
	fi
	printf 'round %d/%d: hubsecrets %7.2f s (CPU %6.2f s)   openssl %7.2f s (CPU %6.2f s)   both pass -check\n' "$i" "$N" "$hw" "$hc" "$ow" "$oc"
done
hm=$(median <"$tmp/hubsecrets.wall")
om=$(median <"$tmp/openssl.wall")
hcm=$(median <"$tmp/hubsecrets.cpu")
ocm=$(median <"$tmp/openssl.cpu")
printf 'N=%d rounds, 2048-bit safe primes, generator 2 (wall time; CPU = user+sys)\n' "$N"
printf '  hubsecrets dhparam --bits 2048: median %7.2f s (CPU %7.2f s)\n' "$hm" "$hcm"
printf '  openssl dhparam 2048:           median %7.2f s (CPU %7.2f s)\n' "$om" "$ocm"
awk -v h="$hm" -v o="$om" -v hc="$hcm" -v oc="$ocm" 'BEGIN { printf "  ratio hubsecrets/openssl: %.2f (CPU %.2f)\n", h / o, hc / oc }'
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
