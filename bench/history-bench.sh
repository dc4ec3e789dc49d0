#!/bin/sh
# The past at size (sm-keep(1), sm-tail(1) "Range queries"), on a private
# MariaDB of its own with Debian's default InnoDB settings:
#
#   1. a table as sm-store makes it (partitioned by day, made when the
#      span began, under faketime), filled with HOSTS hosts x HOURS hours
#      at one sample a second ending now, hosts interleaved as they arrive
#      (LOAD DATA, a million rows a statement); bytes on disk per row;
#   2. sm-keep's first pass over all of it (elapsed, server CPU);
#   3. range queries through lib/history (bench/history-latency.c), the
#      tier against GROUP BY over the raw rows (--tier raw), same answer:
#      one host over the span (or 7 days) at 1-minute steps, and every
#      host over the span at 1-hour steps; p50 and p99 of RUNS (raw:
#      RAW_RUNS);
#   3b. the page: a host's 7-day view in chromium (bench/web-hostview.js)
#      against sm-tail --listen on the table, RUNS fresh pages;
#   4. keeping up: sm-store < 1,000,000 fresh records alone, then with
#      sm-keep -f --interval 5 beside it, REPS pairs: the CPU sm-keep adds
#      (server and client) against what ingest costs, and how far behind
#      sm-keep is when ingest ends; also sm-keep's own CPU alone (its
#      process and its connection's server thread) against ingest's;
#   5. dropping days: wrk posting single records to sm-store --listen for
#      WRK_SECS, alone and with sm-keep --raw 1h dropping the past days'
#      partitions in the middle: the pass's time and the writers' p99;
#   6. a host-year at the default tiers (7d raw, 90d minutes, 2y hours).
#
#   bench/history-bench.sh [HOSTS [HOURS [RUNS]]]   default 200 28 20
#
# Needs about 15 GB under BENCH_DIR (default /var/tmp) at the default
# size; everything is removed at the end.  Not part of `make check`.
# Environment: SM_BIN (binaries to use instead of building), RAW_RUNS
# (default 5), REPS (default 3), WRK_SECS (default 20), STOP_AFTER (1:
# stop after the table's bytes; 2: after the first pass; 3: after the
# range queries and the page, 3b), ONLY (4: step 4 alone, on an empty
# table; HOSTS and HOURS unused; 5: steps 1, 2 and 5), DROP_ROUNDS (step
# 5 as that many pairs of a pass that keeps and one that drops the oldest
# day: HOURS should span DROP_ROUNDS + 1 days).
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${1:-200}
HOURS=${2:-28}
RUNS=${3:-20}
RAW_RUNS=${RAW_RUNS:-5}
REPS=${REPS:-3}
WRK_SECS=${WRK_SECS:-20}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/sm-history-bench.XXXXXX")
PIDS=

. "$TOP/bench/bench-lib.sh"
bench_traps

say() { echo "history-bench: $*" >&2; }
now_s() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# CPU seconds of PIDs so far (utime + stime)
cpu() {
	for p in "$@"; do
		cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo "0 0"
	done | awk -v hz="$(getconf CLK_TCK)" '{ t += $1 + $2 }
	    END { printf "%.2f", t / hz }'
}

# CPU seconds of PID's thread TID (none: 0) and of PIDS
task_cpu() {
	t=$1
	shift
	{
		if [ -n "$1" ]; then
			cut -d' ' -f14,15 "/proc/$t/task/$1/stat" 2>/dev/null ||
			    echo "0 0"
		fi
		shift
		for p in "$@"; do
			cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null ||
			    echo "0 0"
		done
	} | awk -v hz="$(getconf CLK_TCK)" '{ t += $1 + $2 }
	    END { printf "%.2f", t / hz }'
}

for c in faketime wrk; do
	command -v $c >/dev/null || { say "$c missing"; exit 2; }
done
bench_bin sm-store sm-keep sm-tail
BIN=$WORK/bin
if [ -n "${SM_BIN:-}" ]; then
	make -s -C "$TOP" all >&2
	LIBSM=$TOP/build/libsm.a
else
	LIBSM=$WORK/build/libsm.a
fi
cc -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lib" \
    $(pkg-config --cflags libmariadb json-c) -o "$WORK/history-latency" \
    "$TOP/bench/history-latency.c" "$LIBSM" \
    $(pkg-config --libs libmariadb json-c) -pthread -lm
bench_db_start
SM_DB_SSL_MODE=DISABLED
export SM_DB SM_DB_PASSWORD
SQL="mariadb --defaults-file=$WORK/db/admin.cnf sm"
server=$(cat "$WORK/db/mysqld.pid")
say "MariaDB $($SQL -N -e 'SELECT VERSION()'), buffer pool $($SQL -N -e \
    'SELECT @@innodb_buffer_pool_size DIV 1048576') MiB, $(nproc) CPUs"

