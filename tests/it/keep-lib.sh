# Helpers for the sm-keep and range-query tests (sourced, not run), after
# store-lib.sh: records spread over the past hours, and the tiers checked
# against GROUP BY over the raw rows.

KEEP="$SM_BIN/sm-keep"
FIELDS="cpu_usage cpu_free ram_total ram_free ram_available ram_used
ram_percentage total_processes running_processes sleeping_processes
stopped_processes zombie_processes threads"

# past_records N HOSTS AGO_S EVERY_S TAG: N records per host (HOSTS, a
# space-separated list), sample times from AGO_S seconds ago, EVERY_S
# apart; figures with two decimals at most, threads missing from every
# fifth record; ids from TAG (8 hex digits).
past_records() {
	python3 - "$@" <<'EOF'
import sys, time, random
n, hosts, ago, every, tag = (int(sys.argv[1]), sys.argv[2].split(),
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
now = time.time()
rnd = random.Random(int(tag, 16))
k = 0
for h, host in enumerate(hosts):
    for i in range(n):
        t = now - ago + i * every
        ms = int(t * 1000)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
        cpu = rnd.randrange(0, 10001) / 100
        used = rnd.randrange(500, 3500)
        rec = ('{"id":"%s-0000-7000-8000-%012x","ts":"%s.%03dZ",'
            '"host":"%s","collector":"procfs","cpu_usage":%.2f,'
            '"cpu_free":%.2f,"ram_total":4000,"ram_free":%d,'
            '"ram_available":%d,"ram_used":%d,"ram_percentage":%.2f,'
            '"total_processes":%d,"running_processes":%d,'
            '"sleeping_processes":%d,"stopped_processes":%d,'
            '"zombie_processes":%d' % (tag, k, ts, ms % 1000, host, cpu,
            100 - cpu, 4000 - used - 200, 4000 - used, used,
            round(100 * used / 4000, 2), 110 + rnd.randrange(50),
            rnd.randrange(5), 90 + rnd.randrange(9), rnd.randrange(2),
            rnd.randrange(2)))
        if k % 5:
            rec += ',"threads":%d' % (150 + rnd.randrange(100))
        print(rec + '}')
        k += 1
EOF
}

# raw_dump BUCKET_FORMAT: per (host, source, bucket) of the
# raw table, the count and each field's n, min, max and sum, sorted.
raw_dump() {
	cols=
	for f in $FIELDS; do
		case $f in
		cpu_*|ram_percentage)
			# as the tier types them (the replaced table's FLOAT)
			cols="$cols, COUNT($f), CAST(MIN($f) AS DECIMAL(5,2)),
			    CAST(MAX($f) AS DECIMAL(5,2)),
			    CAST(SUM($f) AS DECIMAL(20,2))" ;;
		*)
			cols="$cols, COUNT($f), MIN($f), MAX($f), SUM($f)" ;;
		esac
	done
	q "SELECT CONVERT(COALESCE(host, '') USING utf8mb4) COLLATE
	    utf8mb4_bin, COALESCE(data_source, ''),
	    DATE_FORMAT(COALESCE(sampled_at, created_at), '$1'), COUNT(*)
	    $cols FROM system_metrics GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
}

# tier_dump TABLE: the same from a tier.
tier_dump() {
	cols=
	for f in $FIELDS; do
		cols="$cols, ${f}_n, ${f}_min, ${f}_max, ${f}_sum"
	done
	q "SELECT host, source, bucket, samples $cols FROM $1
	    ORDER BY 1, 2, 3"
}

