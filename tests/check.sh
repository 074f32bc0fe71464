# shellcheck shell=bash
# check DESCRIPTION CMD...: prints "ok - DESCRIPTION" if CMD succeeds, else
# "not ok - DESCRIPTION"; counts both in $passed and $failed. Sourced by the
# tests that do not use tests/e2e/lib.sh.
passed=0 failed=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok - $what"
		passed=$((passed + 1))
	else
		echo "not ok - $what"
		failed=$((failed + 1))
	fi
}
