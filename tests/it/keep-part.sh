#!/bin/sh
# Raw retention on a table sm made, a day at a time: the table made five
# days ago (under faketime) has a partition a day; sm-keep drops the days
# past --raw once rolled up (the tiers keep them) and makes the days ahead
# out of pmax, while sm-store --listen takes records from sm-post and
# sm-tail -f follows the binary log: every record one row, each row
# followed once, no error; the replaced system's latest-row query still
# answers.
. "$(dirname "$0")/tail-lib.sh"
. "$(dirname "$0")/store-lib.sh"
. "$(dirname "$0")/keep-lib.sh"
away_from_midnight

command -v faketime >/dev/null || fail "faketime missing: scripts/deps.sh"
pids=""
at_exit 'for p in $pids; do kill -TERM $p 2>/dev/null || true; done'

echo "a table made five days ago: a partition a day, three ahead, pmax"
# libfaketime loads before the sanitizer build's ASan runtime
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    faketime -f '-5d' "$STORE" </dev/null 2>"$SM_TMP/create.err" ||
    fail "sm-store: $(cat "$SM_TMP/create.err")"
expect_eq "partitions" "$(parts)" \
    "$(day -5),$(day -4),$(day -3),$(day -2),pmax"

echo "writers and a follower while partitions go and come"
T="$SM_BIN/sm-tail -f -n 0"
follow_start bl --via binlog
wait_until 20 "the follower to start" has_line "$SM_TMP/bl.err" \
    "following the binary log"
start_receiver live --source live
"$SM_BIN/sm-read" -i 0.05 --host live 2>"$SM_TMP/read.err" |
    tee "$SM_TMP/sent" |
    "$SM_BIN/sm-post" "$RURL/metrics" >/dev/null 2>"$SM_TMP/post.err" &
feeder=$!
pids="$pids $feeder"
# a sample an hour for six days back, stored late (old ids, old days)
past_records 144 "old" 518400 3600 0000d001 | "$STORE" --source old \
    2>/dev/null
wait_until 30 "live rows" sh -c "[ \$($ADMIN_SQL -N -B $TESTDB -e \
    \"SELECT COUNT(*) FROM system_metrics WHERE host = 'live'\") -gt 20 ]"
expect_status 0 "$KEEP" --settle 0 --raw 3d -v
expect_err "dropped 2 past retention"
expect_err "made 5 daily partitions ahead"
expect_eq "partitions" "$(parts)" "$(day -3),$(day -2),$(day -1),$(day 0),$(day 1),$(day 2),$(day 3),pmax"
expect_eq "old rows before the kept days" "$(q "SELECT COUNT(*) FROM
    system_metrics WHERE sampled_day < UTC_DATE() - INTERVAL 3 DAY")" 0
expect_eq "old samples in the hour tier" "$(q "SELECT SUM(samples) FROM
    system_metrics_1h WHERE host = 'old'")" 144
# more passes while writing: nothing more to drop or make
expect_status 0 "$KEEP" --settle 0 --raw 3d
expect_status 0 "$KEEP" --settle 0 --raw 3d
grep -q "partitions" "$SM_TMP/err" && fail "a pass changed partitions again"
sleep 1
pkill -TERM -f "$SM_BIN/sm-read -i 0.05 --host live" || true
wait "$feeder" || fail "sm-post: $(cat "$SM_TMP/post.err")"
live=$(q "SELECT COUNT(*) FROM system_metrics WHERE host = 'live'")
expect_eq "live records, distinct" "$(q "SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics WHERE host = 'live'")" "$live"
expect_eq "records read, each stored" "$(wc -l <"$SM_TMP/sent")" "$live"

echo "the follower printed each row once, and said nothing else"
want=$((live + 144))
followed_once bl "$want"
stop_receiver

echo "the replaced system's latest-row query answers"
replaced_query_answers
echo ok
