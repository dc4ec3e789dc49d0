#!/bin/sh
# sm-tail -f --via poll when the table starts again (TRUNCATE, or DROP and
# CREATE) and more ids than its old highest are handed out before its
# periodic look at the table's next id (every 5 s): each row of the new
# table shown once, and a word of it on stderr.  Before issue 26 the rows
# up to the old highest id were skipped without a word.
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_restart_$$
pids=""
pid_r=
# a stopped sm-tail would not end on SIGTERM
cleanup() {
	[ -z "$pid_r" ] || kill -CONT "$pid_r" 2>/dev/null || true
	follow_cleanup $NAME
}
trap cleanup EXIT
URL=$(tail_db $NAME)
T="$SM_BIN/sm-tail --db $URL -f -n 1 --interval 0.05 --via poll"
S="$SM_BIN/sm-store --db $URL --source restart"
SQL="$SM_TOP/scripts/mariadb.sh sql $NAME"

# store N TAG: N new rows in one transaction (ids TAG in hex, -...-0 up)
store() {
	gen_records "$1" "$2" 0 h1 | $S 2>/dev/null || fail "sm-store failed"
}
# shown TAG N: the rows of TAG shown, each once, are N
shown() {
	[ "$(ids <"$SM_TMP/r.out" | grep -c "^000000$1-")" -eq "$2" ]
}
# said N: the restart said N times
said() {
	[ "$(grep -c "the table's ids started again" "$SM_TMP/r.err")" \
	    -eq "$1" ]
}
check() {	# TAG N: all N rows of TAG, each once, within 20 s
	wait_until 20 "the $2 rows of the new table" shown "$1" "$2"
	ids <"$SM_TMP/r.out" | grep "^000000$1-" | sort | uniq -d |
	    grep . && fail "rows shown twice"
	true
}

store 20 161
follow_start r
wait_until 20 "sm-tail -f to start" lines_at_least "$SM_TMP/r.out" 1
store 5 162
check a2 5

# sm-tail stopped meanwhile (SIGSTOP): its next poll finds the new table
# already past the old highest id
echo "TRUNCATE, then 45 rows (ids 1 to 45, the old highest 25) at once"
kill -STOP "$pid_r"
$SQL -e "TRUNCATE TABLE system_metrics" || fail "TRUNCATE"
store 45 177
kill -CONT "$pid_r"
check b1 45
wait_until 20 "a word of the TRUNCATE" said 1

echo "DROP and CREATE, then 60 rows (ids 1 to 60, the old highest 45)"
kill -STOP "$pid_r"
$SQL -e "DROP TABLE system_metrics" || fail "DROP"
store 60 178
kill -CONT "$pid_r"
check b2 60
wait_until 20 "a word of the new table" said 2

echo "TRUNCATE noticed in the empty table, then 30 rows"
$SQL -e "TRUNCATE TABLE system_metrics" || fail "TRUNCATE"
wait_until 20 "a word of the empty table" said 3
store 30 193
check c1 30
[ "$(wc -l <"$SM_TMP/r.out")" -eq $((1 + 5 + 45 + 60 + 30)) ] ||
    fail "$(wc -l <"$SM_TMP/r.out") rows shown, want 141"
FOLLOW_SAYS=1 follow_stop r
echo ok
