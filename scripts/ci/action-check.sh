#!/bin/sh
# Run hubsecrets check for action.yml on one source: a directory (path), a
# root filesystem archive (tar), a local container image (image: its root
# filesystem is exported) or an image archive made by docker save
# (image-archive: loaded, then exported).
#
# Environment (the action's inputs): HUBSECRETS_BIN, INPUT_PATH, INPUT_TAR,
# INPUT_IMAGE, INPUT_IMAGE_ARCHIVE (exactly one), INPUT_PROFILE,
# INPUT_POLICY (directories, one a line), INPUT_DATA (files, one a line),
# INPUT_WAIVERS, INPUT_FORMAT, INPUT_OUTPUT, INPUT_STRICT (true|false).
#
# The check's exit status (0 pass, 1 deny, 2 not checked) is written as
# the step output exit-code and this script exits 0, so the report can be
# uploaded before the action fails; a bad input exits 2 at once.
set -eu

die() { echo "::error title=hubsecrets::$*" >&2; exit 2; }

bin=${HUBSECRETS_BIN:-hubsecrets}
n=0
for v in "${INPUT_PATH:-}" "${INPUT_TAR:-}" "${INPUT_IMAGE:-}" "${INPUT_IMAGE_ARCHIVE:-}"; do
	[ -z "$v" ] || n=$((n + 1))
done
[ "$n" -eq 1 ] || die "give exactly one of the inputs path, tar, image and image-archive (got $n)"
format=${INPUT_FORMAT:-sarif}
case $format in
text | json | sarif | junit) ;;
*) die "format \"$format\": want sarif, junit, json or text" ;;
esac
case $format in
junit) ext=xml ;;
text) ext=txt ;;
*) ext=$format ;;
esac
output=${INPUT_OUTPUT:-hubsecrets.$ext}

set -- check --profile "${INPUT_PROFILE:-image}" --format "$format" --output "$output"
if [ "${INPUT_STRICT:-false}" = true ]; then
	set -- "$@" --strict
fi
# One directory or file a line; blank lines are skipped.
while IFS= read -r p; do
	[ -z "$p" ] || set -- "$@" --policy "$p"
done <<EOF_POLICY
${INPUT_POLICY:-}
EOF_POLICY
while IFS= read -r d; do
	[ -z "$d" ] || set -- "$@" --data "$d"
done <<EOF_DATA
${INPUT_DATA:-}
EOF_DATA
if [ -n "${INPUT_WAIVERS:-}" ]; then
	set -- "$@" --waivers "$INPUT_WAIVERS"
fi

tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
container=
trap '[ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1; rm -f "$tmp/hubsecrets-rootfs.tar"' EXIT

image=${INPUT_IMAGE:-}
if [ -n "${INPUT_IMAGE_ARCHIVE:-}" ]; then
	[ -f "$INPUT_IMAGE_ARCHIVE" ] || die "image-archive $INPUT_IMAGE_ARCHIVE: no such file"
	loaded=$(docker load -i "$INPUT_IMAGE_ARCHIVE") || die "docker load -i $INPUT_IMAGE_ARCHIVE failed: is it a docker save or OCI image archive?"
	# "Loaded image: NAME:TAG" or "Loaded image ID: sha256:..."; the last one
	# when the archive holds several.
	image=$(printf '%s\n' "$loaded" | sed -n 's/^Loaded image\( ID\)\{0,1\}: //p' | tail -n 1)
	[ -n "$image" ] || die "docker load -i $INPUT_IMAGE_ARCHIVE named no image"
fi
if [ -n "$image" ]; then
	# The image's root filesystem as the container would see it, all layers
	# applied: the --tar source reads it like any root archive.
	container=$(docker create "$image" /nonexistent) || die "docker create $image failed"
	docker export -o "$tmp/hubsecrets-rootfs.tar" "$container" || die "docker export of $image failed"
	set -- "$@" --tar "$tmp/hubsecrets-rootfs.tar"
elif [ -n "${INPUT_TAR:-}" ]; then
	set -- "$@" --tar "$INPUT_TAR"
else
	set -- "$@" --root "$INPUT_PATH"
fi

echo "hubsecrets $*" >&2
status=0
"$bin" "$@" || status=$?
if [ "$format" = text ] && [ -f "$output" ]; then
	cat "$output"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "exit-code=$status" >>"$GITHUB_OUTPUT"
	if [ -f "$output" ]; then
		echo "report=$output" >>"$GITHUB_OUTPUT"
	fi
fi
case $status in
0) ;;
1) echo "::error title=hubsecrets::deny findings: see $output" >&2 ;;
*) echo "::error title=hubsecrets::the check could not be done (exit $status): see the log above" >&2 ;;
esac
exit 0