# check_tiers WHAT: both tiers equal GROUP BY over the raw rows.
check_tiers() {
	raw_dump '%Y-%m-%d %H:%i:00' >"$SM_TMP/raw_1m"
	tier_dump system_metrics_1m >"$SM_TMP/tier_1m"
	raw_dump '%Y-%m-%d %H:00:00' >"$SM_TMP/raw_1h"
	tier_dump system_metrics_1h >"$SM_TMP/tier_1h"
	[ -s "$SM_TMP/raw_1m" ] || fail "$1: no raw rows to compare"
	diff "$SM_TMP/raw_1m" "$SM_TMP/tier_1m" >"$SM_TMP/diff" ||
	    fail "$1: minute tier differs from GROUP BY: $(head -c 2000 \
	    "$SM_TMP/diff")"
	diff "$SM_TMP/raw_1h" "$SM_TMP/tier_1h" >"$SM_TMP/diff" ||
	    fail "$1: hour tier differs from GROUP BY: $(head -c 2000 \
	    "$SM_TMP/diff")"
}

# replaced_rows N AGO_S EVERY_S: INSERTs of the replaced system's APIs
# (no host, no sample time: created_at only), N rows from AGO_S seconds
# ago, EVERY_S apart, the two APIs taking turns.
replaced_rows() {
	python3 - "$@" <<'EOF'
import sys, time, random
n, ago, every = (int(a) for a in sys.argv[1:4])
rnd = random.Random(7)
now = time.time()
for i in range(n):
    t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - ago + i * every))
    cpu = rnd.randrange(0, 10001) / 100
    used = rnd.randrange(500, 3500)
    print("INSERT INTO system_metrics (ram_total, ram_free, ram_used, "
        "ram_percentage, cpu_usage, cpu_free, running_processes, "
        "total_processes, sleeping_processes, zombie_processes, "
        "stopped_processes, data_source, created_at) VALUES (3913, %d, %d, "
        "%.2f, %.2f, %.2f, %d, 113, 110, 0, 0, '%s', '%s');" % (
        3913 - used, used, round(100 * used / 3913, 2), cpu, 100 - cpu,
        1 + i % 3, "python_api" if i % 2 else "nodejs_api1", t))
EOF
}

# followed_once NAME N: follow_start's NAME printed N rows, each once, and
# said nothing but how it follows
followed_once() {
	wait_until 30 "$2 rows followed" lines_at_least "$SM_TMP/$1.out" "$2"
	sleep 0.5
	expect_eq "rows followed" "$(wc -l <"$SM_TMP/$1.out")" "$2"
	expect_eq "rows followed twice" "$(ids <"$SM_TMP/$1.out" | sort |
	    uniq -d | wc -l)" 0
	grep -v "following the binary log" "$SM_TMP/$1.err" \
	    >"$SM_TMP/$1.other" || true
	[ ! -s "$SM_TMP/$1.other" ] ||
	    fail "the follower said: $(cat "$SM_TMP/$1.other")"
}

# away_from_midnight: the partitions a day are named by today's date (UTC)
# and counted against it: a test that would run across midnight, or
# store "now" rows a minute old just after it, waits until it is past
away_from_midnight() {
	_s=$(( $(date -u +%s) % 86400 ))
	if [ "$_s" -gt $((86400 - 120)) ]; then
		echo "waiting $((86400 - _s + 90)) s for midnight (UTC) to pass"
		sleep $((86400 - _s + 90))
	elif [ "$_s" -lt 90 ]; then
		sleep $((90 - _s))
	fi
}

# day N: the name of the partition of the day N days from today
day() {
	python3 -c "import time, sys
print(time.strftime('p%Y%m%d', time.gmtime(time.time() + int(sys.argv[1]) *
    86400)))" "$1"
}

# parts: the raw table's partitions, in order, comma-separated
parts() {
	q "SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY
	    PARTITION_ORDINAL_POSITION) FROM information_schema.PARTITIONS
	    WHERE TABLE_SCHEMA = '$TESTDB' AND TABLE_NAME = 'system_metrics'"
}

# replaced_query_answers: the replaced system's realtime service's query
# still finds its latest row
replaced_query_answers() {
	[ -n "$(q "SELECT ram_total, cpu_usage, data_source, created_at FROM
	    system_metrics ORDER BY created_at DESC LIMIT 1")" ] ||
	    fail "the replaced system's latest-row query found nothing"
}
