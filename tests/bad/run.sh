#!/bin/bash
# The bad-layout corpus through the real binary. For each case folder CASE here
# (written by make-corpus.sh), a copy of CASE/lab is given to
#
#   labvirt -L CASE/lab validate
#   labvirt -L CASE/lab -c test:///default plan
#   labvirt -L CASE/lab -c test:///default up
#
# with LABVIRT_STATE_DIR in a temp dir. plan and up must exit with CASE/expected.code
# (2 when there is none), print nothing on stdout and exactly CASE/expected.err on
# stderr; validate must do the same, except for a conflict with the host (exit 2 from
# plan) or a missing file (exit 1), where the layout itself is valid and validate
# exits 0. Afterwards nothing may have been created: the lab's folder is as it was
# and the state directory holds at most the lab's lock file and libvirt's log.
#
# Usage: run.sh PATH_TO_labvirt [CASE...]
# LABVIRT_REGENERATE=1 rewrites expected.err and expected.code (read the diff).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LABVIRT=$(realpath "$1")
shift
unset LABVIRT_URI LIBVIRT_DEFAULT_URI LABVIRT_FAIL_STEP
W=$(mktemp -d /tmp/labvirt-bad.XXXXXX)
trap 'rm -rf "$W"' EXIT
passed=0 failed=0

if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=()
	for d in "$HERE"/*/; do
		[ -d "$d/lab" ] && cases+=("$(basename "$d")")
	done
fi

# tree DIR: every path below DIR with its type, mode and size (what "nothing
# created or changed" compares)
tree() { (cd "$1" && find . -printf '%p %y %m %s\n' | LC_ALL=C sort); }

# run NAME ARGS...: labvirt in $W; sets OUT, ERR (the temp dir shown as @TMP@), RC
run() {
	OUT=$(cd "$W" && "$LABVIRT" "$@" 2>"$W/.err")
	RC=$?
	ERR=$(sed "s|$W/|@TMP@/|g" "$W/.err")
}

not_ok() {
	failed=$((failed + 1))
	printf 'not ok - %s\n' "$1"
	shift
	printf '  %s\n' "$@"
}

check_case() {
	local c=$1 want_err want_code before after left bad=""
	rm -rf "${W:?}/$c" "$W/state"
	mkdir -p "$W/state"
	chmod 0711 "$W/state"
	cp -a "$HERE/$c" "$W/$c"
	rm -f "$W/$c/expected.err" "$W/$c/expected.code"
	export LABVIRT_STATE_DIR=$W/state
	before=$(tree "$W/$c")

	run -L "$c/lab" -c test:///default plan
	local plan_out=$OUT plan_err=$ERR plan_rc=$RC
	if [ "${LABVIRT_REGENERATE:-0}" = 1 ]; then
		printf '%s\n' "$plan_err" >"$HERE/$c/expected.err"
		if [ "$plan_rc" = 2 ]; then rm -f "$HERE/$c/expected.code"; else echo "$plan_rc" >"$HERE/$c/expected.code"; fi
	fi
	want_err=$(cat "$HERE/$c/expected.err" 2>/dev/null) || {
		not_ok "$c" "no expected.err (LABVIRT_REGENERATE=1 writes it)"
		return
	}
	want_code=$(cat "$HERE/$c/expected.code" 2>/dev/null || echo 2)
	[ "$want_code" = 0 ] && bad+=" expected.code-is-0"
	[ "$plan_rc" = "$want_code" ] || bad+=" plan-exit-$plan_rc"
	[ "$plan_err" = "$want_err" ] || bad+=" plan-stderr"
	[ -z "$plan_out" ] || bad+=" plan-stdout"

	run -L "$c/lab" -c test:///default up
	[ "$RC" = "$want_code" ] || bad+=" up-exit-$RC"
	[ "$ERR" = "$want_err" ] || bad+=" up-stderr"
	[ -z "$OUT" ] || bad+=" up-stdout"

	run -L "$c/lab" validate
	if [ "$want_code" = 2 ] && ! grep -q '^labvirt: the layout conflicts with this host' <<<"$want_err"; then
		[ "$RC" = 2 ] || bad+=" validate-exit-$RC"
		[ "$ERR" = "$want_err" ] || bad+=" validate-stderr"
	else
		[ "$RC" = 0 ] || bad+=" validate-exit-$RC"
		[ -z "$ERR" ] || bad+=" validate-stderr"
	fi

	after=$(tree "$W/$c")
	[ "$after" = "$before" ] || bad+=" lab-folder-changed"
	left=$(cd "$W/state" && find . -mindepth 1 ! -name '*.lock' ! -name libvirt.log -print)
	[ -z "$left" ] || bad+=" state-left"
	if [ -n "$bad" ]; then
		not_ok "$c:$bad" "plan exit $plan_rc (want $want_code)" \
			"stderr: $(head -c 600 <<<"$plan_err")" "want:   $(head -c 600 <<<"$want_err")" \
			"stdout: $(head -c 300 <<<"$plan_out$OUT")" "state: $left" \
			"$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -5)"
	else
		passed=$((passed + 1))
		printf 'ok - %s\n' "$c"
	fi
	rm -rf "${W:?}/$c"
}

for c in "${cases[@]}"; do
	check_case "$c"
done
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
