#!/bin/sh
# Run test programs and scripts, one after the other; print one line per
# test (with cmocka's summary lines), the whole output of a failing one, and
# exit 1 when any failed.
#
#   tests/run.sh BINDIR TEST...
#
# Helpers to source are named *lib.sh and skipped; any other test that is
# missing or not executable fails.
# Each test runs from the top of the checkout with SM_BIN (the binaries under
# test, absolute), SM_TOP and SM_TMP (a fresh scratch directory) set.
set -u

[ $# -ge 1 ] || { echo "usage: tests/run.sh bindir test..." >&2; exit 2; }
SM_TOP=$(cd "$(dirname "$0")/.." && pwd)
SM_BIN=$(cd "$1" && pwd)
shift
export SM_TOP SM_BIN
cd "$SM_TOP" || exit 2

. "$SM_TOP/tests/runner-lib.sh"

# one test, its scratch directory removed when it passed
run_one() {
	SM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-test.XXXXXX")
	export SM_TMP
	log=$SM_TMP/.log
	start=$(date +%s)
	if "$1" >"$log" 2>&1; then
		grep -E '^\[  (PASSED|FAILED|SKIPPED)  \]|^\[==========\] .* ran' \
		    "$log" | sed 's/^/    /'
		echo "ok   $1 ($(( $(date +%s) - start )) s)"
		rm -rf "$SM_TMP"
	else
		rc=$?
		sed 's/^/    | /' "$log"
		echo "FAIL $1 (exit $rc; scratch kept in $SM_TMP)"
		return 1
	fi
}

run_tests run_one "" "$@"
