# shellcheck shell=bash
# scripts/e2e/lib.sh: what the end-to-end scripts share (bash, sourced).
#
#   step TEXT             a "==> TEXT" heading
#   note TEXT             an indented line of detail
#   pass TEXT / fail TEXT one assertion's verdict, counted for the summary
#   expect TEXT CMD...    pass if CMD succeeds, else fail (CMD's output is kept
#                         in the log directory, shown on failure)
#   die TEXT              stop at once (exit 2): the test could not go on
#   on_exit CMD...        run CMD at exit, last registered first (cleanup)
#   summary               the PASS/FAIL counts and wall time; returns 1 on any
#                         failure
#   same_file A B         true if A and B have the same bytes; never prints them
#   secret_hash FILE      a SHA-256 of FILE, to compare secrets across time
#                         without keeping or printing them
#
# Set E2E_PROG (the script's name) and E2E_LOGS (a directory) before use.
# Secrets are compared only by cmp or hash; nothing here prints a file's bytes.

E2E_START=$(date +%s.%N)
E2E_PASS=0
E2E_FAIL=0
E2E_FAILED=()
E2E_CLEANUP=()

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	printf '%s: error: %s\n' "${E2E_PROG:-e2e}" "$*" >&2
	exit 2
}
pass() {
	E2E_PASS=$((E2E_PASS + 1))
	printf 'PASS  %s\n' "$*"
}
fail() {
	E2E_FAIL=$((E2E_FAIL + 1))
	E2E_FAILED+=("$*")
	printf 'FAIL  %s\n' "$*"
}

# expect TEXT CMD...: one assertion on a command's exit status.
E2E_EXPECT_N=0
expect() {
	local text=$1 out
	shift
	E2E_EXPECT_N=$((E2E_EXPECT_N + 1))
	out=${E2E_LOGS:-/tmp}/expect-$E2E_EXPECT_N.log
	if "$@" >"$out" 2>&1; then
		pass "$text"
	else
		fail "$text"
		sed 's/^/      | /' "$out" | tail -n 20
	fi
}

elapsed() { awk -v a="$E2E_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }

summary() {
	local t
	t=$(elapsed)
	printf '\n==> summary: %d passed, %d failed, wall time %dm%02ds\n' "$E2E_PASS" "$E2E_FAIL" $((t / 60)) $((t % 60))
	local f
	for f in "${E2E_FAILED[@]}"; do printf '    FAILED: %s\n' "$f"; done
	[ "$E2E_FAIL" -eq 0 ] && [ "$E2E_PASS" -gt 0 ]
}

on_exit() { E2E_CLEANUP+=("$(printf '%q ' "$@")"); }

# run_cleanup runs every registered command once, newest first, each in a
# subshell so that a die or exit in one cannot skip the others, and keeps
# going when one fails: the next may still free something.
run_cleanup() {
	local i
	trap '' INT TERM
	for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
		(eval "${E2E_CLEANUP[i]}") || printf '%s: cleanup step failed: %s\n' "${E2E_PROG:-e2e}" "${E2E_CLEANUP[i]}" >&2
	done
	E2E_CLEANUP=()
}
trap run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

same_file() { cmp -s -- "$1" "$2"; }

secret_hash() {
	local h
	h=$(sha256sum <"$1") || return 1
	printf '%s\n' "${h%% *}"
}

# need CMD...: die naming the package when a command is missing.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		case $c in
		systemd-nspawn) die "systemd-nspawn is missing: apt-get install -y systemd-container" ;;
		nsenter) die "nsenter is missing: apt-get install -y util-linux" ;;
		*) die "$c is missing: apt-get install -y $c" ;;
		esac
	done
}

# finding_ids FILE: the sorted unique finding ids of a `hubsecrets check
# --format json` report, "SEVERITY:ID" per line (severity deny or warn).
finding_ids() {
	jq -r '(if type == "array" then .[] else . end) | .findings[]? | "\(.severity):\(.id)"' "$1" | sort -u
}
