#!/bin/sh
# Ingest into a three-node Galera cluster against one server, in one run,
# and what a follower costs once the stream stops:
#
#   a. sm-split -> two sm-store receivers -> one MariaDB (scripts/mariadb.sh)
#   b. sm-split -> two receivers, on Galera nodes 1 and 2 (scripts/galera.sh)
#   c. during b, sm-tail -f (--via poll, then again --via binlog) on node 3;
#      once it has printed the burst, the CPU time of sm-tail and of node
#      3's mariadbd over IDLE seconds, as a share of one core (node 3's
#      own idle share measured before the follower started, for reference)
#
# Both setups use the same settings (binary log on, InnoDB defaults but
# innodb_flush_log_at_trx_commit=2 on the Galera nodes, as scripts/galera.sh
# sets: Galera's durability is the other nodes').
#
#   bench/galera-ingest.sh [N [IDLE]]     default 30000 records, 30 s
#
# Environment: SM_BIN (default bin/), BENCH_PORT (the first of the ports;
# default one picked below the ephemeral range).  Not part of make check.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-30000}
IDLE=${2:-30}
BIN=$(cd "${SM_BIN:-$TOP/bin}" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-galera-bench.XXXXXX")
chmod 711 "$WORK"
PORT=${BENCH_PORT:-$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 11000))}
PIDS=
export SM_GALERA_DIR="$WORK/galera" SM_GALERA_PORT=$((PORT + 10))
export SM_DB_DIR="$WORK/db" SM_DB_PORT=$PORT

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	"$TOP/scripts/galera.sh" stop >/dev/null 2>&1 || true
	"$TOP/scripts/mariadb.sh" stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# gen SEED: N records, ids apart from another seed's
gen() {
awk -v n="$N" -v seed="$1" 'BEGIN {
	stamp = sprintf("%08x", seed)
	for (i = 1; i <= n; i++)
		printf("{\"id\":\"%s-0000-7000-8000-%012x\"," \
		    "\"ts\":\"2026-01-01T00:00:00.000Z\",\"host\":\"bench\"," \
		    "\"collector\":\"procfs\",\"cpu_usage\":12.5," \
		    "\"cpu_free\":87.5,\"ram_total\":4000,\"ram_free\":1000," \
		    "\"ram_available\":2000,\"ram_used\":2000," \
		    "\"ram_percentage\":50,\"total_processes\":%d," \
		    "\"running_processes\":1,\"sleeping_processes\":0," \
		    "\"stopped_processes\":0,\"zombie_processes\":0}\n",
		    stamp, i, i)
}' >"$WORK/recs"
}
gen 1

# receiver NAME DB: sm-store --listen on a free port; sets NAME_url
receiver() {
	"$BIN/sm-store" --db "$2" --listen 127.0.0.1:0 --port-file \
	    "$WORK/$1.port" --source "$1" </dev/null >/dev/null \
	    2>>"$WORK/$1.err" &
	PIDS="$PIDS $!"
	while [ ! -s "$WORK/$1.port" ]; do sleep 0.05; done
	eval "$1_url=http://127.0.0.1:$(cat "$WORK/$1.port")/metrics"
}
# send URL...: rows/s of sm-split sending the records
send() {
	t0=$(now)
	"$BIN/sm-split" --batch 100 --parallel 8 "$@" <"$WORK/recs" \
	    >/dev/null 2>"$WORK/split.err" ||
	    { cat "$WORK/split.err" >&2; exit 1; }
	t1=$(now)
	awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf("%.0f", n / (b - a)) }'
}

echo "galera-ingest: one server" >&2
"$TOP/scripts/mariadb.sh" start >/dev/null
eval "$("$TOP/scripts/mariadb.sh" env)"
receiver s1 "$SM_DB"
receiver s2 "$SM_DB"
single=$(send "$s1_url" "$s2_url")
echo "one server, two receivers:    $single records/s"

echo "galera-ingest: three Galera nodes" >&2
"$TOP/scripts/galera.sh" start >/dev/null
eval "$("$TOP/scripts/galera.sh" env)"
receiver n1 "$SM_DB_1"
receiver n2 "$SM_DB_2"
node3=$(cat "$SM_GALERA_DIR/node3/mysqld.pid")

# window PID...: the CPU share of one core each process uses over IDLE s
window() {
	a=
	for p in "$@"; do a="$a $(ticks "$p")"; done
	sleep "$IDLE"
	b=
	for p in "$@"; do b="$b $(ticks "$p")"; done
	echo "$a|$b" | awk -v hz="$hz" -v s="$IDLE" -F'|' '{
		n = split($1, x, " "); split($2, y, " ")
		for (i = 1; i <= n; i++)
			printf("%s%.2f", i > 1 ? " " : "",
			    100 * (y[i] - x[i]) / hz / s)
	}'
}
sleep 2
echo "node 3 idle, no follower:     $(window "$node3") % of a core"

first=1
for via in poll binlog; do
	"$BIN/sm-tail" -f -n 0 --format ndjson --via $via --db "$SM_DB_3" \
	    >"$WORK/f.$via" 2>"$WORK/f.$via.err" &
	tail=$!
	PIDS="$PIDS $tail"
	sleep 1
	if [ $first = 1 ]; then
		galera=$(send "$n1_url" "$n2_url")
		echo "galera, two receivers:        $galera records/s" \
		    "($(awk -v g="$galera" -v s="$single" \
		    'BEGIN { printf("%.2f", g / s) }') x one server)"
		first=0
	else
		# the same burst again, new ids, for this follower
		gen 2
		send "$n1_url" "$n2_url" >/dev/null
	fi
	while [ "$(wc -l <"$WORK/f.$via")" -lt "$N" ]; do sleep 0.2; done
	sleep 2
	printed=$(wc -l <"$WORK/f.$via")
	set -- $(window "$tail" "$node3")
	echo "follower --via $via: printed $printed; over $IDLE s idle after" \
	    "the burst: sm-tail $1 %, node 3 $2 % of a core," \
	    "together $(awk -v a="$1" -v b="$2" 'BEGIN { print a + b }') %"
	kill "$tail"
done
