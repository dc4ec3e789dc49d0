#!/bin/bash
# sm-tail -f: latency from a row's COMMIT to its line on stdout (p50/p99
# over ROWS rows, one transaction each, at --interval 0.05), and the CPU
# sm-tail uses while nothing arrives (and what its polling costs the
# server).
#
#   bench/tail-bench.sh [ROWS] [IDLE_SECONDS]
#
# Uses the private MariaDB of scripts/mariadb.sh (SM_DB_DIR and SM_DB_PORT
# are honoured), in a database sm_tail_bench made afresh; BUILD and OUT as
# for make.  Not part of `make check`.
set -eu
cd "$(dirname "$0")/.."
rows=${1:-1000}
idle=${2:-30}
BUILD=${BUILD:-build}
OUT=${OUT:-bin}
. bench/tail-lib.sh
# shellcheck disable=SC2016	# expanded when cleanup runs
bench_on_exit='tmux -S "$tmp/tmux.sock" kill-server 2>/dev/null || true'
tail_bench_setup sm_tail_bench

echo "latency, COMMIT to stdout, $rows rows, --interval 0.05:"
"$tmp/tail-latency" "$rows" 40 "$OUT/sm-tail" -f -n 0 --interval 0.05 \
    --format ndjson

# idle CPU of a command running in the background for $idle seconds
idle_cpu() {
	local label=$1 pid=$2 t0 t1 s0 s1
	sleep 2
	t0=$(cpu_ticks "$pid")
	s0=$(cpu_ticks "$server")
	sleep "$idle"
	t1=$(cpu_ticks "$pid")
	s1=$(cpu_ticks "$server")
	awk -v label="$label" -v a=$((t1 - t0)) -v b=$((s1 - s0)) \
	    -v hz="$hz" -v s="$idle" 'BEGIN {
		printf "idle %s, %d s: sm-tail %.2f%% of a core, " \
		    "mariadbd %.2f%%\n", label, s, 100 * a / hz / s,
		    100 * b / hz / s }'
}

"$OUT/sm-tail" -f -n 0 --interval 0.05 >/dev/null &
pids+=($!)
idle_cpu "-f --interval 0.05" $!
kill "${pids[-1]}"
"$OUT/sm-tail" -f -n 0 >/dev/null &
pids+=($!)
idle_cpu "-f (--interval 0.5)" $!
kill "${pids[-1]}"
tmux -S "$tmp/tmux.sock" -f /dev/null new-session -d -x 100 -y 32 \
    "exec env TERM=screen LC_ALL=C.UTF-8 $OUT/sm-tail -d"
dpid=$(tmux -S "$tmp/tmux.sock" list-panes -F '#{pane_pid}')
idle_cpu "-d (--interval 0.5)" "$dpid"
scripts/mariadb.sh sql -e "DROP DATABASE sm_tail_bench"