# step 4, a function: ONLY=4 runs it alone
keepup() {
	echo "== 4. keeping up: ingest alone and with sm-keep -f beside it"
	gen() {
		awk -v n=1000000 -v tag="$1" -v t0="$(date +%s)" 'BEGIN {
			for (i = 0; i < n; i++) {
				t = t0 - 60 + int(i / 50000)
				printf "{\"id\":\"%s-0000-7000-8000-%012x\",\"ts\":\"%s.%03dZ\",\"host\":\"k%03d\",\"collector\":\"procfs\",\"cpu_usage\":%d.5,\"cpu_free\":%d.5,\"ram_total\":4000,\"ram_free\":2000,\"ram_available\":2500,\"ram_used\":1500,\"ram_percentage\":37.5,\"total_processes\":120,\"running_processes\":2,\"sleeping_processes\":118,\"stopped_processes\":0,\"zombie_processes\":0}\n", tag, i, strftime("%Y-%m-%dT%H:%M:%S", t, 1), i % 1000, i % 50, i % 90, 98 - i % 90
			}
		}'
	}
	"$BIN/sm-keep" --settle 0 >/dev/null 2>&1
	for r in $(seq 1 "$REPS"); do
		for mode in alone keep; do
			m=1
			[ $mode = alone ] || m=2
			gen "$(printf '%04x%04x' "$r" "$m")" >"$WORK/in.ndjson"
			kp=
			tid=
			if [ $mode = keep ]; then
				"$BIN/sm-keep" -f --interval 5 --settle 0 \
				    2>"$WORK/keep.err" &
				kp=$!
				PIDS="$PIDS $kp"
				# the server's thread for sm-keep's connection
				until [ -n "$tid" ]; do
					sleep 0.1
					tid=$($SQL -N -e "SELECT TID FROM
					    information_schema.PROCESSLIST
					    WHERE USER = 'sm' LIMIT 1")
				done
			fi
			c0=$(cpu "$server" $kp)
			k0=$(task_cpu "$server" "$tid" $kp)
			t0=$(now_s)
			"$BIN/sm-store" --ssl-mode DISABLED <"$WORK/in.ndjson" \
			    2>"$WORK/store.err" &
			sp=$!
			cs=0
			while kill -0 $sp 2>/dev/null; do
				cs=$(cpu $sp)
				sleep 0.2
			done
			wait $sp
			t1=$(now_s)
			c1=$(cpu "$server" $kp)
			k1=$(task_cpu "$server" "$tid" $kp)
			lag=-
			if [ $mode = keep ]; then
				# how long after ingest until the tiers have every row
				maxid=$($SQL -N -e "SELECT MAX(id) FROM system_metrics")
				while [ "$($SQL -N -e "SELECT raw_id FROM sm_keep_state")" -lt "$maxid" ]; do
					sleep 0.1
				done
				lag=$(echo "$(now_s) - $t1" | bc)
				kill -TERM $kp
				wait $kp || true
			else
				"$BIN/sm-keep" --settle 0 >/dev/null 2>&1
			fi
			printf '%s %s elapsed %.1f s cpu %.1f s (server+sm-keep) + %.1f s (sm-store) lag %s s own %.2f s\n' \
			    "$r" "$mode" "$(echo "$t1 - $t0" | bc)" \
			    "$(echo "$c1 - $c0" | bc)" "$cs" "$lag" \
			    "$(echo "$k1 - $k0" | bc)" |
			    tee -a "$WORK/keepup"
		done
	done
	# fields: $7 server (+ sm-keep), $11 sm-store, $18 sm-keep's own
	awk '$2 == "alone" { a[$1] = $7 + $11 } $2 == "keep" { k[$1] = $7 + $11 }
	    END { for (r in a) printf "%.4f\n", (k[r] - a[r]) / a[r] }' \
	    "$WORK/keepup" | median |
	    awk '{ printf "sm-keep adds %.1f%% to the CPU of ingest (median of pairs)\n", $1 * 100 }'
	# its own: sm-keep's process and its connection's server thread
	awk '$2 == "alone" { a[$1] = $7 + $11 } $2 == "keep" { k[$1] = $18 }
	    END { for (r in a) printf "%.4f\n", k[r] / a[r] }' \
	    "$WORK/keepup" | median |
	    awk '{ printf "sm-keep itself (process + its server thread): %.1f%% of the CPU of ingest (median of pairs)\n", $1 * 100 }'
}

