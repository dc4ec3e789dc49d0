#!/bin/sh
# Retention by size (sm-keep(1), Retention by size) against the real
# MariaDB, on figures made fresh by ANALYZE TABLE first:
# - sm's table (made five days ago under faketime, a partition a day):
#   the oldest days dropped while over --raw-size, never a day not rolled
#   up, never today's or those ahead; the tiers untouched and equal to
#   GROUP BY over what was rolled up;
# - the tiers trimmed by --minute-size and --hour-size, oldest buckets
#   first, and a second pass deletes no more than the row count's error
#   (the table's size as the server gives it need not fall after deletes
#   in place: a row's size is the fewest bytes measured);
# - the replaced system's table (DESIGN.md's columns, plus what sm-store
#   adds), not partitioned: its oldest rolled-up ids deleted in chunks of
#   2,000, rows not rolled up kept.
. "$(dirname "$0")/store-lib.sh"
. "$(dirname "$0")/keep-lib.sh"
away_from_midnight

command -v faketime >/dev/null || fail "faketime missing: scripts/deps.sh"

# part_bytes: the raw table's partitions' data and indexes, in order
part_bytes() {
	q "SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.PARTITIONS
	    WHERE TABLE_SCHEMA = '$TESTDB' AND TABLE_NAME = 'system_metrics'
	    ORDER BY PARTITION_ORDINAL_POSITION"
}
# table_figures TABLE: "rows bytes" after ANALYZE TABLE
table_figures() {
	q "ANALYZE TABLE $1" >/dev/null
	q "SELECT TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH FROM
	    information_schema.TABLES WHERE TABLE_SCHEMA = '$TESTDB' AND
	    TABLE_NAME = '$1'"
}
store() {
	"$STORE" --source "$1" 2>>"$SM_TMP/store.err" ||
	    fail "sm-store: $(cat "$SM_TMP/store.err")"
}
# deleted_by_size N WHAT: the last run's "deleted by size" figure N
# (1 raw, 2 minute, 3 hour, 4 statements)
deleted_by_size() {
	n='\([0-9]*\)'
	sed -n "s/.*deleted by size $n raw rows, $n minute and $n hour \
buckets in $n statements.*/\\1 \\2 \\3 \\4/p" "$SM_TMP/err" | tail -1 |
	    cut -d' ' -f"$1"
}
# days FROM TO: the partitions of those days from today, then pmax
days() {
	seq "$1" "$2" | while read -r d; do printf '%s,' "$(day "$d")"; done
	echo pmax
}
# oldest_went TABLE GONE: the GONE buckets deleted from TABLE were the
# oldest of $SM_TMP/buckets (its buckets before, in order)
oldest_went() {
	oldest_kept=$(q "SELECT MIN(bucket) FROM $1")
	newest_gone=$(sed -n "${2}p" "$SM_TMP/buckets")
	[ "$(printf '%s\n%s\n' "$newest_gone" "$oldest_kept" | sort |
	    head -1)" = "$newest_gone" ] ||
	    fail "$1: a bucket of $oldest_kept kept, one of $newest_gone gone"
}
AGES="--raw 0 --minute 0 --hour 0"

echo "sm's table, a partition a day: the oldest days go while over the size"
# libfaketime loads before the sanitizer build's ASan runtime
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    faketime -f '-5d' "$STORE" </dev/null 2>"$SM_TMP/create.err" ||
    fail "sm-store: $(cat "$SM_TMP/create.err")"
# a sample every 3 minutes for six days back, two hosts
past_records 2880 "a b" 518400 180 0000e001 | store s
# ages for ever: only sizes delete; days ahead made
expect_status 0 "$KEEP" --settle 0 $AGES -v
expect_err "rolled up 5760 rows"
check_tiers "before any drop"
tier_dump system_metrics_1m >"$SM_TMP/m_before"
tier_dump system_metrics_1h >"$SM_TMP/h_before"
expect_eq "partitions" "$(parts)" "$(days -5 3)"
q "ANALYZE TABLE system_metrics" >/dev/null
part_bytes >"$SM_TMP/pb"
total=$(awk '{ s += $1 } END { print s }' "$SM_TMP/pb")
p0=$(sed -n 1p "$SM_TMP/pb")
p1=$(sed -n 2p "$SM_TMP/pb")
[ "$p0" -gt 100000 ] && [ "$p1" -gt 100000 ] ||
    fail "the oldest days are small: $p0 $p1 bytes"
