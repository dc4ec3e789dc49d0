#!/bin/sh
# The database goes away under sm-store's stdin mode: records not yet
# committed are kept, sm-store reconnects and carries on -- nothing lost,
# nothing doubled; past --max-wait, what remains goes to --spool.  A
# private server of this test's own is stopped and started.
. "$(dirname "$0")/store-lib.sh"

private_server
SM_DB=$PDB_URL
SM_DB_PASSWORD=$PDB_PASSWORD
export SM_DB SM_DB_PASSWORD
prows_are() { [ "$(pq 'SELECT COUNT(*) FROM system_metrics')" = "$1" ]; }

echo "the server stops between batches and comes back: all stored once"
gen_records 3000 a1 >"$SM_TMP/recs"
mkfifo "$SM_TMP/fifo"
"$STORE" --batch 100 --flush-ms 50 <"$SM_TMP/fifo" 2>"$SM_TMP/a.err" &
spid=$!
exec 3>"$SM_TMP/fifo"
sed -n 1,1000p "$SM_TMP/recs" >&3
wait_for 200 prows_are 1000
pdb stop
# sm-store stops reading while it cannot store: write from the side
sed -n 1001,2000p "$SM_TMP/recs" >&3 &
wpid=$!
sleep 1
pdb start >/dev/null
wait $wpid || fail "writer"
sed -n 2001,3000p "$SM_TMP/recs" >&3
exec 3>&-
wait $spid || fail "exit $?: $(cat "$SM_TMP/a.err")"
grep -q "sm-store: database sm@.*: .*; retrying for up to .* s (--max-wait)" "$SM_TMP/a.err" ||
    fail "no word of the outage: $(cat "$SM_TMP/a.err")"
grep -q "sm-store: database sm@.*: reconnected after" "$SM_TMP/a.err" ||
    fail "no word of the reconnection: $(cat "$SM_TMP/a.err")"
grep -q "sm-store: 3000 stored, 0 duplicates, 0 rejected" "$SM_TMP/a.err" ||
    fail "summary: $(cat "$SM_TMP/a.err")"
expect_eq "rows" "$(pq 'SELECT COUNT(*), COUNT(DISTINCT sample_id)
    FROM system_metrics' | tr '\t' ' ')" "3000 3000"

echo "the server restarts while records stream in: all stored once"
gen_records 6000 b2 >"$SM_TMP/recs"
(
	i=1
	while [ $i -le 6000 ]; do
		sed -n "$i,$((i + 99))p" "$SM_TMP/recs"
		sleep 0.05
		i=$((i + 100))
	done
) | "$STORE" --batch 50 --flush-ms 20 2>"$SM_TMP/b.err" &
spid=$!
wait_for 200 sh -c "[ \$(SM_DB_DIR='$SM_TMP/pdb' SM_DB_PORT=$PDB_PORT \
    '$SQL_SH' sql -N sm -e 'SELECT COUNT(*) FROM system_metrics') -gt 4000 ]"
pdb restart >/dev/null
wait $spid || fail "exit $?: $(cat "$SM_TMP/b.err")"
grep -q "reconnected after" "$SM_TMP/b.err" ||
    fail "the restart went unnoticed: $(cat "$SM_TMP/b.err")"
expect_eq "rows" "$(pq "SELECT COUNT(*), COUNT(DISTINCT sample_id)
    FROM system_metrics WHERE sample_id LIKE '000000b2-%'" | tr '\t' ' ')" \
    "6000 6000"
expect_eq "rows in all" "$(pq 'SELECT COUNT(*) FROM system_metrics')" 9000
# a COMMIT whose answer was lost in the restart counts as duplicates
sed -n 's/.*sm-store: \([0-9]*\) stored, \([0-9]*\) duplicates, 0 rejected$/\1 \2/p' \
    "$SM_TMP/b.err" >"$SM_TMP/counts"
read -r stored dups <"$SM_TMP/counts" || fail "summary: $(cat "$SM_TMP/b.err")"
expect_eq "stored + duplicates" $((stored + dups)) 6000

echo "the server is killed (-9) under a full-speed stream: all stored once"
gen_records 100000 e5 >"$SM_TMP/recs"
"$STORE" --batch 500 <"$SM_TMP/recs" 2>"$SM_TMP/k.err" &
spid=$!
wait_for 300 sh -c "[ \$(SM_DB_DIR='$SM_TMP/pdb' SM_DB_PORT=$PDB_PORT \
    '$SQL_SH' sql -N sm -e \"SELECT COUNT(*) FROM system_metrics
    WHERE sample_id LIKE '000000e5-%'\") -gt 8000 ]"
kill -KILL "$(cat "$SM_TMP/pdb/mysqld.pid")"
sleep 0.5
pdb start >/dev/null
wait $spid || fail "exit $?: $(cat "$SM_TMP/k.err")"
grep -q "reconnected after" "$SM_TMP/k.err" ||
    fail "the crash went unnoticed: $(cat "$SM_TMP/k.err")"
expect_eq "rows" "$(pq "SELECT COUNT(*), COUNT(DISTINCT sample_id)
    FROM system_metrics WHERE sample_id LIKE '000000e5-%'" | tr '\t' ' ')" \
    "100000 100000"
sed -n 's/.*sm-store: \([0-9]*\) stored, \([0-9]*\) duplicates, 0 rejected$/\1 \2/p' \
    "$SM_TMP/k.err" >"$SM_TMP/counts"
read -r stored dups <"$SM_TMP/counts" || fail "summary: $(cat "$SM_TMP/k.err")"
expect_eq "stored + duplicates" $((stored + dups)) 100000

echo "the server is down when sm-store starts, and comes up within --max-wait"
pdb stop
gen_records 500 c3 >"$SM_TMP/recs"
"$STORE" --max-wait 60 <"$SM_TMP/recs" 2>"$SM_TMP/c.err" &
spid=$!
sleep 1
pdb start >/dev/null
wait $spid || fail "exit $?: $(cat "$SM_TMP/c.err")"
grep -q "sm-store: 500 stored, 0 duplicates, 0 rejected" "$SM_TMP/c.err" ||
    fail "summary: $(cat "$SM_TMP/c.err")"
expect_eq "rows" "$(pq "SELECT COUNT(*) FROM system_metrics
    WHERE sample_id LIKE '000000c3-%'")" 500

echo "down past --max-wait: everything goes to the spool, exit 3"
pdb stop
gen_records 300 d4 >"$SM_TMP/recs"
expect_status 3 "$STORE" --max-wait 1 --spool "$SM_TMP/spool" \
    <"$SM_TMP/recs"
expect_err "/sm: unreachable for"
expect_err "(--max-wait): giving up"
expect_err "sm-store: 0 stored, 0 duplicates, 0 rejected, 300 spooled"
diff -u "$SM_TMP/recs" "$SM_TMP/spool" || fail "spool differs from input"
echo "... and without a spool, they are reported as not stored"
expect_status 3 "$STORE" --max-wait 1 <"$SM_TMP/recs"
expect_err "sm-store: 0 stored, 0 duplicates, 0 rejected, 300 not stored"
pdb start >/dev/null
echo "the spool replays into the database"
expect_status 0 "$STORE" <"$SM_TMP/spool"
expect_err "sm-store: 300 stored, 0 duplicates, 0 rejected"
expect_status 0 "$STORE" <"$SM_TMP/spool"
expect_err "sm-store: 0 stored, 300 duplicates, 0 rejected"
echo "ok"
