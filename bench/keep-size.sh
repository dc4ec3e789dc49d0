#!/bin/sh
# Retention by size on the replaced system's table (not partitioned: rows
# deleted in place, 2,000 a statement), on a private MariaDB of its own:
# the table of DESIGN.md plus sm-store's columns, ROWS rows rolled up;
# then REPS times, side by side: a writer alone (WRITES single-row
# INSERTs, each committed, one connection), and the same writer while
# sm-keep --raw-size takes the table to half its size (ANALYZE TABLE's
# figures): the pass's time, rows and statements, the writer's time; a
# second pass with the same limit (what it deletes: nothing, if the rows'
# size is not taken from the figures InnoDB does not shrink); the
# deleted rows put back and rolled up for the next round.
#
#   bench/keep-size.sh [ROWS [REPS]]   default 1000000 3
#
# Environment: SM_BIN (binaries to use instead of building), WRITES
# (default 3000), BENCH_DIR (default /var/tmp).  Not part of make check.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-1000000}
REPS=${2:-3}
WRITES=${WRITES:-3000}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/keep-size.XXXXXX")
. "$TOP/bench/bench-lib.sh"
bench_traps

bench_bin sm-keep sm-store
bench_db_start
sql() {
	db sql -N -B sm -e "$1"
}
now_ms() {
	date +%s%3N
}
# fill N: N rows of the replaced system's APIs, a second apart, older first
fill() {
	sql "INSERT INTO system_metrics (ram_total, ram_free, ram_used,
	    ram_percentage, cpu_usage, cpu_free, running_processes,
	    total_processes, sleeping_processes, zombie_processes,
	    stopped_processes, data_source, created_at) SELECT 3913,
	    2413 - seq % 100, 1500 + seq % 100, 38 + seq % 7, seq % 100,
	    100 - seq % 100, 1 + seq % 3, 113, 110, 0, 0,
	    IF(seq % 2, 'python_api', 'nodejs_api1'),
	    UTC_TIMESTAMP() - INTERVAL $1 SECOND + INTERVAL seq SECOND
	    FROM seq_1_to_$1"
}
keep() {
	"$WORK/bin/sm-keep" --settle 0 --raw 0 --minute 0 --hour 0 "$@"
}
# figure N: the Nth figure of the last "deleted by size" line
figure() {
	n='\([0-9]*\)'
	sed -n "s/.*deleted by size $n raw rows, .* in $n statements.*/\\1 \\2/p" \
	    "$WORK/keep.err" | tail -1 | cut -d' ' -f"$1"
}

db sql sm <"$TOP/tests/fixtures/replaced-table.sql"
"$WORK/bin/sm-store" </dev/null	# its columns and keys added
t0=$(now_ms)
fill "$ROWS"
t1=$(now_ms)
keep 2>"$WORK/keep.err"
t2=$(now_ms)
echo "filled $ROWS rows in $((t1 - t0)) ms, rolled up in $((t2 - t1)) ms"
i=0
while [ $i -lt "$WRITES" ]; do
	echo "INSERT INTO system_metrics (ram_total, data_source) VALUES
	    (3913, 'writer');"
	i=$((i + 1))
done >"$WORK/writes.sql"

printf 'rep\twriter alone ms\twriter with trim ms\ttrim pass ms\trows deleted\tstatements\tsecond pass deleted\tbytes before\tlimit\tbytes after (ANALYZE)\n'
rep=1
while [ $rep -le "$REPS" ]; do
	t0=$(now_ms)
	db sql sm <"$WORK/writes.sql"
	alone=$(($(now_ms) - t0))
	keep 2>/dev/null	# the writer's rows rolled up
	sql "ANALYZE TABLE system_metrics" >/dev/null
	bytes=$(sql "SELECT DATA_LENGTH + INDEX_LENGTH FROM
	    information_schema.TABLES WHERE TABLE_SCHEMA = 'sm' AND
	    TABLE_NAME = 'system_metrics'")
	limit=$((bytes / 2))
	t0=$(now_ms)
	db sql sm <"$WORK/writes.sql" &
	writer=$!
	keep --raw-size "$limit" -v 2>"$WORK/keep.err"
	pass=$(($(now_ms) - t0))
	wait $writer
	with=$(($(now_ms) - t0))
	gone=$(figure 1)
	stmts=$(figure 2)
	keep --raw-size "$limit" -v 2>"$WORK/keep.err"
	again=$(figure 1)
	sql "ANALYZE TABLE system_metrics" >/dev/null
	after=$(sql "SELECT DATA_LENGTH + INDEX_LENGTH FROM
	    information_schema.TABLES WHERE TABLE_SCHEMA = 'sm' AND
	    TABLE_NAME = 'system_metrics'")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $rep "$alone" \
	    "$with" "$pass" "$gone" "$stmts" "$again" "$bytes" "$limit" \
	    "$after"
	fill "$gone"
	keep 2>/dev/null
	rep=$((rep + 1))
done
