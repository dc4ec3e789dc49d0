#!/bin/sh
# sm-post --journal --journal-full drop: a full journal drops its oldest
# segment and reads on.  (--journal-full wait, the default, is
# post-journal.sh's part "full": the writer held back, nothing lost.)
#
# 1. The receiver stopped (SIGSTOP: connections wait, nothing answers),
#    --journal-max at its least (1M), N records from a FIFO: sm-post says
#    it dropped K records, reads its whole input meanwhile, and once the
#    receiver runs again delivers the rest and exits 1 (records lost).
#    Stored: N-K records, once each, K as said, in the summary and in
#    sm_sender_records_dropped_total; the lost ones a run of the oldest
#    (those in requests when their segment went still went).
# 2. Nothing listens: the records of requests in flight from the first
#    dropped segment are lost too once the input ends (said), the rest
#    kept; the next start with a receiver stores exactly the N-K newest,
#    once each.
# 3. The same through sm-split and two receivers that do not listen; the
#    next start spreads the kept, newest records over both.
# 4. The checkpoint cannot be written (its temporary file's name taken by
#    a directory, which stops root too): a full journal cannot drop, so
#    sm-post says it waits instead, stops reading, and tries again each
#    second without saying it again; once the name is free the next try
#    drops and reading goes on, as in 1.  About 15 s.
. "$SM_TOP/tests/it/post-lib.inc"

N=10000		# about 3.3 MB: three times --journal-max
FEEDER="$SM_TOP/tests/it/fifo-feeder.py"

# ids carry the record's number: gen's total_processes
gen "$N" | awk -v tag="$(printf '%08x' $$)" '{
	printf "{\"id\":\"%s-0000-7000-8000-%012x\",%s\n", tag, NR,
	    substr($0, 2) }' >"$SM_TMP/recs"

# dropped FILE: the sum of the counts in "dropped the oldest N records"
dropped() {
	sed -n 's/.*full: dropped the oldest \([0-9]*\) records.*/\1/p' "$1" |
	    awk '{ s += $1 } END { print s + 0 }'
}

# runs: the stored records' numbers as ranges "a-b", one a line
runs() {
	q 'SELECT total_processes FROM system_metrics ORDER BY 1' | awk '
	    NR == 1 { a = $1 } NR > 1 && $1 != p + 1 { print a "-" p; a = $1 }
	    { p = $1 } END { if (NR) print a "-" p }'
}

echo "1. receiver stopped, --journal-full drop: reads on, drops, exit 1"
recv a route-a
kill -STOP "$a_pid"
at_exit "kill -CONT $a_pid 2>/dev/null || true"
mkfifo "$SM_TMP/in"
python3 "$FEEDER" "$SM_TMP/recs" "$SM_TMP/in" 1000000 "$SM_TMP/fed" \
    "$SM_TMP/close" 3>&- &
fpid=$!
at_exit "kill $fpid 2>/dev/null || true"
"$POST" --journal "$SM_TMP/j" --journal-max 1M --journal-full drop \
    --batch 50 --parallel 2 --max-time 60 \
    --metrics-file "$SM_TMP/post.prom" "$a_url" <"$SM_TMP/in" >/dev/null \
    2>"$SM_TMP/post.err" 3>&- &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
# the whole input read while nothing is acknowledged: drops, no waiting
wait_for 300 test -e "$SM_TMP/fed"
wait_for 100 grep -q "full: dropped the oldest" "$SM_TMP/post.err"
touch "$SM_TMP/close"
wait $fpid
expect_eq "rows while the receiver is stopped" "$(rows)" 0
if grep -q "not reading the input" "$SM_TMP/post.err"; then
	fail "drop waited: $(cat "$SM_TMP/post.err")"
fi
[ "$(du -sk "$SM_TMP/j" | cut -f1)" -le 1300 ] ||
    fail "the journal grew past --journal-max: $(du -sk "$SM_TMP/j")"
