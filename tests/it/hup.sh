#!/bin/sh
# A terminal hang-up (SIGHUP) stops every command the way SIGTERM does:
# sm-split and sm-post stop reading, finish what is in flight and spool the
# rest; sm-store --listen finishes its requests and exits 0.  Under load,
# every record ends up stored or in the spool, none in both, none lost.
. "$(dirname "$0")/post-lib.inc"

# covered N SPOOL: the records 1..N (total_processes) are each in the table
# or in SPOOL, exactly once between them.
covered() {
	{
		q 'SELECT total_processes FROM system_metrics'
		sed -n 's/.*"total_processes":\([0-9]*\).*/\1/p' "$2"
	} | sort -n >"$SM_TMP/covered"
	seq 1 "$1" | diff -u - "$SM_TMP/covered" >"$SM_TMP/covered.diff" ||
	    fail "records lost or doubled: $(head -20 "$SM_TMP/covered.diff")"
}

echo "sm-split: SIGHUP with batches in flight and a partial one lingering"
recv a route-a
recv b route-b
mkfifo "$SM_TMP/in"
$SPLIT --batch 50 --linger 30000 --parallel 4 --spool "$SM_TMP/spool" \
    "$a_url" "$b_url" <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/split.err" &
spid=$!
at_exit "kill $spid 2>/dev/null || true"
exec 3>"$SM_TMP/in"
gen 1000 >&3
gen 20 1001 >&3
wait_lines "$SM_TMP/acks" 20
kill -HUP $spid
set +e
wait $spid
st=$?
set -e
exec 3>&-
expect_eq "sm-split exit status (1: some spooled)" "$st" 1
grep -q "interrupted before sending" "$SM_TMP/split.err" ||
    fail "stderr: $(cat "$SM_TMP/split.err")"
expect_eq "rows" "$(rows)" 1000
expect_eq "spooled" "$(lines "$SM_TMP/spool")" 20
covered 1020 "$SM_TMP/spool"

echo "sm-post: SIGHUP while records trickle in"
q 'DELETE FROM system_metrics'
rm -f "$SM_TMP/spool"
mkfifo "$SM_TMP/in2"
$POST --batch 10 --linger 30000 --spool "$SM_TMP/spool" "$a_url" \
    <"$SM_TMP/in2" >"$SM_TMP/acks2" 2>"$SM_TMP/post.err" &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 3>"$SM_TMP/in2"
gen 205 >&3
wait_lines "$SM_TMP/acks2" 20
kill -HUP $ppid
set +e
wait $ppid
st=$?
set -e
exec 3>&-
expect_eq "sm-post exit status" "$st" 1
expect_eq "rows" "$(rows)" 200
covered 205 "$SM_TMP/spool"

echo "sm-store --listen: SIGHUP under load finishes its requests, exits 0"
q 'DELETE FROM system_metrics'
rm -f "$SM_TMP/spool"
gen 3000 >"$SM_TMP/load"
# batches of 100, so that what is left when the receiver is gone is spooled
# after --max-time in a few rounds
$POST --batch 100 --parallel 8 --max-time 2 --spool "$SM_TMP/spool" \
    "$b_url" <"$SM_TMP/load" >"$SM_TMP/acks3" 2>"$SM_TMP/post3.err" &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
wait_lines "$SM_TMP/acks3" 3
kill -HUP "$b_pid"
set +e
wait "$b_pid"
st=$?
wait $ppid
set -e
expect_eq "receiver exit status" "$st" 0
covered 3000 "$SM_TMP/spool"
echo "ok"
