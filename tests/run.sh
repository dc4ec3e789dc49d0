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

failed=0
total=0
for t in "$@"; do
	# sourced helpers (*lib.sh) are not tests; any other file must be
	# runnable: one that lost its run bit fails rather than being skipped
	case $t in
	*lib.sh) continue ;;
	esac
	total=$((total + 1))
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		echo "FAIL $t (missing, or not executable: chmod +x it)"
		failed=$((failed + 1))
		continue
	fi
	SM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-test.XXXXXX")
	export SM_TMP
	log=$SM_TMP/.log
	start=$(date +%s)
	if "$t" >"$log" 2>&1; then
		grep -E '^\[  (PASSED|FAILED|SKIPPED)  \]|^\[==========\] .* ran' \
		    "$log" | sed 's/^/    /'
		echo "ok   $t ($(( $(date +%s) - start )) s)"
		rm -rf "$SM_TMP"
	else
		rc=$?
		sed 's/^/    | /' "$log"
		echo "FAIL $t (exit $rc; scratch kept in $SM_TMP)"
		failed=$((failed + 1))
	fi
done
echo "$((total - failed))/$total passed"
[ "$failed" -eq 0 ]