# over by one byte after dropping one day: two go, the third stays
limit=$((total - p0 - p1 + 1))
expect_status 0 "$KEEP" --settle 0 $AGES --raw-size $limit -v
expect_err "dropped 2 daily partitions over --raw-size"
expect_eq "partitions" "$(parts)" "$(days -3 3)"
tier_dump system_metrics_1m | cmp -s - "$SM_TMP/m_before" ||
    fail "the minute tier changed when days were dropped"
tier_dump system_metrics_1h | cmp -s - "$SM_TMP/h_before" ||
    fail "the hour tier changed when days were dropped"
# within the size now: nothing more goes
limit=$((total - p0 - p1))
expect_status 0 "$KEEP" --settle 0 $AGES --raw-size $limit -v
grep -q "over --raw-size" "$SM_TMP/err" &&
    fail "a pass within the size dropped: $(cat "$SM_TMP/err")"
expect_eq "partitions after a pass within" "$(parts)" "$(days -3 3)"

echo "a day not rolled up stays over the size, until it is"
# late rows of five days ago, into the oldest partition left (it holds
# every older day): not rolled up with --settle 3600
past_records 10 "late" 432000 60 0000e002 | store s
q "ANALYZE TABLE system_metrics" >/dev/null
part_bytes >"$SM_TMP/pb"
total=$(awk '{ s += $1 } END { print s }' "$SM_TMP/pb")
p0=$(sed -n 1p "$SM_TMP/pb")
expect_status 0 "$KEEP" --settle 3600 $AGES --raw-size $((total - p0)) -v
expect_err "raw rows over --raw-size are kept until rolled up"
expect_eq "partitions, the day held" "$(parts)" "$(days -3 3)"
expect_status 0 "$KEEP" --settle 0 $AGES --raw-size $((total - p0)) -v
expect_err "rolled up 10 rows"
echo "the day holding the newest id stays: InnoDB would give its ids again"
expect_err "the day over --raw-size that holds the newest id stays"
expect_eq "partitions, the newest id's day kept" "$(parts)" "$(days -3 3)"
# by age too (lib/keep.c): the day past --raw stays, no id given twice
expect_status 0 "$KEEP" --settle 0 --raw 1d --minute 0 --hour 0 -v
expect_status 0 "$KEEP" --settle 0 --raw 1d --minute 0 --hour 0 -v
grep -q "started again" "$SM_TMP/err" &&
    fail "the ids started again: $(cat "$SM_TMP/err")"
expect_eq "partitions, by age" "$(parts)" "$(days -3 3)"
# a row of now: the late rows' day may go
past_records 5 "now" 60 1 0000e004 | store s
expect_status 0 "$KEEP" --settle 0 $AGES --raw-size $((total - p0)) -v
expect_err "rolled up 5 rows"
expect_err "dropped 1 daily partitions over --raw-size"
expect_eq "partitions, the day gone" "$(parts)" "$(days -2 3)"
expect_eq "late samples in the hour tier" "$(q "SELECT SUM(samples) FROM
    system_metrics_1h WHERE host = 'late'")" 10

echo "today's partition alone over the size: the past days go, today stays"
expect_status 0 "$KEEP" --settle 0 $AGES --raw-size 1 -v
expect_err "dropped 2 daily partitions over --raw-size"
expect_err "today's partition and those ahead alone are over --raw-size"
expect_eq "partitions" "$(parts)" "$(days 0 3)"
expect_eq "samples in the hour tier" "$(q "SELECT SUM(samples) FROM
    system_metrics_1h")" 5775
expect_eq "samples in the minute tier" "$(q "SELECT SUM(samples) FROM
    system_metrics_1m")" 5775