kill -CONT "$a_pid"
status=0
wait $ppid || status=$?
expect_eq "exit status" "$status" 1
K=$(dropped "$SM_TMP/post.err")
echo "said: $(grep -m1 'full: dropped' "$SM_TMP/post.err"); $K in all"
[ "$K" -gt 0 ] || fail "no count: $(cat "$SM_TMP/post.err")"
expect_eq "rows" "$(rows)" $((N - K))
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" $((N - K))
grep -q "sent $((N - K))/.* | dropped $K\$" "$SM_TMP/post.err" ||
    fail "summary: $(tail -n 2 "$SM_TMP/post.err")"
grep -q "^sm_sender_records_dropped_total{.*} $K\$" "$SM_TMP/post.prom" ||
    fail "metric: $(grep dropped "$SM_TMP/post.prom")"
# the requests in flight when their segment went were still sent (a run
# of at most 3 batches: 2 in flight, 1 filled; none when the loop had not
# read yet), the oldest unsent dropped, the newest all kept (b-N)
runs >"$SM_TMP/runs"
echo "stored: $(tr '\n' ' ' <"$SM_TMP/runs")"
case $(wc -l <"$SM_TMP/runs" | tr -d ' ') in
1)	;;
2)	r=$(head -n 1 "$SM_TMP/runs")
	[ $((${r#*-} - ${r%-*} + 1)) -le 150 ] ||
	    fail "stored: $(tr '\n' ' ' <"$SM_TMP/runs"): $r not in flight" ;;
*)	fail "stored: $(tr '\n' ' ' <"$SM_TMP/runs"), want a-b c-$N" ;;
esac
expect_eq "the last run" "$(tail -n 1 "$SM_TMP/runs" | cut -d- -f2)" "$N"
expect_eq "journal left" "$(ls "$SM_TMP/j" | grep -c '\.seg$')" 1

echo "2. nothing answers: what was in flight from a dropped segment is lost"
q 'DELETE FROM system_metrics' >/dev/null
dead="http://127.0.0.1:$(free_port)/metrics"
status=0
"$POST" --journal "$SM_TMP/j2" --journal-max 1M --journal-full drop \
    --batch 50 --parallel 2 --max-time 1 "$dead" <"$SM_TMP/recs" \
    >/dev/null 2>"$SM_TMP/post2.err" 3>&- || status=$?
expect_eq "exit status, nothing answered" "$status" 3
K=$(dropped "$SM_TMP/post2.err")
# the summary's count: those dropped, and those in requests lost after
D=$(sed -n 's/^sm-post: sent .* | dropped \([0-9]*\)$/\1/p' \
    "$SM_TMP/post2.err")
L=$((D - K))
echo "dropped $K, then $L in requests lost"
[ "$K" -gt 0 ] && [ "$L" -gt 0 ] ||
    fail "dropped $K, lost $L: $(cat "$SM_TMP/post2.err")"
said="request 1 (50 records, lines 1-50): not delivered, and dropped"
said="$said from the full journal: lost: "
grep -q "^sm-post: $said" "$SM_TMP/post2.err" ||
    fail "no request said lost: $(cat "$SM_TMP/post2.err")"
grep -q "| kept $((N - K - L)) | dropped $((K + L))\$" "$SM_TMP/post2.err" ||
    fail "summary: $(tail -n 2 "$SM_TMP/post2.err")"
said="$((N - K - L)) records not acknowledged, kept for the next start"
grep -q "journal $SM_TMP/j2: $said" "$SM_TMP/post2.err" ||
    fail "kept: $(tail -n 3 "$SM_TMP/post2.err")"
"$POST" --journal "$SM_TMP/j2" "$a_url" </dev/null >/dev/null \
    2>"$SM_TMP/post3.err" 3>&- || fail "sm-post: $(cat "$SM_TMP/post3.err")"
expect_eq "rows" "$(rows)" $((N - K - L))
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" $((N - K - L))
expect_eq "stored: the newest" "$(runs)" "$((K + L + 1))-$N"
echo "the $((N - K - L)) newest stored once, $((K + L)) oldest lost as said"

echo "3. sm-split, neither receiver listens: dropped, kept, then the newest"
q 'DELETE FROM system_metrics' >/dev/null
dead2="http://127.0.0.1:$(free_port)/metrics"
status=0
"$SPLIT" --journal "$SM_TMP/sj" --journal-max 1M --journal-full drop \
    --batch 50 --parallel 8 --max-time 0.3 "$dead" "$dead2" \
    <"$SM_TMP/recs" \
    >/dev/null 2>"$SM_TMP/split.err" 3>&- || status=$?
expect_eq "sm-split's exit status, nothing answered" "$status" 3
sed -n 's/^sm-split: sent .* | kept \([0-9]*\) | dropped \([0-9]*\)$/\1 \2/p' \
    "$SM_TMP/split.err" >"$SM_TMP/split.counts"
read -r KEPT D <"$SM_TMP/split.counts" ||
    fail "summary: $(tail -n 2 "$SM_TMP/split.err")"
echo "kept $KEPT, dropped $D"
[ "$D" -ge "$(dropped "$SM_TMP/split.err")" ] && [ "$D" -gt 0 ] ||
    fail "dropped $D: $(grep -c 'full: dropped' "$SM_TMP/split.err") said"
expect_eq "kept and dropped" $((KEPT + D)) "$N"
recv b route-b
"$SPLIT" --journal "$SM_TMP/sj" "$a_url" "$b_url" </dev/null >/dev/null \
    2>"$SM_TMP/split2.err" 3>&- ||
    fail "sm-split: $(cat "$SM_TMP/split2.err")"
expect_eq "rows" "$(rows)" "$KEPT"
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" "$KEPT"
expect_eq "stored: the newest" "$(runs)" "$((D + 1))-$N"
expect_eq "both receivers stored some" "$(q 'SELECT COUNT(DISTINCT
    data_source) FROM system_metrics')" 2

echo "4. the checkpoint cannot be written: waits instead, tries again"
q 'DELETE FROM system_metrics' >/dev/null
kill -STOP "$a_pid"
mkfifo "$SM_TMP/in4"
"$POST" --journal "$SM_TMP/j4" --journal-max 1M --journal-full drop \
    --batch 50 --parallel 2 --max-time 60 "$a_url" <"$SM_TMP/in4" \
    >/dev/null 2>"$SM_TMP/post4.err" 3>&- 4>&- &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 4>"$SM_TMP/in4"
# the journal is open (its checkpoint written) before the name is taken
wait_for 100 test -e "$SM_TMP/j4/checkpoint"
mkdir "$SM_TMP/j4/checkpoint.tmp"
# 50 lines at a time until the journal is full and reading stops: what
# is written then fits in the pipe, and no write blocks
n4=0
until grep -q "not reading the input" "$SM_TMP/post4.err"; do
	[ "$n4" -lt "$N" ] || fail "never full: $(cat "$SM_TMP/post4.err")"
	sed -n "$((n4 + 1)),$((n4 + 50))p" "$SM_TMP/recs" >&4
	n4=$((n4 + 50))
	sleep 0.05
done
echo "full after $n4 records"
said="/checkpoint.tmp: Is a directory: waiting instead (tried again every"
grep -q "$said second)\$" "$SM_TMP/post4.err" ||
    fail "the reason: $(cat "$SM_TMP/post4.err")"
# tried again each second, said once, nothing dropped meanwhile
sleep 2.5
expect_eq "said" "$(grep -c "waiting instead" "$SM_TMP/post4.err")" 1
if grep -q "full: dropped" "$SM_TMP/post4.err"; then
	fail "dropped without a checkpoint: $(cat "$SM_TMP/post4.err")"
fi
# the name free again: the next try drops, and reading goes on
rmdir "$SM_TMP/j4/checkpoint.tmp"
wait_for 100 grep -q "full: dropped the oldest" "$SM_TMP/post4.err"
sed -n "$((n4 + 1)),\$p" "$SM_TMP/recs" >&4 &
cpid=$!
at_exit "kill $cpid 2>/dev/null || true"
wait_for 300 sh -c "! kill -0 $cpid 2>/dev/null"
exec 4>&-
kill -CONT "$a_pid"
status=0
wait $ppid || status=$?
expect_eq "exit status, records dropped" "$status" 1
K=$(dropped "$SM_TMP/post4.err")
echo "then dropped $K"
expect_eq "rows" "$(rows)" $((N - K))
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" $((N - K))
grep -q "sent $((N - K))/.* | dropped $K\$" "$SM_TMP/post4.err" ||
    fail "summary: $(tail -n 2 "$SM_TMP/post4.err")"