# step 5, a function: ONLY=5 runs it after steps 1 and 2
dropping() {
	echo "== 5. dropping days while sm-store --listen takes single records"
	"$BIN/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
	    --ssl-mode DISABLED --source wrk 2>"$WORK/recv.err" &
	PIDS="$PIDS $!"
	while [ ! -s "$WORK/port" ]; do sleep 0.1; done
	URL=http://127.0.0.1:$(cat "$WORK/port")
	$SQL -N -e "SELECT GROUP_CONCAT(CONCAT(PARTITION_NAME, ' ', TABLE_ROWS)
	    SEPARATOR ', ') FROM information_schema.PARTITIONS WHERE
	    TABLE_NAME = 'system_metrics'" | sed 's/^/partitions, rows: /'
	# a pass without retention, then one that drops: the same rollup work;
	# with DROP_ROUNDS, that many pairs, each drop one day younger than the last
	modes="keep drop keep2"
	if [ "${DROP_ROUNDS:-0}" -gt 0 ]; then
		modes=
		r=1
		while [ "$r" -le "$DROP_ROUNDS" ]; do
			modes="$modes keep$r drop$r"
			r=$((r + 1))
		done
	fi
	days=$(( (HOURS + 23) / 24 ))
	for mode in $modes; do
		BENCH_TS=$(date -u '+%Y-%m-%dT%H:%M:%S.000Z') wrk -t2 -c32 \
		    -d"${WRK_SECS}s" --latency -s "$TOP/bench/store-http.lua" "$URL" \
		    >"$WORK/wrk.$mode" 2>&1 &
		wp=$!
		sleep $((WRK_SECS / 3))
		t0=$(now_s)
		if [ $mode = drop ]; then
			"$BIN/sm-keep" --settle 0 --raw 1h -v 2>&1 | grep -i partition
		elif [ "${mode#drop}" != "$mode" ]; then
			"$BIN/sm-keep" --settle 0 --raw $((days - ${mode#drop}))d \
			    -v 2>&1 | grep -i partition
		else
			"$BIN/sm-keep" --settle 0 --raw 0 --minute 0 --hour 0
		fi
		echo "$mode: the pass took $(echo "$(now_s) - $t0" | bc) s"
		wait $wp
		echo "$mode: $(grep -E '^ +99%' "$WORK/wrk.$mode" | awk '{ print "p99", $2 }'), max $(awk '$1 == "Latency" { print $4; exit }' "$WORK/wrk.$mode"), $(grep 'Requests/sec' "$WORK/wrk.$mode")"
	done
}

[ "${ONLY:-}" != 4 ] || { keepup; exit 0; }

end=$(( $(date +%s) - 120 ))
start=$(( end - HOURS * 3600 ))
echo "== 1. $HOSTS hosts x $HOURS h at 1 Hz: $((HOSTS * HOURS * 3600)) rows"
faketime "$(date -u -d "@$start" '+%Y-%m-%d %H:%M:%S')" "$BIN/sm-store" \
    --ssl-mode DISABLED </dev/null 2>/dev/null
$SQL -N -e "SELECT GROUP_CONCAT(PARTITION_NAME) FROM
    information_schema.PARTITIONS WHERE TABLE_NAME = 'system_metrics'" |
    sed 's/^/partitions: /'
t0=$(now_s)
mkdir "$WORK/load"
bench_history_tsv "$HOSTS" "$start" "$end" "$WORK/load"
bench_history_load "$SQL" "$WORK/load"
rm -rf "$WORK/load"
t1=$(now_s)
$SQL -e "ANALYZE TABLE system_metrics" >/dev/null
rows=$($SQL -N -e "SELECT COUNT(*) FROM system_metrics")
echo "loaded $rows rows in $(echo "$t1 - $t0" | bc) s"
$SQL -N -e "SELECT DATA_LENGTH, INDEX_LENGTH, (DATA_LENGTH + INDEX_LENGTH)
    / $rows FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sm' AND
    TABLE_NAME = 'system_metrics'" |
    awk '{ printf "raw table: data %.0f MiB, indexes %.0f MiB, %.1f bytes a row\n", $1 / 1048576, $2 / 1048576, $3 }'
# on disk: the blocks the files hold (page compression punches holes)
$SQL -e "FLUSH TABLES system_metrics FOR EXPORT; UNLOCK TABLES" >/dev/null
sleep 2
raw_bytes=$(du -k --apparent-size "$WORK"/db/data/sm/system_metrics#P#*.ibd |
    awk -v r="$rows" '{ s += $1 } END { printf "%.1f", s * 1024 / r }')
raw_disk=$(du -k "$WORK"/db/data/sm/system_metrics#P#*.ibd |
    awk -v r="$rows" '{ s += $1 } END { printf "%.1f", s * 1024 / r }')
echo "raw table files: $raw_bytes bytes a row in size, $raw_disk on disk"
raw_bytes=$raw_disk
[ "${STOP_AFTER:-}" != 1 ] || exit 0

echo "== 2. sm-keep's first pass"
c0=$(cpu "$server")
t0=$(now_s)
"$BIN/sm-keep" --settle 0 --raw 0 --minute 0 --hour 0 -v 2>&1 | tail -n 1
t1=$(now_s)
echo "elapsed $(echo "$t1 - $t0" | bc) s, server CPU $(echo "$(cpu "$server") - $c0" | bc) s"
for t in 1m 1h; do
	$SQL -e "ANALYZE TABLE system_metrics_$t" >/dev/null
	$SQL -N -e "SELECT TABLE_ROWS, (DATA_LENGTH + INDEX_LENGTH) /
	    (SELECT COUNT(*) FROM system_metrics_$t) FROM
	    information_schema.TABLES WHERE TABLE_SCHEMA = 'sm' AND
	    TABLE_NAME = 'system_metrics_$t'" |
	    awk -v t=$t '{ printf "tier %s: %d rows, %.1f bytes a row\n", t, $1, $2 }'
done
$SQL -e "FLUSH TABLES system_metrics_1m, system_metrics_1h FOR EXPORT;
    UNLOCK TABLES" >/dev/null
sleep 2
[ "${STOP_AFTER:-}" != 2 ] || exit 0
[ "${ONLY:-}" != 5 ] || { dropping; exit 0; }
disk_per_row() {
	n=$($SQL -N -e "SELECT COUNT(*) FROM $1")
	du -k "$WORK/db/data/sm/$1.ibd" |
	    awk -v r="$n" '{ printf "%.1f", $1 * 1024 / r }'
}
b1m=$(disk_per_row system_metrics_1m)
b1h=$(disk_per_row system_metrics_1h)
echo "tiers on disk: minute $b1m, hour $b1h bytes a row"

echo "== 3. range queries: the tier against GROUP BY over raw rows"
from=$(( (end - (HOURS > 168 ? 168 : HOURS) * 3600) * 1000 ))
to=$(( end * 1000 ))
q() {
	"$WORK/history-latency" "$@"
}
q 1m h0001 $from $to 60000 "$RUNS" | tee "$WORK/q1t"
q raw h0001 $from $to 60000 "$RAW_RUNS" | tee "$WORK/q1r"
awk 'NR == FNR { t = $10; tp = $6; next }
    { printf "one host, 1m steps: same points %s; p99 raw / tier = %.0f\n",
    ($6 == tp ? "yes" : "NO"), $10 / t }' "$WORK/q1t" "$WORK/q1r"
q 1h - $(( start * 1000 )) $to 3600000 "$RUNS" | tee "$WORK/q2t"
q raw - $(( start * 1000 )) $to 3600000 "$RAW_RUNS" | tee "$WORK/q2r"
awk 'NR == FNR { t = $10; tp = $6; next }
    { printf "all hosts, 1h steps: same points %s; p99 raw / tier = %.0f\n",
    ($6 == tp ? "yes" : "NO"), $10 / t }' "$WORK/q2t" "$WORK/q2r"

echo "== 3b. the page: one host's 7-day view in chromium"
if [ -d "$TOP/tests/web/node_modules/puppeteer-core" ]; then
	"$BIN/sm-tail" --listen 127.0.0.1:0 --port-file "$WORK/tail.port" \
	    2>"$WORK/tail.err" &
	PIDS="$PIDS $!"
	n=0
	until [ -s "$WORK/tail.port" ]; do
		n=$((n + 1))
		[ $n -lt 600 ] || { say "sm-tail: $(cat "$WORK/tail.err")"; exit 1; }
		sleep 0.1
	done
	NODE_PATH=$TOP/tests/web/node_modules \
	    URL="http://127.0.0.1:$(cat "$WORK/tail.port")/" HOST=h0001 \
	    RUNS=$RUNS PROFILE=$WORK/profile timeout 600 \
	    node "$TOP/bench/web-hostview.js"
else
	say "no puppeteer-core (tests/it/tail-web-page.sh installs it): 3b skipped"
fi
[ "${STOP_AFTER:-}" != 3 ] || exit 0

keepup

dropping
[ "${DROP_ROUNDS:-0}" -eq 0 ] || exit 0

echo "== 6. a host-year at the default tiers, one sample a second"
awk -v r="$raw_bytes" -v m="$b1m" -v h="$b1h" 'BEGIN {
	raw = 7 * 86400 * r; mi = 90 * 1440 * m; ho = 730 * 24 * h
	printf "raw 7d %.0f MiB + minutes 90d %.0f MiB + hours 2y %.0f MiB = %.0f MiB a host\n", raw / 1048576, mi / 1048576, ho / 1048576, (raw + mi + ho) / 1048576
}'