echo "the minute tier over --minute-size: oldest buckets first"
q "SELECT bucket FROM system_metrics_1m ORDER BY bucket" >"$SM_TMP/buckets"
set -- $(table_figures system_metrics_1m)
n=$1 bytes=$2
before=$(wc -l <"$SM_TMP/buckets")
[ "$bytes" -gt 500000 ] || fail "the minute tier is small: $bytes bytes"
limit=$((bytes / 2))
hours=$(q "SELECT COUNT(*) FROM system_metrics_1h")
expect_status 0 "$KEEP" --settle 0 $AGES --minute-size $limit -v
gone=$(deleted_by_size 2)
after=$(q "SELECT COUNT(*) FROM system_metrics_1m")
expect_eq "minute buckets deleted, as said" $((before - after)) "$gone"
b=$(q "SELECT row_bytes FROM sm_keep_size WHERE name =
    'system_metrics_1m'")
# what fits: limit / bytes a row; the server's row count is an estimate
python3 -c "import sys
after, limit, n = (int(a) for a in sys.argv[1:3] + sys.argv[4:5])
b = float(sys.argv[3])
fit = limit / b
sys.exit(0 if abs(after - fit) <= 0.1 * n else 1)" "$after" "$limit" "$b" \
    "$before" || fail "kept $after minute buckets of $b bytes within" \
    "$limit bytes"
[ "$gone" -gt 0 ] || fail "no minute bucket deleted"
oldest_went system_metrics_1m "$gone"
expect_eq "hour buckets, minute trimmed" \
    "$(q "SELECT COUNT(*) FROM system_metrics_1h")" "$hours"
echo "a second pass deletes little more: the rows are within the size"
set -- $(table_figures system_metrics_1m)
[ "$2" -gt "$limit" ] ||
    echo "(note: the server says the tier shrank to $2 bytes)"
expect_status 0 "$KEEP" --settle 0 $AGES --minute-size $limit -v
again=$(deleted_by_size 2)
[ "$again" -le $((before / 20)) ] ||
    fail "a second pass deleted $again more minute buckets"

echo "the hour tier over --hour-size: oldest buckets first"
q "SELECT bucket FROM system_metrics_1h ORDER BY bucket" >"$SM_TMP/buckets"
set -- $(table_figures system_metrics_1h)
limit=$(($2 / 2))
minutes=$(q "SELECT COUNT(*) FROM system_metrics_1m")
expect_status 0 "$KEEP" --settle 0 $AGES --hour-size $limit -v
gone=$(deleted_by_size 3)
[ "$gone" -gt 0 ] || fail "no hour bucket deleted"
expect_eq "hour buckets deleted, as said" \
    "$(q "SELECT COUNT(*) FROM system_metrics_1h")" \
    $(($(wc -l <"$SM_TMP/buckets") - gone))
oldest_went system_metrics_1h "$gone"
expect_eq "minute buckets, hour trimmed" \
    "$(q "SELECT COUNT(*) FROM system_metrics_1m")" "$minutes"

echo "the replaced system's table: oldest rolled-up ids, in chunks"
R=${TESTDB}_r
make_db "$R"
at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $R' || true"
$ADMIN_SQL "$R" <"$FIX/replaced-table.sql"
RURL=$(printf '%s\n' "$SM_DB" | sed "s|/$TESTDB\$|/$R|")
# sm-store adds its columns and keys
"$STORE" --db "$RURL" </dev/null 2>"$SM_TMP/add.err" ||
    fail "sm-store: $(cat "$SM_TMP/add.err")"
replaced_rows 9000 18000 2 | $ADMIN_SQL "$R"
past_records 300 "r1" 3000 10 0000e003 |
    "$STORE" --db "$RURL" --source r 2>>"$SM_TMP/store.err" ||
    fail "sm-store: $(cat "$SM_TMP/store.err")"
main_db=$TESTDB
TESTDB=$R
[ "$(parts)" = NULL ] || fail "the replaced table is partitioned: $(parts)"
expect_status 0 "$KEEP" --db "$RURL" --settle 0 $AGES -v
expect_err "rolled up 9303 rows"
check_tiers "the replaced system's table"
set -- $(table_figures system_metrics)
limit=$(($2 / 3))
lo=$(q "SELECT MIN(id) FROM system_metrics")
all=$(q "SELECT COUNT(*) FROM system_metrics")
expect_status 0 "$KEEP" --db "$RURL" --settle 0 $AGES --raw-size $limit -v
gone=$(deleted_by_size 1)
[ "$gone" -gt 4000 ] || fail "deleted $gone raw rows, want over 4000"
[ "$(deleted_by_size 4)" -ge 3 ] ||
    fail "deleted $gone rows in $(deleted_by_size 4) statements"
expect_eq "its rows" "$(q "SELECT COUNT(*) FROM system_metrics")" \
    $((all - gone))
expect_eq "its oldest id" "$(q "SELECT MIN(id) FROM system_metrics")" \
    $((lo + gone))
expect_eq "samples in the hour tier" \
    "$(q "SELECT SUM(samples) FROM system_metrics_1h")" 9303
echo "rows not rolled up stay, whatever the size"
replaced_rows 50 600 1 | $ADMIN_SQL "$R"
expect_status 0 "$KEEP" --db "$RURL" --settle 3600 $AGES --raw-size 1 -v
expect_err "raw rows over --raw-size are kept until rolled up"
expect_eq "its rows, those not rolled up" \
    "$(q "SELECT COUNT(*) FROM system_metrics")" 50
expect_status 0 "$KEEP" --db "$RURL" --settle 0 $AGES -v
expect_err "rolled up 50 rows"
expect_eq "samples in the hour tier" \
    "$(q "SELECT SUM(samples) FROM system_metrics_1h")" 9353
# its realtime service's query still answers
replaced_query_answers
TESTDB=$main_db
echo ok
