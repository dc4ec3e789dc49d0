#!/bin/sh
# sm-post --journal and sm-split --journal lose nothing to SIGKILL: a
# producer that keeps its FIFO open and retries its writes on EPIPE feeds
# JOURNAL_RECORDS records (20,000; 100,000 for a long run) while the
# sender is SIGKILLed at random instants (at least 10 times) and started
# again on the same journal, and its receiver is SIGKILLed twice and
# started again on its port: the table then holds every record exactly
# once (rows = records = distinct sample_id = distinct sequence numbers).
# Then the same through sm-split and two receivers, and a Ctrl-C: SIGINT
# to `sm-read | sm-post --spool F` with the receiver down puts every line
# sm-read wrote in the spool.  About 60 s.
. "$SM_TOP/tests/it/post-lib.inc"

N=${JOURNAL_RECORDS:-20000}
RATE=${JOURNAL_RATE:-1000}		# records a second
KILLS=${JOURNAL_KILLS:-10}
FEEDER="$SM_TOP/tests/it/fifo-feeder.py"
PARTS=${JOURNAL_PARTS:-post split full ctrl-c}	# which parts run

want() {
	case " $PARTS " in *" $1 "*) return 0 ;; esac
	return 1
}

# a random pause from $1 to $2 seconds
pause() {
	awk -v a="$1" -v b="$2" -v s="$$$(date +%N)" \
	    'BEGIN { srand(s % 1000000); printf "%.2f", a + rand() * (b - a) }'
}

# run NAME SENDER ARGS...: one chaos run: the sender with --journal, fed
# $N records through a FIFO, killed $KILLS times; receivers are killed by
# the function kill_receiver K (K: which of the sender's kills).
run() {
	name=$1
	shift
	# with ids, as sm-read writes them: a line read again after a kill
	# is the same sample (sm-post(1), Journal: a line without an id
	# can be given a second one by such a kill)
	gen "$N" | awk -v tag="$(printf '%08x' $$)" '{
		printf "{\"id\":\"%s-0000-7000-8000-%012x\",%s\n", tag, NR,
		    substr($0, 2) }' >"$SM_TMP/$name.recs"
	rm -f "$SM_TMP/$name.in" "$SM_TMP/$name.fed" "$SM_TMP/$name.close"
	mkfifo "$SM_TMP/$name.in"
	python3 "$FEEDER" "$SM_TMP/$name.recs" "$SM_TMP/$name.in" "$RATE" \
	    "$SM_TMP/$name.fed" "$SM_TMP/$name.close" 3>&- &
	fpid=$!
	at_exit "kill $fpid 2>/dev/null || true"
	k=0
	while :; do
		"$@" <"$SM_TMP/$name.in" >>"$SM_TMP/$name.acks" \
		    2>>"$SM_TMP/$name.err" 3>&- &
		spid=$!
		at_exit "kill -9 $spid 2>/dev/null || true"
		[ ! -e "$SM_TMP/$name.fed" ] && [ $k -lt "$KILLS" ] ||
		    [ ! -e "$SM_TMP/$name.fed" ] || break
		sleep "$(pause 0.1 "$(awk -v n="$N" -v r="$RATE" -v k="$KILLS" \
		    'BEGIN { print 1.1 * n / r / k }')")"
		[ ! -e "$SM_TMP/$name.fed" ] || break
		before_kill $((k + 1))
		kill -KILL $spid
		wait $spid 2>/dev/null || :
		k=$((k + 1))
		echo "$name: SIGKILL $k at $(date +%T.%N | cut -c1-12)" \
		    >>"$SM_TMP/$name.err"
		kill_receiver $k
	done
	wait_for 600 test -e "$SM_TMP/$name.fed"
	touch "$SM_TMP/$name.close"
	set +e
	wait_for 600 sh -c "! kill -0 $spid 2>/dev/null"
	wait $spid
	st=$?
	set -e
	wait $fpid || fail "$name: the feeder failed"
	echo "$name: $k SIGKILLs; feeder: $(cat "$SM_TMP/$name.fed")"
	[ $k -ge "$KILLS" ] || fail "$name: only $k SIGKILLs before the end"
	expect_eq "$name: last exit status" "$st" 0
}

# before_kill K: what happens just before the sender's kill K (by
# default nothing; a part may stall a receiver there).
before_kill() {
	:
}

# every record once: rows, distinct ids, distinct sequence numbers
check() {
	q 'SELECT total_processes FROM system_metrics ORDER BY 1' |
	    awk -v n="$N" '{ while (++i < $1) print "missing " i } END {
	    while (++i <= n) print "missing " i }' | head -20
	expect_eq "$1: rows" "$(rows)" "$N"
	expect_eq "$1: distinct sample_id" \
	    "$(q 'SELECT COUNT(DISTINCT sample_id) FROM system_metrics')" "$N"
	expect_eq "$1: distinct records" "$(q 'SELECT COUNT(DISTINCT
	    total_processes) FROM system_metrics')" "$N"
	expect_eq "$1: first and last" "$(q 'SELECT MIN(total_processes),
	    MAX(total_processes) FROM system_metrics' | tr '\t' ' ')" "1 $N"
}

