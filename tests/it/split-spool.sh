#!/bin/sh
# Both receivers down past --max-time: the spool holds exactly the records
# that were not delivered (with the ids they were sent with), and replaying
# the spool through the same command stores each of them exactly once.
. "$(dirname "$0")/post-lib.inc"

recv a route-a
recv b route-b
gen 200 >"$SM_TMP/gen"

mkfifo "$SM_TMP/in"
$SPLIT --parallel 64 --max-time 1.5 --spool "$SM_TMP/spool" \
    "$a_url" "$b_url" <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/split.err" &
spid=$!
at_exit "kill $spid 2>/dev/null || true"
exec 3>"$SM_TMP/in"

echo "records 1-100 delivered"
sed -n 1,100p "$SM_TMP/gen" >&3
wait_lines "$SM_TMP/acks" 100

echo "both receivers go; records 101-200 cannot be delivered"
kill_recv a
kill_recv b
sed -n 101,200p "$SM_TMP/gen" >&3
exec 3>&-
set +e
wait $spid
st=$?
set -e
# some records were delivered: 1, not 3 (nothing reachable at all)
expect_eq "exit status" "$st" 1
expect_eq "rows" "$(rows)" 100
expect_eq "spooled" "$(lines "$SM_TMP/spool")" 100
# each spool line is its input line with the id put first, nothing else
sed -E 's/^\{"id":"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",/{/' \
    "$SM_TMP/spool" | sort >"$SM_TMP/spooled"
sed -n 101,200p "$SM_TMP/gen" | sort | diff -u - "$SM_TMP/spooled" ||
    fail "the spool is not exactly records 101-200"
grep -q "^sm-split: request [0-9]* (1 record, line 1[0-9][0-9]): not delivered, spooled to $SM_TMP/spool: --max-time reached after [0-9]* attempts: no answer: " \
    "$SM_TMP/split.err" || fail "report: $(tail -3 "$SM_TMP/split.err")"
grep -q "^sm-split: sent 100/200 | a: 50 (50.0%) | b: 50 (50.0%) | retried [1-9][0-9]* | failed over [1-9][0-9]* | spooled 100$" \
    "$SM_TMP/split.err" || fail "stats: $(tail -1 "$SM_TMP/split.err")"

echo "the receivers are back: replaying the spool stores it exactly once"
recv a route-a
recv b route-b
expect_status 0 $SPLIT --parallel 8 --spool "$SM_TMP/spool2" \
    "$a_url" "$b_url" <"$SM_TMP/spool"
expect_eq "rows" "$(rows)" 200
expect_eq "records" "$(q 'SELECT COUNT(DISTINCT sample_id),
    COUNT(DISTINCT total_processes), MIN(total_processes),
    MAX(total_processes) FROM system_metrics' | tr '\t' ' ')" "200 200 1 200"
# the ids are the spool's: the rows of records 101-200 carry them
sed -E 's/^\{"id":"([^"]+)".*/\1/' "$SM_TMP/spool" | sort >"$SM_TMP/ids"
q 'SELECT sample_id FROM system_metrics WHERE total_processes > 100
    ORDER BY sample_id' | diff -u "$SM_TMP/ids" - ||
    fail "stored ids are not the spooled ones"
[ ! -s "$SM_TMP/spool2" ] || fail "the replay spooled: $(cat "$SM_TMP/spool2")"

echo "replaying it again changes nothing: every record is a duplicate"
expect_status 0 $POST --batch 25 "$a_url" <"$SM_TMP/spool"
expect_eq "rows" "$(rows)" 200
expect_eq "duplicates acknowledged" "$(grep -c '"stored":0,"duplicates":25}$' \
    "$SM_TMP/out")" 4

kill_recv a
kill_recv b
