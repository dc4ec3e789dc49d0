#!/bin/sh
# sm-keep against the real MariaDB: the minute and hour tiers equal GROUP
# BY over the raw rows (in steps, after late rows, rerun, two at once, and
# after a SIGKILL in the middle of a step's transaction); retention of raw
# rows (only once rolled up, in chunks: the table as sm 0.2 made it, not
# partitioned; keep-part.sh has the partitioned one) and of each tier;
# bad retention settings;
# sm-tail -f by the binary log through rollups and deletions (each row
# once, no error).
. "$(dirname "$0")/tail-lib.sh"
. "$(dirname "$0")/store-lib.sh"
. "$(dirname "$0")/keep-lib.sh"

pids=""
at_exit 'for p in $pids; do kill -TERM $p 2>/dev/null || true; done'

store() {
	"$STORE" --source "$1" 2>>"$SM_TMP/store.err" ||
	    fail "sm-store: $(cat "$SM_TMP/store.err")"
}

mark() {
	q "SELECT raw_id FROM sm_keep_state"
}

# the transactions of connections to the test's database
trx_count() {
	[ "$(q "SELECT COUNT(*) FROM information_schema.INNODB_TRX t
	    JOIN information_schema.PROCESSLIST p
	    ON t.trx_mysql_thread_id = p.ID
	    WHERE p.DB = '$TESTDB' AND $1")" -gt 0 ]
}
trx_locking() { trx_count "t.trx_rows_locked > 0"; }
trx_waiting() { trx_count "t.trx_state = 'LOCK WAIT'"; }
trx_gone() { ! trx_count TRUE; }

