#!/bin/sh
# Run tests (as tests/run.sh does) against binaries built with ASan and
# UBSan (make san), or with TSan (make tsan), and fail a test when any
# process it started left a sanitizer report -- not only the command in
# the foreground, whose exit status the test sees, but also a receiver it
# ran in the background and stopped with a signal, whose status nobody
# checks.
#
#   tests/sanitize.sh BINDIR TEST...
#
# How: every report goes to a file (ASAN_OPTIONS log_path; UBSan and
# LeakSanitizer write through the same runtime) in a directory of the
# test's own, instead of stderr, so it is found whichever process wrote it
# and never mixes into the output a test compares.  After the test, its
# processes (known by a variable in their environment) are given time to
# exit -- a receiver stopped by SIGTERM runs the leak check on its way out
# -- and then the directory must be empty.  A process still running then
# fails the test too, and is killed.
set -u

[ $# -ge 1 ] || { echo "usage: tests/sanitize.sh bindir test..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
bindir=$1
shift

# the processes whose environment holds SM_SANITIZE_RUN=$1
tagged() {
	grep -lszxF "SM_SANITIZE_RUN=$1" /proc/[0-9]*/environ |
	    sed 's|^/proc/||; s|/environ$||'
}

. "$top/tests/runner-lib.sh"

# one test under the sanitizers, then its processes' reports
san_one() {
	t=$1
	logs=$(mktemp -d "${TMPDIR:-/tmp}/sm-san.XXXXXX")
	bad=0
	# detect_leaks: on by default, but it is the point; abort_on_error=0:
	# exit with a status the test sees, no core
	log=log_path=$logs/report
	SM_SANITIZE_RUN=$logs \
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:$log" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$log" \
	TSAN_OPTIONS="second_deadlock_stack=1:$log" \
	    "$top/tests/run.sh" "$bindir" "$t" >"$logs.out" 2>&1 || bad=1
	grep -v '^[0-9]*/[0-9]* passed$' "$logs.out"
	rm -f "$logs.out"
	tries=300
	while [ -n "$(tagged "$logs")" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	left=$(tagged "$logs")
	if [ -n "$left" ]; then
		echo "    | processes still running 30 s after the test:"
		for p in $left; do
			echo "    | $p: $(tr '\0' ' ' 2>/dev/null \
			    <"/proc/$p/cmdline")"
		done
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
		bad=1
	fi
	if [ -n "$(ls "$logs")" ]; then
		for r in "$logs"/*; do
			echo "    | sanitizer report ${r##*/}:"
			sed 's/^/    | /' "$r"
		done
		bad=1
	fi
	if [ "$bad" -ne 0 ]; then
		echo "FAIL $t (under sanitizers; reports, if any, in $logs)"
		return 1
	fi
	rm -rf "$logs"
}

run_tests san_one " under sanitizers" "$@"
