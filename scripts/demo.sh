#!/usr/bin/env bash
# make demo: lay out two sample roots in a temporary folder and check them.
#   tutorial/  what the widely copied tutorial really leaves behind: the cookie
#              secret written to the misspelled jupyterhub_cookie_secretl and the
#              real file empty, group sudo.
#   correct/   what `hubsecrets init` makes: secrets 0600, distinct, ffdhe2048.
# Each root has its own etc/passwd and etc/group, as a mounted image would, so
# owners resolve the same whether or not the demo runs as root. No secret
# value is printed.
set -euo pipefail
hubsecrets=${1:?usage: demo.sh PATH-TO-hubsecrets}
hubsecrets=$(cd "$(dirname "$hubsecrets")" && pwd)/$(basename "$hubsecrets")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hubsecrets-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=scripts/lib/sample-roots.sh
. "$(dirname "$0")/lib/sample-roots.sh"
export HUBSECRETS=$hubsecrets
tutorial_root "$tmp/tutorial"
correct_root "$tmp/correct"

show() {
	if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m$ %s\033[0m\n' "$*"; else printf '\n$ %s\n' "$*"; fi
}

echo "Sample roots in $tmp (removed on exit)."
show ls -ln tutorial/srv/jupyterhub
# shellcheck disable=SC2012 # shown to the reader as ls shows it, not parsed
ls -ln "$tmp/tutorial/srv/jupyterhub" | sed 1d
echo "(in this sample root's own etc/passwd and etc/group, uid $(id -u) is root and gid $(id -g) is sudo)"
show hubsecrets check --root tutorial
set +e
"$hubsecrets" check --root "$tmp/tutorial"
code=$?
set -e
echo "exit status $code (1: deny findings)"
[ "$code" = 1 ] || { echo "demo: expected exit 1 for the tutorial's tree" >&2; exit 1; }

show hubsecrets check --root correct
"$hubsecrets" check --root "$tmp/correct"
echo "exit status 0"

show hubsecrets check --root tutorial --format json '| head -20'
"$hubsecrets" check --root "$tmp/tutorial" --format json | head -20 || true
echo
echo "Other formats: --format sarif (GitHub code scanning), --format junit (GitLab, Jenkins)."
