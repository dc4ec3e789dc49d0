#!/bin/sh
# sm-store --listen answering bodies of records it has already stored
# (issue 26, case 4): per size, the body is POSTed once (stored), then
# again (all duplicates): the time of that second POST, and of a
# one-record POST sent 0.2 s into it (it waits for the committer).  Then
# the median of REPS runs per size.
#
#   bench/store-dup.sh [REPS [SIZES...]]     default 3, 20000 40000 100000
#
# Environment: SM_BIN (use the sm-store there instead of building).  A
# private MariaDB on a free port.  Not part of `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
REPS=${1:-3}
[ $# -gt 0 ] && shift
SIZES=${*:-20000 40000 100000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-store-dup.XXXXXX")
RPID=

. "$TOP/bench/bench-lib.sh"
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

gen() {	# N TAG
	awk -v n="$1" -v tag="$2" 'BEGIN {
		for (i = 0; i < n; i++)
			printf("{\"id\":\"%08s-0000-7000-8000-%012x\",\"ts\":" \
			    "\"2025-11-26T10:00:00.000Z\",\"host\":\"d\"," \
			    "\"cpu_usage\":1,\"cpu_free\":99,\"ram_total\":9," \
			    "\"ram_free\":1,\"ram_available\":1,\"ram_used\":8,"\
			    "\"ram_percentage\":88.9,\"total_processes\":3," \
			    "\"running_processes\":1,\"sleeping_processes\":2,"\
			    "\"stopped_processes\":0,\"zombie_processes\":0}\n",
			    tag, i)
	}'
}
post() {	# FILE ANSWER: prints seconds
	curl -s -o "$2" -w '%{time_total}\n' -X POST \
	    -H 'Content-Type: application/x-ndjson' --data-binary "@$1" \
	    "http://127.0.0.1:$PORT/metrics"
}

bench_bin sm-store
bench_db_start
"$WORK/bin/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --max-body 67108864 \
    2>"$WORK/store.err" &
RPID=$!
while [ ! -s "$WORK/port" ]; do
	kill -0 "$RPID" || { cat "$WORK/store.err" >&2; exit 1; }
	sleep 0.1
done
PORT=$(cat "$WORK/port")
echo "size  dup-body-s  one-record-s  (medians of $REPS)"
run=0
for n in $SIZES; do
	: >"$WORK/t.body"
	: >"$WORK/t.one"
	r=0
	while [ "$r" -lt "$REPS" ]; do
		run=$((run + 1))
		gen "$n" "$(printf 'b%07x' "$run")" >"$WORK/body"
		gen 1 "$(printf 'c%07x' "$run")" >"$WORK/one"
		post "$WORK/body" "$WORK/ans" >/dev/null
		grep -q "\"stored\":$n," "$WORK/ans" ||
		    { echo "first POST: $(cat "$WORK/ans")" >&2; exit 1; }
		post "$WORK/body" "$WORK/ans" >>"$WORK/t.body" &
		bp=$!
		sleep 0.2
		post "$WORK/one" "$WORK/ans1" >>"$WORK/t.one"
		wait "$bp"
		grep -q "\"duplicates\":$n," "$WORK/ans" ||
		    { echo "second POST: $(cat "$WORK/ans")" >&2; exit 1; }
		r=$((r + 1))
	done
	printf '%6d  %10s  %12s\n' "$n" "$(median <"$WORK/t.body")" \
	    "$(median <"$WORK/t.one")"
done
