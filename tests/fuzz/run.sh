#!/bin/sh
# Run the libFuzzer targets: each one first replays its committed seed
# corpus and every regression input once, then fuzzes for SECONDS.
#
#   tests/fuzz/run.sh FUZZDIR SECONDS [TARGET...]
#
# FUZZDIR holds the built fuzz_TARGET binaries (make fuzz-build); the
# corpus grown while fuzzing is kept in FUZZDIR/corpus/TARGET (the seeds
# in tests/fuzz/corpus stay as committed), a crashing input is written to
# FUZZDIR/crash/ and named on stderr.  SECONDS 0 only replays.  Exits 1
# when any target failed.  FUZZ_JOBS=N runs the targets in N lanes at
# once (a target uses one CPU; default 1), their reports in target order.
set -u

if [ $# -lt 2 ]; then
	echo "usage: tests/fuzz/run.sh fuzzdir seconds [target...]" >&2
	exit 2
fi
dir=$(cd "$1" && pwd) || exit 2
secs=$2
shift 2
cd "$(dirname "$0")" || exit 2
here=$(pwd)
if [ $# -eq 0 ]; then
	for f in fuzz_*.c; do
		f=${f#fuzz_}
		set -- "$@" "${f%.c}"
	done
fi

# fuzz_one TARGET: replay, then fuzz; its report on stdout, 0 when it
# passed
fuzz_one() {
	t=$1
	bin=$dir/fuzz_$t
	log=$dir/$t.log
	dict=
	case $t in
	record|body) dict=-dict=$here/record.dict ;;
	ndjson) dict=-dict=$here/ndjson.dict ;;
	esac
	mkdir -p "$dir/corpus/$t" "$dir/crash"

	# the seeds and every input that once broke something, once each
	inputs=$(find "$here/corpus/$t" "$here/regress/$t" -type f \
	    2>/dev/null | sort)
	n=$(printf '%s\n' "$inputs" | grep -c . || true)
	start=$(date +%s)
	# shellcheck disable=SC2086
	if ! "$bin" -timeout=10 -artifact_prefix="$dir/crash/$t-" $inputs \
	    >"$log" 2>&1
	then
		sed 's/^/    | /' "$log" | grep -v '| Running: ' | tail -60
		echo "FAIL fuzz $t: replaying $n seed and regression inputs"
		return 1
	fi
	if [ "$secs" -eq 0 ]; then
		echo "ok   fuzz $t: replayed $n inputs"
		return 0
	fi

	# -use_value_profile: guide the mutations by comparison operands too;
	# an input taking 10 s is a hang, reported like a crash
	# shellcheck disable=SC2086
	if "$bin" $dict -max_total_time="$secs" -use_value_profile=1 \
	    -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$dir/crash/$t-" \
	    "$dir/corpus/$t" "$here/corpus/$t" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -E '^#[0-9]+' "$log" | tail -1 |
		    sed -E 's/.* cov: ([0-9]+) .*/\1/')
		echo "ok   fuzz $t: replayed $n inputs, $runs runs in" \
		    "$(($(date +%s) - start)) s, coverage $cov edges"
	else
		grep -v '^#[0-9]' "$log" | sed 's/^/    | /' | tail -60
		crash=$(sed -n 's/.*Test unit written to //p' "$log")
		echo "FAIL fuzz $t: input in ${crash:-$log}"
		echo "     keep it (tests/fuzz/README): mkdir -p" \
		    "$here/regress/$t && cp ${crash:-INPUT} $here/regress/$t/"
		return 1
	fi
}

# lane K: every FUZZ_JOBS-th target from the K-th, one after the other;
# each target's report in FUZZDIR/TARGET.out, its failure in TARGET.failed
lane() {
	k=0
	for t in "$@"; do
		k=$((k + 1))
		[ $(( (k - 1) % jobs )) -eq "$lane_no" ] || continue
		rm -f "$dir/$t.failed"
		fuzz_one "$t" >"$dir/$t.out" 2>&1 || : >"$dir/$t.failed"
	done
}

jobs=${FUZZ_JOBS:-1}
case $jobs in
''|*[!0-9]*|0) echo "run.sh: FUZZ_JOBS=$jobs: want a count" >&2; exit 2 ;;
esac
pids=
lane_no=0
while [ "$lane_no" -lt "$jobs" ]; do
	lane "$@" &
	pids="$pids $!"
	lane_no=$((lane_no + 1))
done
# shellcheck disable=SC2086
wait $pids
failed=0
for t in "$@"; do
	cat "$dir/$t.out"
	[ ! -e "$dir/$t.failed" ] || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
