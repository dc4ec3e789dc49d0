#!/bin/bash
# sm-tail -f: latency from a row's COMMIT to its line on stdout (p50/p99
# over ROWS rows, one transaction each), following the binary log (--via
# binlog) and polling at --interval 0.05, in the same run; and while
# nothing arrives, the CPU sm-tail and the server use and the SELECTs a
# second that reach the server (Com_select).
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

for via in "binlog" "poll --interval 0.05"; do
	echo "latency, COMMIT to stdout, $rows rows, --via $via:"
	# tail-latency's sample ids again
	scripts/mariadb.sh sql -e "DELETE FROM sm_tail_bench.system_metrics
	    WHERE sample_id LIKE '0000beef-%'"
	# shellcheck disable=SC2086
	"$tmp/tail-latency" "$rows" 40 "$OUT/sm-tail" -f -n 0 --via $via \
	    --format ndjson
done

# idle CPU of a command running in the background for $idle seconds
idle_cpu() {
	local label=$1 pid=$2 t0 t1 s0 s1
	local q
	sleep 2
	t0=$(cpu_ticks "$pid")
	s0=$(cpu_ticks "$server")
	# one session around the wait: SHOW and DO are no SELECTs
	q=$(scripts/mariadb.sh sql -N -B -e "SHOW GLOBAL STATUS LIKE
	    'Com_select'; DO SLEEP($idle); SHOW GLOBAL STATUS LIKE
	    'Com_select'" | awk 'NR == 1 { a = $2 } NR == 2 { print $2 - a }')
	t1=$(cpu_ticks "$pid")
	s1=$(cpu_ticks "$server")
	awk -v label="$label" -v a=$((t1 - t0)) -v b=$((s1 - s0)) \
	    -v hz="$hz" -v s="$idle" -v q="$q" 'BEGIN {
		printf "idle %s, %d s: sm-tail %.2f%% of a core, " \
		    "mariadbd %.2f%%, %.1f SELECTs/s\n", label, s,
		    100 * a / hz / s, 100 * b / hz / s, q / s }'
}

"$OUT/sm-tail" -f -n 0 --via binlog >/dev/null 2>&1 &
pids+=($!)
idle_cpu "-f --via binlog" $!
kill "${pids[-1]}"
"$OUT/sm-tail" -f -n 0 --via poll --interval 0.05 >/dev/null &
pids+=($!)
idle_cpu "-f --via poll --interval 0.05" $!
kill "${pids[-1]}"
"$OUT/sm-tail" -f -n 0 --via poll >/dev/null &
pids+=($!)
idle_cpu "-f --via poll (--interval 0.5)" $!
kill "${pids[-1]}"
tmux -S "$tmp/tmux.sock" -f /dev/null new-session -d -x 100 -y 32 \
    "exec env TERM=screen LC_ALL=C.UTF-8 $OUT/sm-tail -d"
dpid=$(tmux -S "$tmp/tmux.sock" list-panes -F '#{pane_pid}')
idle_cpu "-d (auto: the binary log)" "$dpid"
scripts/mariadb.sh sql -e "DROP DATABASE sm_tail_bench"
