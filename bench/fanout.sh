#!/bin/bash
# sm-tail --listen fan-out: N Server-Sent Events clients on one server,
# every one receiving every row of a ROWS-row stream written at RATE rows
# a second (each its own COMMIT; the server follows the binary log), for
# each N given, RUNS times: bench/sse-load.c's figures (rows received per
# client, COMMIT-to-event latency percentiles, sm-tail's RSS per client
# and CPU).  A fresh sm-tail for every run.
#
#   bench/fanout.sh [ROWS] [RATE] [RUNS] [CLIENTS...]   (300 100 3 1000
#                                                        5000 10000)
#
# Uses the private MariaDB of scripts/mariadb.sh (SM_DB_DIR and SM_DB_PORT
# honoured), in a database sm_fanout_bench made afresh; BUILD and OUT as
# for make; SM_TAIL_OPTS more options for sm-tail.  Not part of
# `make check` (tests/it/tail-fanout.sh is its small version).
set -eu
cd "$(dirname "$0")/.."
rows=${1:-300}
rate=${2:-100}
runs=${3:-3}
shift $(($# < 3 ? $# : 3))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 5000 10000)
BUILD=${BUILD:-build}
OUT=${OUT:-bin}
. bench/tail-lib.sh
tail_bench_setup sm_fanout_bench
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libmariadb) \
    -o "$tmp/sse-load" bench/sse-load.c "$BUILD/libsm.a" \
    $(pkg-config --libs libmariadb json-c) -pthread

for n in "${counts[@]}"; do
	for ((r = 1; r <= runs; r++)); do
		rm -f "$tmp/port"
		# shellcheck disable=SC2086
		"$OUT/sm-tail" --listen 127.0.0.1:0 --port-file "$tmp/port" \
		    --max-connections $((n + 100)) ${SM_TAIL_OPTS:-} \
		    2>"$tmp/web.err" &
		web=$!
		pids+=($web)
		until [ -s "$tmp/port" ]; do sleep 0.1; done
		sleep 1
		echo "== $n clients, run $r, $rows rows at $rate/s," \
		    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
		"$tmp/sse-load" -c "$n" -r "$rows" -t "$rate" -p "$web" \
		    "$(cat "$tmp/port")" || echo "(sse-load exited $?)"
		kill "$web"
		wait "$web" || true
	done
done