if want post; then
echo "sm-post --journal: $N records, $KILLS SIGKILLs, the receiver killed twice"
recv a route-a
kill_receiver() {
	case $1 in
	3|7)
		kill_recv a KILL
		echo "post: receiver SIGKILLed" >>"$SM_TMP/post.err"
		sleep 0.5
		recv a route-a "$a_port"
		;;
	5)
		kill -CONT "$a_pid"
		;;
	esac
}
# Kill 5 comes while the receiver is stopped, so that the journal surely
# holds records read but not acknowledged (at 1,000 records a second the
# sender is otherwise idle and acknowledged most of the time, and every
# kill may find nothing to send again).
before_kill() {
	case $1 in
	5)
		at_exit "kill -CONT $a_pid 2>/dev/null || true"
		kill -STOP "$a_pid"
		sleep 0.5
		;;
	esac
}
run post "$POST" --journal "$SM_TMP/pj" --batch 20 --parallel 2 \
    --max-time 5 "$a_url"
check post
replays=$(grep -c "records (.* bytes) not acknowledged: sending them first" \
    "$SM_TMP/post.err" || :)
[ "$replays" -gt 0 ] ||
    fail "no journal was replayed: $(cat "$SM_TMP/post.err")"
echo "post: $replays of $KILLS starts sent the journal's tail first"

fi

if want split; then
echo "sm-split --journal: the same over two receivers, each killed once"
[ -n "${a_pid:-}" ] || recv a route-a
q 'DELETE FROM system_metrics'
recv b route-b
before_kill() {
	:
}
kill_receiver() {
	case $1 in
	4)
		kill_recv a KILL
		sleep 0.5
		recv a route-a "$a_port"
		;;
	8)
		kill_recv b KILL
		sleep 0.5
		recv b route-b "$b_port"
		;;
	esac
}
run split "$SPLIT" --journal "$SM_TMP/sj" --batch 20 --parallel 4 \
    --max-time 5 --fail-timeout 0.5 "$a_url" "$b_url"
check split

fi

if want full; then
echo "--journal-max: full, the input waits (the pipe holds the writer back)"
[ -n "${a_pid:-}" ] || recv a route-a
q 'DELETE FROM system_metrics'
kill_recv a
gen 15000 >"$SM_TMP/full.recs"	# over the journal and a 1 MiB pipe
mkfifo "$SM_TMP/full.in"
python3 "$FEEDER" "$SM_TMP/full.recs" "$SM_TMP/full.in" 100000 \
    "$SM_TMP/full.fed" "$SM_TMP/full.close" 3>&- &
fpid=$!
at_exit "kill $fpid 2>/dev/null || true"
"$POST" --journal "$SM_TMP/fj" --journal-max 1M --batch 50 --max-time 2 \
    "$a_url" <"$SM_TMP/full.in" >/dev/null 2>"$SM_TMP/full.err" 3>&- &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
wait_for 300 grep -q "full (.* bytes): not reading the input until receivers acknowledge" \
    "$SM_TMP/full.err"
sleep 0.5
[ ! -e "$SM_TMP/full.fed" ] || fail "the writer was not held back"
[ "$(du -sk "$SM_TMP/fj" | cut -f1)" -lt 1400 ] ||
    fail "the journal grew past --journal-max: $(du -sk "$SM_TMP/fj")"
recv a route-a "$a_port"
wait_for 600 test -e "$SM_TMP/full.fed"
touch "$SM_TMP/full.close"
wait $ppid || fail "sm-post: $(cat "$SM_TMP/full.err")"
wait $fpid
expect_eq "full: rows" "$(rows)" 15000
expect_eq "full: distinct records" "$(q 'SELECT COUNT(DISTINCT
    total_processes) FROM system_metrics')" 15000
grep -q "room again: reading on" "$SM_TMP/full.err" ||
    fail "full: $(cat "$SM_TMP/full.err")"
fi

if want ctrl-c; then
echo "Ctrl-C on sm-read | sm-post --spool, receiver down: every line spooled"
[ -n "${a_url:-}" ] || recv a route-a
kill_recv a
mkfifo "$SM_TMP/r2t" "$SM_TMP/t2p"
"$SM_BIN/sm-read" -i 0.1 >"$SM_TMP/r2t" 3>&- &
rpid=$!
# tee -i ignores the SIGINT: it records what sm-read wrote, to the end
tee -i "$SM_TMP/written" <"$SM_TMP/r2t" >"$SM_TMP/t2p" 3>&- &
tpid=$!
"$POST" --spool "$SM_TMP/spool" "$a_url" <"$SM_TMP/t2p" >/dev/null \
    2>"$SM_TMP/ctrlc.err" 3>&- &
ppid=$!
at_exit "kill $rpid $tpid $ppid 2>/dev/null || true"
wait_lines "$SM_TMP/written" 8
kill -INT $rpid $ppid
set +e
wait $ppid
st=$?
set -e
wait $rpid || :
wait $tpid || :
expect_eq "exit status (nothing answered)" "$st" 3
expect_eq "every line written is spooled" "$(lines "$SM_TMP/spool")" \
    "$(lines "$SM_TMP/written")"
sort "$SM_TMP/written" >"$SM_TMP/w.sorted"
sort "$SM_TMP/spool" | diff -u "$SM_TMP/w.sorted" - ||
    fail "the spool holds other records"
echo "Ctrl-C: $(lines "$SM_TMP/spool") lines written, all spooled"
fi
