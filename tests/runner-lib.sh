# The loop tests/run.sh and tests/sanitize.sh share (sourced).
#
#   run_tests FUNCTION SUFFIX TEST...
#
# Each TEST but the sourced helpers (*lib.sh) must be a runnable file: one
# missing or without its run bit fails rather than being skipped.  The rest
# are handed one by one to FUNCTION, which runs one and returns 0 when it
# passed.  Ends with "PASSED/TOTAL passed" and SUFFIX; returns 0 when every
# test passed.
run_tests() {
	run_fn=$1
	run_suffix=$2
	shift 2
	run_failed=0
	run_total=0
	for run_t in "$@"; do
		case $run_t in
		*lib.sh) continue ;;
		esac
		run_total=$((run_total + 1))
		if [ ! -f "$run_t" ] || [ ! -x "$run_t" ]; then
			echo "FAIL $run_t (missing, or not executable:" \
			    "chmod +x it)"
			run_failed=$((run_failed + 1))
			continue
		fi
		"$run_fn" "$run_t" || run_failed=$((run_failed + 1))
	done
	echo "$((run_total - run_failed))/$run_total passed$run_suffix"
	[ "$run_failed" -eq 0 ]
}
