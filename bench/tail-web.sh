#!/bin/bash
# sm-tail --listen: latency from a row's COMMIT to its Server-Sent Event at
# a client (p50/p99 over ROWS rows, one transaction each), with 1 client
# and with 500 clients connected; sm-tail's RSS and CPU with 500 idle
# clients; and what serving them costs the database (its CPU).
#
#   bench/tail-web.sh [ROWS] [IDLE_SECONDS] [INTERVAL]
#
# The timed client is curl -N on /events; bench/tail-latency.c inserts the
# rows and reads curl's output, as it does for sm-tail -f's stdout.  The
# other 499 clients are held by tests/it/sse-client.py (one process, every
# stream read).  Uses the private MariaDB of scripts/mariadb.sh (SM_DB_DIR
# and SM_DB_PORT honoured), in a database sm_tail_web_bench made afresh;
# BUILD and OUT as for make.  Not part of `make check`.
set -eu
cd "$(dirname "$0")/.."
rows=${1:-500}
idle=${2:-30}
interval=${3:-0.05}
BUILD=${BUILD:-build}
OUT=${OUT:-bin}
. bench/tail-lib.sh
tail_bench_setup sm_tail_web_bench

"$OUT/sm-tail" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    --interval "$interval" 2>"$tmp/web.err" &
web=$!
pids+=($web)
until [ -s "$tmp/port" ]; do sleep 0.1; done
port=$(cat "$tmp/port")

latency() {
	# tail-latency's sample ids are the same every run
	scripts/mariadb.sh sql -e "DELETE FROM sm_tail_web_bench.system_metrics
	    WHERE sample_id LIKE '0000beef-%'"
	echo "latency, COMMIT to SSE event at curl, $rows rows," \
	    "--interval $interval, $1:"
	"$tmp/tail-latency" "$rows" 40 curl -sN "http://127.0.0.1:$port/events"
}
rss() {
	awk '/^VmRSS|^VmHWM/ { printf "%s %.1f MiB  ", $1, $2 / 1024 }' \
	    "/proc/$web/status"
	echo
}

echo "for comparison, sm-tail -f, COMMIT to stdout:"
scripts/mariadb.sh sql -e "DELETE FROM sm_tail_web_bench.system_metrics
    WHERE sample_id LIKE '0000beef-%'"
"$tmp/tail-latency" "$rows" 40 "$OUT/sm-tail" -f -n 0 --interval "$interval" \
    --format ndjson
latency "1 client"
echo "sm-tail: $(rss)"

python3 tests/it/sse-client.py hold "$port" /events 499 "$tmp/ready" &
pids+=($!)
until [ -s "$tmp/ready" ]; do sleep 0.1; done
latency "500 clients"
echo "sm-tail with 500 clients: $(rss)"

sleep 2
t0=$(cpu_ticks $web)
s0=$(cpu_ticks "$server")
sleep "$idle"
t1=$(cpu_ticks $web)
s1=$(cpu_ticks "$server")
awk -v a=$((t1 - t0)) -v b=$((s1 - s0)) -v hz="$hz" -v s="$idle" \
    -v iv="$interval" 'BEGIN {
	printf "idle, 499 clients, %d s, --interval %s: sm-tail %.2f%% of a " \
	    "core, mariadbd %.2f%%\n", s, iv, 100 * a / hz / s,
	    100 * b / hz / s }'
echo "sm-tail with 499 idle clients: $(rss)"
clients=$(curl -s "http://127.0.0.1:$port/metrics" |
    awk '$1 == "sm_tail_sse_clients" { print $2 }')
echo "clients connected at the end: $clients"
