#!/bin/sh
# Install a pinned hubsecrets release: download the CLI archive and the
# release's checksum file, verify the archive with sha256sum -c, and only
# then unpack the binary. Used by action.yml and, verbatim, by the GitLab
# template (ci/gitlab/hubsecrets.gitlab-ci.yml; a test keeps them equal).
#
# Environment:
#   HUBSECRETS_VERSION   the release, e.g. 0.1.0 (a leading v is dropped). Required.
#   HUBSECRETS_SHA256    optional: the archive's SHA-256 pinned in YOUR pipeline.
#                        The release's own SHA256SUMS only detects a corrupt
#                        download; a pin also detects a replaced release.
#   HUBSECRETS_DEST      directory for the binary (default: $HOME/.local/bin)
#   HUBSECRETS_BASE_URL  where releases are (default: the project's GitHub
#                        releases); a local directory holding vVERSION/ works
#                        too (tests, mirrors)
#   HUBSECRETS_OS, HUBSECRETS_ARCH  override uname's (linux|darwin, amd64|arm64)
# Prints the installed binary's path on stdout; on GitHub Actions also adds
# its directory to GITHUB_PATH and sets the step output "path".
set -eu

die() { echo "hubsecrets install: $*" >&2; exit 1; }

version=${HUBSECRETS_VERSION:-}
version=${version#v}
case $version in
'' | PLACEHOLDER) die "set the release to install (HUBSECRETS_VERSION, the action's version input), e.g. 0.1.0: see docs/ci.md" ;;
*[!0-9A-Za-z.+-]*) die "version \"$version\": want a release number such as 0.1.0" ;;
esac
pin=${HUBSECRETS_SHA256:-}
[ "$pin" != PLACEHOLDER ] ||
	die "set the archive's SHA-256 (HUBSECRETS_SHA256, the action's sha256 input) from the release's SHA256SUMS, fetched once from a machine you trust; or leave it empty to rely on that file alone: see docs/ci.md"
if [ -n "$pin" ] && ! printf '%s\n' "$pin" | grep -Eqx '[0-9a-f]{64}'; then
	die "sha256 \"$pin\": want the archive's SHA-256 as 64 lowercase hex digits (from the release's SHA256SUMS, fetched once from a machine you trust)"
fi

os=${HUBSECRETS_OS:-$(uname -s | tr '[:upper:]' '[:lower:]')}
arch=${HUBSECRETS_ARCH:-$(uname -m)}
case $arch in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) die "no hubsecrets release for the CPU \"$arch\" (there are amd64 and arm64)" ;;
esac
case $os in
linux | darwin) ;;
*) die "no hubsecrets release for \"$os\" (there are linux and darwin)" ;;
esac

base=${HUBSECRETS_BASE_URL:-https://github.com/hubsecrets/packer-plugin-jupyterhub/releases/download}
archive=hubsecrets_v${version}_${os}_${arch}.tar.gz
sums=packer-plugin-jupyterhub_v${version}_SHA256SUMS
dest=${HUBSECRETS_DEST:-${HOME:?HOME or HUBSECRETS_DEST must be set}/.local/bin}

work=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

fetch() { # fetch NAME: from base/vVERSION/NAME into $work/NAME
	src=$base/v$version/$1
	case $base in
	http://* | https://* | file://*)
		if command -v curl >/dev/null; then
			curl -fsSL --retry 3 -o "$work/$1" "$src" || die "cannot download $src"
		elif command -v wget >/dev/null; then
			wget -q -O "$work/$1" "$src" || die "cannot download $src"
		else
			die "neither curl nor wget is installed: install one (apt-get install -y curl ca-certificates)"
		fi
		;;
	*) cp "$src" "$work/$1" 2>/dev/null || die "no $src: is $version a release (HUBSECRETS_BASE_URL=$base)?" ;;
	esac
}
fetch "$archive"
fetch "$sums"

# The archive's line of the release's SHA256SUMS, exactly one.
grep -E "^[0-9a-f]{64}  $archive\$" "$work/$sums" >"$work/archive.sha256" || true
[ "$(wc -l <"$work/archive.sha256")" -eq 1 ] ||
	die "$sums has no single line for $archive: not this release's checksum file"
if [ -n "$pin" ] && [ "$(cut -d' ' -f1 "$work/archive.sha256")" != "$pin" ]; then
	die "$sums gives $(cut -d' ' -f1 "$work/archive.sha256") for $archive, not the pinned $pin: the release was changed, or the pin is for another version/platform. Nothing installed"
fi
if command -v sha256sum >/dev/null; then
	sumcheck='sha256sum -c --strict --quiet'
else # macOS
	sumcheck='shasum -a 256 -c --strict --quiet'
fi
# shellcheck disable=SC2086 # the command and its options
(cd "$work" && $sumcheck archive.sha256) >&2 ||
	die "$archive does NOT match its checksum in $sums: the download is corrupt or was replaced. Nothing installed"

mkdir -p "$work/x"
tar -xzf "$work/$archive" -C "$work/x" hubsecrets || die "$archive holds no hubsecrets binary"
mkdir -p "$dest"
# Beside the target, then renamed over it: a binary in use is not rewritten.
cp "$work/x/hubsecrets" "$dest/.hubsecrets.new"
chmod 0755 "$dest/.hubsecrets.new"
mv -f "$dest/.hubsecrets.new" "$dest/hubsecrets"
echo "hubsecrets install: $archive verified ($(cut -d' ' -f1 "$work/archive.sha256")), installed as $dest/hubsecrets" >&2

if [ -n "${GITHUB_PATH:-}" ]; then
	echo "$dest" >>"$GITHUB_PATH"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "path=$dest/hubsecrets" >>"$GITHUB_OUTPUT"
fi
echo "$dest/hubsecrets"