# the table as sm 0.2 made it: no partitions, raw retention by chunks
q "CREATE TABLE system_metrics (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ram_total BIGINT NOT NULL, ram_free BIGINT NOT NULL,
  ram_used BIGINT NOT NULL, ram_percentage DECIMAL(5,2) NOT NULL,
  cpu_usage DECIMAL(5,2) NOT NULL, cpu_free DECIMAL(5,2) NOT NULL,
  running_processes INT NOT NULL, total_processes INT NOT NULL,
  sleeping_processes INT NOT NULL, zombie_processes INT NOT NULL,
  stopped_processes INT NOT NULL, data_source VARCHAR(50) NOT NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  sample_id CHAR(36) CHARACTER SET ascii NOT NULL,
  host VARCHAR(255) NULL, collector VARCHAR(32) NULL,
  sampled_at DATETIME(3) NOT NULL, ram_available BIGINT NOT NULL,
  threads INT NULL,
  UNIQUE KEY uk_system_metrics_sample_id (sample_id),
  KEY ix_system_metrics_host_sampled (host, sampled_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

echo "rollups equal GROUP BY over the raw rows, a few ids a step"
past_records 540 "h1 h2 H1" 10800 20 0000a001 | store a
past_records 100 "h1" 7200 30 0000a002 | store b
SM_KEEP_STEP_ROWS=300 expect_status 0 "$KEEP" --settle 0 -v
expect_err "rolled up 1720 rows"
check_tiers "first pass"
[ "$(q 'SELECT COUNT(*) FROM system_metrics_1m WHERE host = "H1"')" -gt 0 ] ||
    fail "host H1 merged into h1"
[ "$(mark)" = "$(q 'SELECT MAX(id) FROM system_metrics')" ] ||
    fail "the mark is not the last id"

echo "a rerun changes nothing"
tier_dump system_metrics_1m >"$SM_TMP/before"
expect_status 0 "$KEEP" --settle 0 -v
expect_err "rolled up 0 rows"
tier_dump system_metrics_1m >"$SM_TMP/after"
cmp -s "$SM_TMP/before" "$SM_TMP/after" || fail "a rerun changed the tier"

echo "late rows (a replayed spool) correct their buckets"
past_records 30 "h1 h2" 9000 7 0000a003 | store a
expect_status 0 "$KEEP" --settle 0
check_tiers "late rows"

echo "rows inserted less than --settle ago wait for the next pass"
past_records 20 "h4" 3000 5 0000a006 | store a
expect_status 0 "$KEEP" --settle 3600 -v
expect_err "rolled up 0 rows"
expect_status 0 "$KEEP" --settle 0 -v
expect_err "rolled up 20 rows"
check_tiers "settled"

echo "two at once"
past_records 400 "h3" 5000 10 0000a004 | store a
SM_KEEP_STEP_ROWS=40 "$KEEP" --settle 0 2>"$SM_TMP/k1.err" &
k1=$!
SM_KEEP_STEP_ROWS=40 "$KEEP" --settle 0 2>"$SM_TMP/k2.err" &
k2=$!
wait $k1 || fail "first sm-keep: $(cat "$SM_TMP/k1.err")"
wait $k2 || fail "second sm-keep: $(cat "$SM_TMP/k2.err")"
check_tiers "two at once"

echo "SIGKILL in the middle of a step, then a rerun"
past_records 100 "h1" 4000 10 0000a005 | store a
before=$(mark)
session_open "$TESTDB"
echo "START TRANSACTION; SELECT COUNT(*) FROM system_metrics_1h
    WHERE host = 'h1' FOR UPDATE;" >&3
wait_until 20 "the blocker's lock" trx_locking
"$KEEP" --settle 0 2>"$SM_TMP/killed.err" &
kp=$!
wait_until 20 "sm-keep to wait for the hour tier" trx_waiting
# it has merged the minute tier and waits to merge the hour tier
kill -KILL $kp
wait $kp 2>/dev/null || true
echo "ROLLBACK; SELECT 'blocker done';" >&3
wait_until 20 "the killed transaction to go" trx_gone
expect_eq "the mark after the kill" "$(mark)" "$before"
expect_status 0 "$KEEP" --settle 0 -v
expect_err "rolled up 100 rows"
check_tiers "after the kill"
exec 3>&-

echo "sm-tail -f by the binary log through rollups and deletions"
T="$SM_BIN/sm-tail -f -n 0"
follow_start bl --db "$SM_DB" --via binlog
wait_until 20 "the follower to start" has_line "$SM_TMP/bl.err" \
    "following the binary log"
past_records 30 "f1" 600 1 0000b001 | store a
expect_status 0 "$KEEP" --settle 0 --raw 150m
expect_err "deleted"
past_records 30 "f1" 300 1 0000b002 | store a
followed_once bl 60
kill -TERM "$pid_bl"
wait "$pid_bl" || fail "the follower exited $?"

echo "retention: raw rows past --raw go once rolled up, never before"
expect_status 0 "$KEEP" --settle 0
total=$(q "SELECT SUM(samples) FROM system_metrics_1h")
# rows come every 20-30 s around 2 h ago: one would age past the edge
# between a count here and sm-keep's own clock; rolled up, they may go,
# so that none is within 5 minutes of it while this part runs
q "DELETE FROM system_metrics WHERE sampled_at BETWEEN
    UTC_TIMESTAMP() - INTERVAL 125 MINUTE AND
    UTC_TIMESTAMP() - INTERVAL 115 MINUTE" >/dev/null
past_records 10 "h9" 10000 5 0000a007 | store a
old=$(q "SELECT COUNT(*) FROM system_metrics WHERE sampled_at <
    UTC_TIMESTAMP() - INTERVAL 2 HOUR AND host <> 'h9'")
[ "$old" -gt 0 ] || fail "no raw rows older than 2h to delete"
expect_status 0 "$KEEP" --settle 3600 --raw 2h -v
expect_err "deleted $old raw rows"
expect_eq "h9's rows, not rolled up yet" \
    "$(q "SELECT COUNT(*) FROM system_metrics WHERE host = 'h9'")" 10
expect_status 0 "$KEEP" --settle 0 --raw 2h -v
expect_err "rolled up 10 rows"
# stored late (higher ids than newer rows): they go when the front of old
# ids reaches them, not before
expect_err "deleted 0 raw rows"
expect_eq "h9's rows, stored late" \
    "$(q "SELECT COUNT(*) FROM system_metrics WHERE host = 'h9'")" 10
expect_eq "samples in the hour tier" \
    "$(q "SELECT SUM(samples) FROM system_metrics_1h")" $((total + 10))
expect_eq "raw rows older than 2h but h9's" "$(q "SELECT COUNT(*) FROM
    system_metrics WHERE sampled_at < UTC_TIMESTAMP() - INTERVAL 2 HOUR
    AND host <> 'h9'")" 0

echo "retention of the minute and hour tiers"
# buckets lie on every minute around 2 h ago: checked against a cut taken
# before sm-keep's (which can only be later), not after it
cut=$(q "SELECT UTC_TIMESTAMP() - INTERVAL 2 HOUR")
expect_status 0 "$KEEP" --settle 0 --raw 1h --minute 2h
expect_eq "minute buckets older than 2h" "$(q "SELECT COUNT(*) FROM
    system_metrics_1m WHERE bucket < '$cut'")" 0
[ "$(q "SELECT COUNT(*) FROM system_metrics_1m")" -gt 0 ] ||
    fail "every minute bucket went"
expect_eq "samples in the hour tier" \
    "$(q "SELECT SUM(samples) FROM system_metrics_1h")" $((total + 10))
cut=$(q "SELECT UTC_TIMESTAMP() - INTERVAL 2 HOUR")
expect_status 0 "$KEEP" --settle 0 --raw 1h --minute 1h --hour 2h
expect_eq "hour buckets older than 2h" "$(q "SELECT COUNT(*) FROM
    system_metrics_1h WHERE bucket < '$cut'")" 0

echo "the replaced system's own table: rolled up, trimmed in chunks"
R=${TESTDB}_r
make_db "$R"
at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $R' || true"
$ADMIN_SQL "$R" <"$FIX/replaced-table.sql"
replaced_rows 3000 10800 3 | $ADMIN_SQL "$R"
RURL=$(printf '%s\n' "$SM_DB" | sed "s|/$TESTDB\$|/$R|")
expect_status 0 "$KEEP" --db "$RURL" --settle 0 --raw 0 --minute 0 \
    --hour 0 -v
expect_err "rolled up 3003 rows"
main_db=$TESTDB
TESTDB=$R
check_tiers "the replaced system's table"
expect_eq "its hosts" "$(q "SELECT DISTINCT host FROM system_metrics_1h")" ""
# a row every 3 s crosses the hour's edge: sm-keep's "now" is a little
# later than this one, so it deletes those older than an hour here, and
# the few that aged past it meanwhile (one a 3 s; 10 allowed)
cut=$(q "SELECT UTC_TIMESTAMP() - INTERVAL 1 HOUR")
old=$(q "SELECT COUNT(*) FROM system_metrics WHERE created_at < '$cut'")
all=$(q "SELECT COUNT(*) FROM system_metrics")
expect_status 0 "$KEEP" --db "$RURL" --settle 0 --raw 1h -v
gone=$(sed -n 's/.*; deleted \([0-9]*\) raw rows,.*/\1/p' "$SM_TMP/err")
[ -n "$gone" ] && [ "$gone" -ge "$old" ] && [ "$gone" -le $((old + 10)) ] ||
    fail "deleted '$gone' raw rows, want $old to $((old + 10)): $(cat \
    "$SM_TMP/err")"
expect_eq "its rows older than 1h" "$(q "SELECT COUNT(*) FROM system_metrics
    WHERE created_at < '$cut'")" 0
expect_eq "its rows" "$(q "SELECT COUNT(*) FROM system_metrics")" \
    $((all - gone))
expect_eq "samples in the hour tier" \
    "$(q "SELECT SUM(samples) FROM system_metrics_1h")" 3003
# its realtime service's query still answers
replaced_query_answers
TESTDB=$main_db

echo "retention settings that would lose rollups are refused"
expect_status 2 "$KEEP" --raw 100d --minute 90d
expect_err "--raw keeps longer than --minute"
expect_status 2 "$KEEP" --raw 0
expect_err "--raw keeps for ever, longer than --minute"
expect_status 2 "$KEEP" --hour 7x
expect_err 'sm-keep: --hour: "7x": unknown unit'
expect_status 2 "$KEEP" --settle -1
expect_err "--settle"

echo "ok"
