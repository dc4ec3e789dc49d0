#!/bin/sh
# Where sm-store --listen spends its instructions: callgrind on a fixed
# number of single-record POSTs (bench/store-http.lua, STOP_AFTER), counters
# zeroed once the receiver is up (start-up and the database connection left
# out), so the figures repeat on a busy machine.  Prints the instructions
# per request, inclusive, of the stages of a request, and the top functions
# by own cost.  With --perf instead: `perf record` of the receiver at full
# speed under wrk for SECONDS (kernel time included; software clock only in
# a VM), its top symbols.
#
#   bench/store-profile.sh [REQUESTS]          default 20000
#   bench/store-profile.sh --perf [SECONDS]    default 10
#
# Environment: SM_BIN (use the sm-store there instead of building), CONNS
# (64), KEEP (a directory to keep callgrind.out / perf.data in).  Starts a
# private MariaDB of its own.  Not part of `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
PERF=0
if [ "${1:-}" = --perf ]; then
	PERF=1
	shift
fi
N=${1:-20000}
[ "$PERF" = 1 ] && N=${1:-10}
CONNS=${CONNS:-64}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-store-profile.XXXXXX")
RPID=

. "$TOP/bench/bench-lib.sh"
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for t in wrk valgrind callgrind_annotate; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "store-profile: $t missing" >&2; exit 2; }
done
bench_bin sm-store
bench_db_start
export SM_DB SM_DB_PASSWORD

if [ "$PERF" = 1 ]; then
	"$WORK/bin/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
	    2>"$WORK/recv.err" &
	RPID=$!
	while [ ! -s "$WORK/port" ]; do sleep 0.1; done
	perf record -F 999 -g -p "$RPID" -o "$WORK/perf.data" \
	    -- sleep "$N" >/dev/null 2>&1 &
	ppid=$!
	wrk -t2 -c"$CONNS" -d"${N}s" -s "$TOP/bench/store-http.lua" \
	    "http://127.0.0.1:$(cat "$WORK/port")/metrics" | grep '^BENCH'
	wait "$ppid" || true
	kill -TERM "$RPID"
	wait "$RPID" || true
	RPID=
	perf report -i "$WORK/perf.data" --no-children --sort dso,sym \
	    --percent-limit 0.7 --stdio 2>/dev/null | grep -v '^$' |
	    grep -E '^ +[0-9]' | head -60
	echo "by library (self):"
	perf report -i "$WORK/perf.data" --no-children --sort dso --stdio \
	    2>/dev/null | grep -E '^ +[0-9]' | head -15
	[ -n "${KEEP:-}" ] && cp "$WORK/perf.data" "$KEEP/"
	exit 0
fi

valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
    "$WORK/bin/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
    2>"$WORK/recv.err" &
RPID=$!
i=0
while [ ! -s "$WORK/port" ]; do
	sleep 0.2
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$WORK/recv.err" >&2; exit 1; }
done
# one warm-up request, then count from zero
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary \
    '{"ts":"2026-11-26T15:12:53.123Z","cpu_usage":1,"ram_total":2,"ram_free":1,"ram_used":1,"total_processes":1,"running_processes":1,"sleeping_processes":0,"stopped_processes":0,"zombie_processes":0}' \
    "http://127.0.0.1:$(cat "$WORK/port")/metrics"
callgrind_control -z "$RPID" >/dev/null
count() {
	mariadb --defaults-file="$WORK/db/admin.cnf" -N sm \
	    -e 'SELECT COUNT(*) FROM system_metrics' 2>/dev/null || echo 0
}
# each wrk thread stops after N/2 answers; wrk itself only at SIGINT
STOP_AFTER=$((N / 2)) wrk -t2 -c"$CONNS" -d3600s \
    -s "$TOP/bench/store-http.lua" \
    "http://127.0.0.1:$(cat "$WORK/port")/metrics" >"$WORK/wrk.out" &
wpid=$!
while [ "$(count)" -lt $((N + 1)) ]; do
	sleep 0.5
done
sleep 1
kill -INT "$wpid"
wait "$wpid" || true
grep '^BENCH' "$WORK/wrk.out"
kill -TERM "$RPID"
wait "$RPID" || true
RPID=
reqs=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$WORK/wrk.out")
# "COUNT FUNCTION" lines; clones (.part.0) and recursion ('2) folded in:
# own counts added up, inclusive ones the largest
ann() {
	callgrind_annotate --threshold=100 --auto=no --inclusive="$1" \
	    "$WORK/callgrind.out" 2>/dev/null |
	    awk -v incl="$1" '/^ *[0-9,]+ +\( *[0-9.]+%\) +[^ ]/ {
		line = $0
		sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
		sub(/ \[.*/, "", line)
		c = $1; gsub(",", "", c)
		n = split(line, a, ":"); f = a[n]
		sub("\x27.*", "", f); sub("\\..*", "", f)
		if (f == "PROGRAM TOTALS" || f == "clone" || f == "start_thread")
			next
		if (incl == "yes") { if (c + 0 > v[f]) v[f] = c + 0 }
		else v[f] += c }
	    END { for (f in v) print v[f], f }'
}
ann no >"$WORK/self.txt"
ann yes >"$WORK/incl.txt"
total=$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null |
    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
echo "requests $reqs, instructions $total, per request $((total / reqs))"
echo "inclusive instructions per request, by stage:"
for f in httpd_handler httpd_begin httpd_append body_decode record_scan \
    json_tokener_parse_ex record_from_json httpd_body_done httpd_answer \
    httpd_send body_answer_ok MHD_queue_response MHD_create_response_from_buffer \
    MHD_suspend_connection MHD_resume_connection httpd_connection \
    httpd_completed store_submit store_main store_commit_groups \
    store_insert_exact store_insert_bulk store_insert_rows \
    mysql_stmt_execute mysql_commit \
    store_finish SSL_write SSL_read __memset_avx2_unaligned_erms \
    malloc free calloc realloc; do
	awk -v f="$f" -v n="$reqs" '$2 == f {
	    printf("  %-32s %8.0f\n", f, $1 / n) }' "$WORK/incl.txt"
done
echo "top functions, own instructions per request:"
sort -rn "$WORK/self.txt" | head -30 |
    awk -v n="$reqs" '{ printf("  %8.0f  %s\n", $1 / n, $2) }'
[ -n "${KEEP:-}" ] && cp "$WORK/callgrind.out" "$KEEP/"
exit 0
