#!/usr/bin/env bash
# make bench-scan: `hubsecrets check --tar` on a ~1 GiB rootfs-like archive
# (many files of realistic sizes, symlinks, hard links, a correct secrets
# directory among them), against `tar -tvf` listing the same file: wall time
# (median of N), throughput and peak RSS.
#
# The archive is generated once (python3's tarfile, no downloads) and cached
# under ${XDG_CACHE_HOME:-~/.cache}/hubsecrets; SIZE_MIB changes its size.
set -euo pipefail
HUBSECRETS=${1:?usage: bench-scan.sh PATH-TO-hubsecrets [N]}
N=${2:-${N:-3}}
SIZE_MIB=${SIZE_MIB:-1024}
export HUBSECRETS
# shellcheck source=scripts/lib/sample-roots.sh
. "$(dirname "$0")/lib/sample-roots.sh"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/hubsecrets
archive=$cache/bench-rootfs-v1-${SIZE_MIB}M.tar
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-bench-scan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -s "$archive" ]; then
	command -v python3 >/dev/null || { echo "bench-scan: python3 is needed to generate the archive" >&2; exit 2; }
	mkdir -p "$cache"
	correct_root "$tmp/root"
	echo "generating $archive (${SIZE_MIB} MiB, once)..." >&2
	python3 - "$tmp/root" "$archive.part" "$SIZE_MIB" <<'PY'
import io, os, random, sys, tarfile
root, out, size_mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(7)
pool = os.urandom(8 << 20)  # file contents are slices of this
total, budget = 0, size_mib << 20

def file_size():
    # as in a real image: mostly small files (log-uniform, 64 B to 256 KiB),
    # now and then a large one (8 to 64 MiB)
    if rng.random() < 0.0005:
        return int(2 ** rng.uniform(23, 26))
    return int(2 ** rng.uniform(6, 18))

def add_file(tf, name, size, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = size, mode, 1700000000
    off = rng.randrange(0, len(pool) - min(size, len(pool)) + 1)
    data = pool[off:off + size] if size <= len(pool) else (pool * (size // len(pool) + 1))[:size]
    tf.addfile(ti, io.BytesIO(data))

with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tf:
    tf.add(os.path.join(root, "etc"), "./etc")
    n = 0
    while total < budget // 2 or n < 1000:
        d = "./usr/lib/pkg%04d" % (n // 40)
        if n % 40 == 0:
            ti = tarfile.TarInfo(d); ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            tf.addfile(ti)
        size = file_size()
        add_file(tf, "%s/file%06d" % (d, n), size)
        if n % 50 == 1:
            ti = tarfile.TarInfo("%s/link%06d" % (d, n)); ti.type, ti.linkname = tarfile.SYMTYPE, "file%06d" % (n - 1)
            tf.addfile(ti)
        if n % 97 == 2:
            ti = tarfile.TarInfo("%s/hard%06d" % (d, n)); ti.type, ti.linkname = tarfile.LNKTYPE, "%s/file%06d" % (d, n)
            tf.addfile(ti)
        total += size
        n += 1
    tf.add(os.path.join(root, "srv"), "./srv")  # the secrets, mid-archive
    while total < budget:
        size = file_size()
        add_file(tf, "./var/lib/data/f%07d" % n, size)
        total += size
        n += 1
    print("%d files" % n, file=sys.stderr)
PY
	mv "$archive.part" "$archive"
fi

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m/1e9}'; }
bytes=$(stat -c %s "$archive")
members=$(tar -tf "$archive" | wc -l)

# The check must pass (exit 0) on this correct archive, or the numbers mean nothing.
if ! "$HUBSECRETS" check --tar "$archive" >"$tmp/report" 2>&1; then
	echo "bench-scan: hubsecrets check --tar failed on the bench archive:" >&2
	cat "$tmp/report" >&2
	exit 2
fi

# The fixed cost (process start, policy compilation) on a one-directory
# archive, to tell it from the scan's.
correct_root "$tmp/tiny"
tiny=$tmp/tiny.tar
tar -C "$tmp/tiny" -cf "$tiny" .

declare -A cmds=(
	[check]="\"\$HUBSECRETS\" check --tar \"\$archive\""
	[check-tiny]="\"\$HUBSECRETS\" check --tar \"\$tiny\""
	[check-stdin]="cat \"\$archive\" | \"\$HUBSECRETS\" check --tar -"
	[tar-tvf]="tar -tvf \"\$archive\""
)
order=(check check-stdin tar-tvf check-tiny)
cat "$archive" >/dev/null # warm the page cache
for ((i = 0; i < N; i++)); do
	for c in "${order[@]}"; do
		t0=$(now); eval "${cmds[$c]}" >/dev/null; t1=$(now)
		echo $((t1 - t0)) >>"$tmp/$c.ns"
	done
done

rss() { # peak RSS in MiB of one run of a simple command
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
		awk '{printf "%.1f MiB", $1/1024}' "$tmp/rss"
	else
		echo "n/a (apt-get install time)"
	fi
}

printf 'machine: %s cores, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
printf 'archive: %s, %d MiB, %d members; median of %d runs, page cache warm\n' "$archive" $((bytes >> 20)) "$members" "$N"
for c in "${order[@]}"; do
	s=$(median <"$tmp/$c.ns")
	label=${cmds[$c]//\"/}
	label=${label//\$HUBSECRETS/hubsecrets}
	label=${label//\$archive/FILE}
	label=${label//\$tiny/TINY}
	if [ "$c" = check-tiny ]; then
		printf '  %-38s %7.3f s   (fixed cost: start, policy)\n' "$label" "$s"
	else
		awk -v c="$label" -v s="$s" -v b="$bytes" 'BEGIN {printf "  %-38s %7.3f s  %5.0f MiB/s\n", c, s, b / 1048576 / s}'
	fi
done
c=$(median <"$tmp/check.ns"); t=$(median <"$tmp/tar-tvf.ns")
awk -v c="$c" -v t="$t" 'BEGIN {printf "  ratio check/tar-tvf: %.2fx\n", c/t}'
printf '  peak RSS: hubsecrets check --tar FILE %s (TINY %s); tar -tvf FILE %s\n' \
	"$(rss "$HUBSECRETS" check --tar "$archive")" "$(rss "$HUBSECRETS" check --tar "$tiny")" "$(rss tar -tvf "$archive")"
