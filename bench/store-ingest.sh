#!/bin/sh
# sm-store's stdin ingest against the ceiling and the replaced system's way:
#
#   a. sm-store < N canonical records                (prepared multi-row
#      batches, one transaction per --batch rows)
#   b. LOAD DATA LOCAL INFILE of the same rows with the mariadb client
#   c. single-row INSERTs in autocommit mode with the mariadb client, as the
#      replaced Flask/Express APIs did (on the first M rows only: at a few
#      thousand rows a second the whole N would take hours; M=0 skips it)
#   d. the batched HTTP pipeline: sm-split --parallel 64 --batch 100 into
#      two sm-store --listen receivers (SPLIT=0 skips it)
#
# into the same table (created by sm-store, emptied before each run), on a
# private MariaDB of its own with Debian's default, durable InnoDB settings.
# All three connect over TCP to 127.0.0.1, without TLS.
#
#   bench/store-ingest.sh [N [REPS [M]]]   default 1000000 3 20000
#
# Prints each run and the medians (rows/s) and ratios.  Not part of
# `make check`.  Environment: SM_BIN (use the sm-store and sm-split there
# instead of building), BATCH (sm-store --batch; unset, sm-store's own
# default), SPLIT; BASE_BIN=DIR (and BASE_BATCH, likewise) runs that
# sm-store too, in each run after case a: a build before a change, side by
# side with it and LOAD DATA, into the table that build makes (database
# sm_base: a change to the table is measured too).
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
REPS=${2:-3}
M=${3:-20000}
BATCH=${BATCH:-}
SPLIT=${SPLIT:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-store-bench.XXXXXX")
RPIDS=

. "$TOP/bench/bench-lib.sh"
cleanup() {
	for p in $RPIDS; do kill "$p" 2>/dev/null || true; done
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

bench_bin sm-store sm-split
bench_db_start
SQL="mariadb --defaults-file=$WORK/db/admin.cnf"
# the sm user over TCP, password from an option file, for the client runs
printf '[client]\nuser=sm\npassword=%s\nhost=127.0.0.1\nport=%s\n' \
    "$SM_DB_PASSWORD" "$DB_PORT" >"$WORK/tcp.cnf"
chmod 600 "$WORK/tcp.cnf"
CLIENT="mariadb --defaults-file=$WORK/tcp.cnf --skip-ssl --protocol=TCP sm"

echo "store-ingest: generating $N records" >&2
# one pass: the NDJSON for sm-store, the same rows as TSV for LOAD DATA
# (columns in sm-store's insert order), and INSERTs for the first M
awk -v n="$N" -v m="$M" -v ndjson="$WORK/recs.ndjson" \
    -v tsv="$WORK/recs.tsv" -v sql="$WORK/inserts.sql" 'BEGIN {
	srand(7)
	stamp = sprintf("%08x", int(rand() * 2147483647))
	cols = "ram_total, ram_free, ram_used, ram_percentage, " \
	    "cpu_usage, cpu_free, running_processes, " \
	    "total_processes, sleeping_processes, zombie_processes, " \
	    "stopped_processes, data_source, sample_id, host, collector, " \
	    "sampled_at, ram_available, threads"
	for (i = 0; i < n; i++) {
		id = sprintf("%s-%04x-7%03x-8%03x-%012x", stamp,
		    int(i / 68719476736) % 65536, int(i / 16777216) % 4096,
		    int(i / 4096) % 4096, i)
		day = 1 + int(i / 86400) % 28
		hms = sprintf("%02d:%02d:%02d", int(i / 3600) % 24,
		    int(i / 60) % 60, i % 60)
		ms = sprintf("%03d", i % 1000)
		host = "host-" (i % 64)
		cpu = (i % 10000) / 100
		free = 1000 + i % 2000
		used = 8000 - free - 500
		avail = 8000 - used
		pct = int(used * 10000 / 8000 + 0.5) / 100
		run = 1 + i % 4; sleep = 200 + i % 50; stop = i % 2; zomb = i % 3
		total = run + sleep + stop + zomb
		printf("{\"id\":\"%s\",\"ts\":\"2026-02-%02dT%s.%sZ\"," \
		    "\"host\":\"%s\",\"collector\":\"procfs\"," \
		    "\"cpu_usage\":%.2f,\"cpu_free\":%.2f,\"ram_total\":8000," \
		    "\"ram_free\":%d,\"ram_available\":%d,\"ram_used\":%d," \
		    "\"ram_percentage\":%.2f,\"total_processes\":%d," \
		    "\"running_processes\":%d,\"sleeping_processes\":%d," \
		    "\"stopped_processes\":%d,\"zombie_processes\":%d," \
		    "\"threads\":%d}\n", id, day, hms, ms, host, cpu,
		    100 - cpu, free, avail, used, pct, total, run, sleep, stop,
		    zomb, total * 3) >ndjson
		printf("8000\t%d\t%d\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t" \
		    "bench\t%s\t%s\tprocfs\t" \
		    "2026-02-%02d %s.%s\t%d\t%d\n", free, used, pct, cpu,
		    100 - cpu, run, total, sleep, zomb, stop, id,
		    host, day, hms, ms, avail, total * 3) >tsv
		if (i < m)
			printf("INSERT INTO system_metrics (%s) VALUES (8000, " \
			    "%d, %d, %.2f, %.2f, %.2f, %d, %d, %d, %d, %d, " \
			    "\"bench\", \"%s\", \"%s\", " \
			    "\"procfs\", \"2026-02-%02d %s.%s\", %d, %d);\n",
			    cols, free, used, pct, cpu, 100 - cpu, run, total,
			    sleep, zomb, stop, id, host, day, hms, ms,
			    avail, total * 3) >sql
	}
}'
LOAD="LOAD DATA LOCAL INFILE '$WORK/recs.tsv' INTO TABLE system_metrics
    (ram_total, ram_free, ram_used, ram_percentage, cpu_usage, cpu_free,
    running_processes, total_processes, sleeping_processes,
    zombie_processes, stopped_processes, data_source,
    sample_id, host, collector, sampled_at, ram_available, threads)"

# the table, as sm-store makes it
head -n 1 "$WORK/recs.ndjson" | SM_DB_PASSWORD="$SM_DB_PASSWORD" \
    "$WORK/bin/sm-store" --db "$SM_DB" 2>/dev/null
count() { $SQL -N "${1:-sm}" -e 'SELECT COUNT(*) FROM system_metrics'; }
empty() { $SQL "${1:-sm}" -e 'TRUNCATE system_metrics'; }
if [ -n "${BASE_BIN:-}" ]; then
	$SQL -e "CREATE DATABASE sm_base; GRANT ALL ON sm_base.* TO
	    'sm'@'127.0.0.1'; GRANT ALL ON sm_base.* TO 'sm'@'localhost'"
	head -n 1 "$WORK/recs.ndjson" | SM_DB_PASSWORD="$SM_DB_PASSWORD" \
	    "$BASE_BIN/sm-store" --db "${SM_DB%/sm}/sm_base" 2>/dev/null
fi

: >"$WORK/store.rate"
: >"$WORK/load.rate"
: >"$WORK/single.rate"
: >"$WORK/ratio"
: >"$WORK/split.rate"
: >"$WORK/split.ratio"
: >"$WORK/base.rate"
: >"$WORK/base.ratio"
: >"$WORK/new.ratio"
BASE_BATCH=${BASE_BATCH:-}

# two receivers for the split, as sm-store --listen runs by default
receivers() {
	RPIDS=
	URLS=
	for name in route-a route-b; do
		rm -f "$WORK/$name.port"
		SM_DB_PASSWORD="$SM_DB_PASSWORD" "$WORK/bin/sm-store" \
		    --db "$SM_DB" --ssl-mode DISABLED --listen 127.0.0.1:0 \
		    --port-file "$WORK/$name.port" 2>"$WORK/$name.err" &
		RPIDS="$RPIDS $!"
		while [ ! -s "$WORK/$name.port" ]; do sleep 0.1; done
		URLS="$URLS http://127.0.0.1:$(cat "$WORK/$name.port")/metrics"
	done
}
stop_receivers() {
	for p in $RPIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	RPIDS=
}

# case a, the base build and case b, each timed into its rate file
rate() {
	echo "$N $t0 $t1" | awk '{ printf("%.0f\n", $1 / ($3 - $2)) }' >>"$1"
}
# run_sm DIR BATCH NAME [DB]: DIR/sm-store [--batch BATCH] into NAME.rate,
# storing into database DB (sm)
run_sm() {
	empty "${4:-sm}"
	t0=$(now)
	SM_DB_PASSWORD="$SM_DB_PASSWORD" "$1/sm-store" \
	    --db "${SM_DB%/sm}/${4:-sm}" --ssl-mode DISABLED \
	    ${2:+--batch "$2"} <"$WORK/recs.ndjson" 2>"$WORK/$3.err"
	t1=$(now)
	[ "$(count "${4:-sm}")" = "$N" ] || { cat "$WORK/$3.err"; exit 1; }
	rate "$WORK/$3.rate"
}
run_load() {
	empty
	t0=$(now)
	$CLIENT --local-infile=1 -e "$LOAD"
	t1=$(now)
	[ "$(count)" = "$N" ] || { echo "LOAD DATA: $(count) rows"; exit 1; }
	rate "$WORK/load.rate"
}
run_base() {
	[ -z "${BASE_BIN:-}" ] ||
	    run_sm "$BASE_BIN" "$BASE_BATCH" base sm_base
}

for r in $(seq "$REPS"); do
	# odd runs a, base, b; even runs b, base, a: a load that drifts
	# within a run favours neither side of the ratio
	if [ $((r % 2)) = 1 ]; then
		run_sm "$WORK/bin" "$BATCH" store
		run_base
		run_load
	else
		run_load
		run_base
		run_sm "$WORK/bin" "$BATCH" store
	fi

	if [ "$SPLIT" = 1 ]; then
		empty
		receivers
		t0=$(now)
		# shellcheck disable=SC2086
		"$WORK/bin/sm-split" --parallel 64 --batch 100 $URLS \
		    <"$WORK/recs.ndjson" >/dev/null 2>"$WORK/split.err" ||
		    { cat "$WORK/split.err"; exit 1; }
		t1=$(now)
		stop_receivers
		[ "$(count)" = "$N" ] ||
		    { echo "sm-split: $(count) rows"; exit 1; }
		echo "$N $t0 $t1" | awk '{ printf("%.0f\n", $1 / ($3 - $2)) }' \
		    >>"$WORK/split.rate"
		paste "$WORK/split.rate" "$WORK/load.rate" | tail -n 1 |
		    awk '{ printf("%.3f\n", $1 / $2) }' >>"$WORK/split.ratio"
		echo "run $r: sm-split --batch 100 into 2 receivers" \
		    "$(tail -n 1 "$WORK/split.rate") rows/s, / LOAD DATA" \
		    "$(tail -n 1 "$WORK/split.ratio")"
	fi

	if [ "$M" -gt 0 ]; then
		empty
		t0=$(now)
		$CLIENT <"$WORK/inserts.sql"
		t1=$(now)
		[ "$(count)" = "$M" ] ||
		    { echo "INSERTs: $(count) rows"; exit 1; }
		echo "$M $t0 $t1" |
		    awk '{ printf("%.0f\n", $1 / ($3 - $2)) }' \
		    >>"$WORK/single.rate"
	else
		echo 1 >>"$WORK/single.rate"
	fi
	# the same run's figures side by side: the machine's load cancels out
	paste "$WORK/store.rate" "$WORK/load.rate" | tail -n 1 |
	    awk '{ printf("%.3f\n", $1 / $2) }' >>"$WORK/ratio"
	if [ -n "${BASE_BIN:-}" ]; then
		paste "$WORK/base.rate" "$WORK/load.rate" | tail -n 1 |
		    awk '{ printf("%.3f\n", $1 / $2) }' >>"$WORK/base.ratio"
		paste "$WORK/store.rate" "$WORK/base.rate" | tail -n 1 |
		    awk '{ printf("%.3f\n", $1 / $2) }' >>"$WORK/new.ratio"
		echo "run $r: base sm-store ${BASE_BATCH:+--batch $BASE_BATCH}" \
		    "$(tail -n 1 "$WORK/base.rate") rows/s, / LOAD DATA" \
		    "$(tail -n 1 "$WORK/base.ratio"); sm-store / base" \
		    "$(tail -n 1 "$WORK/new.ratio")"
	fi
	single=
	[ "$M" -gt 0 ] && single="single-row INSERTs $(tail -n 1 \
	    "$WORK/single.rate") rows/s,"
	echo "run $r: sm-store $(tail -n 1 "$WORK/store.rate") rows/s," \
	    "LOAD DATA $(tail -n 1 "$WORK/load.rate") rows/s, $single" \
	    "sm-store / LOAD DATA $(tail -n 1 "$WORK/ratio")"
done
s=$(median <"$WORK/store.rate")
l=$(median <"$WORK/load.rate")
i=$(median <"$WORK/single.rate")
echo "median of $REPS runs, $N rows (single-row INSERTs: $M rows):"
echo "  sm-store ${BATCH:+--batch $BATCH}   $s rows/s"
echo "  LOAD DATA LOCAL INFILE   $l rows/s"
[ "$M" -gt 0 ] && echo "  single-row INSERTs       $i rows/s"
echo "  sm-store / LOAD DATA, median of the runs' ratios:" \
    "$(median <"$WORK/ratio")"
if [ -n "${BASE_BIN:-}" ]; then
	echo "  base sm-store ${BASE_BATCH:+--batch $BASE_BATCH}" \
	    "$(median <"$WORK/base.rate") rows/s"
	echo "  base sm-store / LOAD DATA, median of the runs' ratios:" \
	    "$(median <"$WORK/base.ratio")"
	echo "  sm-store / base sm-store, median of the runs' ratios:" \
	    "$(median <"$WORK/new.ratio")"
fi
if [ "$SPLIT" = 1 ]; then
	echo "  sm-split --batch 100 -> 2 x sm-store --listen" \
	    "$(median <"$WORK/split.rate") rows/s"
	echo "  sm-split pipeline / LOAD DATA, median of the runs' ratios:" \
	    "$(median <"$WORK/split.ratio")"
fi
[ "$M" -gt 0 ] || exit 0
echo "$s $i" | awk '{ printf("  sm-store / single-row INSERTs = %.0fx\n", \
    $1 / $2) }'
