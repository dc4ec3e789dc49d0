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
make -s BUILD="$BUILD" OUT="$OUT" all
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-tail-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	tmux -S "$tmp/tmux.sock" kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libmariadb) \
    -o "$tmp/tail-latency" bench/tail-latency.c "$BUILD/libsm.a" \
    $(pkg-config --libs libmariadb json-c) -pthread

scripts/mariadb.sh start
eval "$(scripts/mariadb.sh env)"
scripts/mariadb.sh sql -e "DROP DATABASE IF EXISTS sm_tail_bench;
    CREATE DATABASE sm_tail_bench;
    GRANT ALL ON sm_tail_bench.* TO 'sm'@'localhost';
    GRANT ALL ON sm_tail_bench.* TO 'sm'@'127.0.0.1';"
SM_DB=${SM_DB%/*}/sm_tail_bench
export SM_DB
"$OUT/sm-read" -n 1 | "$OUT/sm-store" --source bench 2>/dev/null
hz=$(getconf CLK_TCK)
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
server=$(cat "${SM_DB_DIR:-.sm-db}/mysqld.pid")

echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo), $(uname -r); $(date -u +%Y-%m-%d)"
echo "server: $(scripts/mariadb.sh sql -N -e 'SELECT VERSION()')"

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
