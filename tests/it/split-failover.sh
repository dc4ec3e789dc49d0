#!/bin/sh
# One receiver killed (SIGKILL) in the middle of a run and restarted on
# its port: every record is stored exactly once, the traffic fails over to
# the other receiver meanwhile, and the split resumes when the health
# probe sees the receiver back.
. "$(dirname "$0")/post-lib.inc"

recv a route-a
recv b route-b
gen 300 >"$SM_TMP/gen"

# input through a FIFO, so the test decides when records arrive
mkfifo "$SM_TMP/in"
$SPLIT --parallel 4 --health-interval 0.2 --fail-timeout 600 \
    "$a_url" "$b_url" <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/split.err" &
spid=$!
at_exit "kill $spid 2>/dev/null || true"
exec 3>"$SM_TMP/in"

echo "records 1-100 with both receivers up"
sed -n 1,100p "$SM_TMP/gen" >&3
wait_lines "$SM_TMP/acks" 100
expect_eq "rows per source" "$(per_source)" "route-a 50
route-b 50"

echo "records 101-200 trickle in; a is killed among them"
(
	i=101
	while [ $i -le 200 ]; do
		sed -n ${i}p "$SM_TMP/gen"
		sleep 0.02
		i=$((i + 1))
	done
) >&3 &
wpid=$!
wait_lines "$SM_TMP/acks" 120
kill_recv a KILL
# a is gone: beyond the answers sm-split may have had in hand (at most
# --parallel), no acknowledgement can come from it
gone=$(($(lines "$SM_TMP/acks") + 4))
wait $wpid
wait_lines "$SM_TMP/acks" 200
grep -q "^sm-split: a ($a_url): out for 600.0 s: " "$SM_TMP/split.err" ||
    fail "a not taken out: $(cat "$SM_TMP/split.err")"
expect_eq "acks from a after it went" "$(sed -n "$((gone + 1)),200p" \
    "$SM_TMP/acks" | grep -c "\"endpoint\":\"$a_url\"" || true)" 0
# and b took all of those
[ "$gone" -lt 190 ] || fail "a was killed too late to see a failover"

echo "a restarts on its port; the probe brings it back"
recv a route-a "$a_port"
wait_for 300 grep -q "^sm-split: a ($a_url): back$" "$SM_TMP/split.err"

echo "records 201-300: the split resumes"
sed -n 201,300p "$SM_TMP/gen" >&3
exec 3>&-
wait $spid || fail "sm-split exited $?: $(cat "$SM_TMP/split.err")"
expect_eq "acks" "$(lines "$SM_TMP/acks")" 300
grep -E '"request":(20[1-9]|2[1-9][0-9]|300),' "$SM_TMP/acks" \
    >"$SM_TMP/late"
expect_eq "late acks" "$(lines "$SM_TMP/late")" 100
# alternating again: 50 each, give or take a request a failed over
late_a=$(grep -c "\"endpoint\":\"$a_url\"" "$SM_TMP/late" || true)
[ "$late_a" -ge 45 ] && [ "$late_a" -le 55 ] ||
    fail "late acks from a: $late_a, want about 50"

echo "every record stored exactly once"
expect_eq "rows, ids, records" "$(q 'SELECT COUNT(*),
    COUNT(DISTINCT sample_id), COUNT(DISTINCT total_processes),
    MIN(total_processes), MAX(total_processes) FROM system_metrics' |
    tr '\t' ' ')" "300 300 300 1 300"
grep -q "^sm-split: sent 300/300 | a: [0-9]* ([0-9.]*%) | b: [0-9]* ([0-9.]*%) | retried [0-9]* | failed over [0-9]*$" \
    "$SM_TMP/split.err" || fail "stats: $(tail -1 "$SM_TMP/split.err")"
# a request that a stored but could not answer comes back a duplicate:
# acknowledged all the same
expect_eq "records acknowledged" "$(sed -E 's/.*"records":([0-9]+).*/\1/' \
    "$SM_TMP/acks" | awk '{ s += $1 } END { print s }')" 300

kill_recv a
kill_recv b
