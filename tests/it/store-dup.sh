#!/bin/sh
# sm-store --listen answering a body of records it has already stored: the
# work is linear in the body (issue 26).  Not timed: the server's own
# counters for sm-store's session.  A duplicate used to append its
# sample_id to a session variable, whose whole value the server copies for
# each name appended, so a body of n duplicates cost n copies of up to
# n * 37 bytes; the session's peak memory then grew by the list's size.
# Now the peak is the same whether the body was new or stored before, for
# 20,000 and 40,000 records, and the statements the body takes are the
# same in number either way (none per duplicate).
. "$(dirname "$0")/store-lib.sh"

start_receiver recv --max-body 67108864
# the receiver's session on the server: its peak memory in bytes
peak() {
	q "SELECT MAX_MEMORY_USED FROM information_schema.PROCESSLIST
	    WHERE DB = '$TESTDB' AND USER = 'sm'"
}
executed() {
	q "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f2
}
# body N TAG: POST N new records, then the same again; sets NEW_PEAK,
# DUP_PEAK (the session's peak after each) and NEW_EXEC, DUP_EXEC (the
# statements executed meanwhile, anyone's: the test's database is its own,
# but not the server)
body() {
	gen_records "$1" "$2" >"$SM_TMP/b$1"
	e0=$(executed)
	post application/x-ndjson "@$SM_TMP/b$1"
	expect_answer 200 \
	    "{\"stored\":$1,\"duplicates\":0,\"api\":\"sm-store\"}"
	e1=$(executed)
	NEW_PEAK=$(peak)
	post application/x-ndjson "@$SM_TMP/b$1"
	expect_answer 200 \
	    "{\"stored\":0,\"duplicates\":$1,\"api\":\"sm-store\"}"
	DUP_EXEC=$(( $(executed) - e1 ))
	NEW_EXEC=$((e1 - e0))
	DUP_PEAK=$(peak)
	echo "$1 records: session peak $NEW_PEAK bytes after them new," \
	    "$DUP_PEAK after them again; statements $NEW_EXEC, $DUP_EXEC"
}
for n in 20000 40000; do
	body $n "d$n"
	# 37 bytes a name, copied at least once: 740 KB for 20,000
	[ $((DUP_PEAK - NEW_PEAK)) -lt $((n * 37 / 4)) ] ||
	    fail "$n duplicates grew the session's peak memory from" \
	    "$NEW_PEAK to $DUP_PEAK bytes: a list of their names"
	# others' statements may come in between: a margin of 10
	[ "$DUP_EXEC" -le $((NEW_EXEC + 10)) ] ||
	    fail "$n duplicates took $DUP_EXEC statements, new $NEW_EXEC"
done
expect_eq rows "$(rows)" 60000
stop_receiver
echo ok
