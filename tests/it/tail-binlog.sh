#!/bin/sh
# sm-tail -f --via binlog against MariaDB with its binary log: a
# transaction held open past --gap-timeout is shown (polls give it up),
# rolled-back rows never are, interleaved writers' rows come once each, a
# transaction's rows together, as polls would print them; no SELECT while
# idle.  On a private server: FLUSH BINARY LOGS, a restart and a purged
# position lose and repeat nothing; missing grants and binlog_format
# STATEMENT are said, polled under auto and refused under --via binlog.
. "$(dirname "$0")/store-lib.sh"
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_binlog_$$
pids=""
at_exit "follow_cleanup $NAME"
URL=$(tail_db $NAME)
T="$SM_BIN/sm-tail -f -n 1"
# it says how it follows
FOLLOW_SAYS=1

# once FILE: every row of FILE (sm-tail's NDJSON) once
once() {
	ids <"$1" | LC_ALL=C sort | uniq -d >"$SM_TMP/dups"
	[ ! -s "$SM_TMP/dups" ] ||
	    fail "$1: printed twice: $(head -n 3 "$SM_TMP/dups")"
}

gen_records 1 9 0 h0 | "$SM_BIN/sm-store" --db "$URL" --source setup \
    2>/dev/null

echo "a transaction open past --gap-timeout: the log shows it, polls give it up"
follow_start bl --db "$URL" --via binlog --gap-timeout 0.3
follow_start pl --db "$URL" --via poll --gap-timeout 0.3 --interval 0.05
for f in bl pl; do
	wait_until 20 "sm-tail -f ($f) to start" has_line "$SM_TMP/$f.out" \
	    9-0000-7000
done
has_line "$SM_TMP/bl.err" "following the binary log from" ||
    fail "--via binlog did not say how it follows: $(cat "$SM_TMP/bl.err")"
session_open $NAME
echo "BEGIN; $(one_row 13 1)" >&3
wait_until 20 "X to be inserted" trx_writing $NAME
gen_records 1 14 2 h0 | "$SM_BIN/sm-store" --db "$URL" --source y 2>/dev/null
for f in bl pl; do
	wait_until 20 "Y on $f" has_line "$SM_TMP/$f.out" \
	    0000000e-0000-7000-8000-000000000002
done
# well past the 0.3 s both were given
sleep 1.5
grep -q 0000000d- "$SM_TMP/bl.out" && fail "X shown before its COMMIT"
echo "COMMIT;" >&3
wait_until 20 "X after its COMMIT" has_line "$SM_TMP/bl.out" \
    0000000d-0000-7000-8000-000000000001
# a rolled-back row: never shown
echo "BEGIN; $(one_row 15 3) ROLLBACK;" >&3
gen_records 1 16 4 h0 | "$SM_BIN/sm-store" --db "$URL" --source z 2>/dev/null
for f in bl pl; do
	wait_until 20 "Z on $f" has_line "$SM_TMP/$f.out" \
	    00000010-0000-7000-8000-000000000004
done
exec 3>&-
wait $session || fail "mariadb session: $(cat "$SM_TMP/session.out")"
follow_stop pl
ids <"$SM_TMP/bl.out" | diff -u - /dev/fd/4 4<<'EOF' ||
00000009-0000-7000-8000-000000000000
0000000e-0000-7000-8000-000000000002
0000000d-0000-7000-8000-000000000001
00000010-0000-7000-8000-000000000004
EOF
    fail "--via binlog: not each committed row once, in commit order"
! grep -q 0000000d- "$SM_TMP/pl.out" ||
    fail "polls did not give X up: nothing compared"
echo "bl: X shown at its commit; pl: X given up"

echo "no SELECT reaches the server while the log is idle"
# one client session around the wait: DO and SHOW are no SELECTs
com_select_in() {
	"$SM_TOP"/scripts/mariadb.sh sql -N -B -e "SHOW GLOBAL STATUS LIKE
	    'Com_select'; DO SLEEP($1); SHOW GLOBAL STATUS LIKE 'Com_select'" |
	    awk 'NR == 1 { a = $2 } NR == 2 { print $2 - a }'
}
n=$(com_select_in 2)
echo "SELECTs in 2 s: $n with --via binlog"
[ "$n" -eq 0 ] || fail "--via binlog: $n SELECTs in 2 s idle"
follow_start pl2 --db "$URL" --via poll --interval 0.05
wait_until 20 "sm-tail -f (pl2) to start" lines_at_least "$SM_TMP/pl2.out" 1
n=$(com_select_in 1)
echo "SELECTs in 1 s: $n with --via poll --interval 0.05"
[ "$n" -gt 5 ] || fail "polls: only $n SELECTs in 1 s: nothing compared"
follow_stop pl2

echo "two writers, interleaved: each row once, a transaction's rows together"
gen_sql_txs 1500 10 ha client_a 7 >"$SM_TMP/a.sql"
sql_as_sm $NAME <"$SM_TMP/a.sql" >"$SM_TMP/a.log" 2>&1 &
writer_a=$!
(
	i=0
	while [ $i -lt 1500 ]; do
		gen_records 100 11 $i hb
		i=$((i + 100))
		sleep 0.05
	done
) | "$SM_BIN/sm-store" --db "$URL" --source store_b --batch 7 \
    --flush-ms 2 2>"$SM_TMP/b.log" &
writer_b=$!
# one more, started while they write: the whole table (history, then the
# log from the same snapshot), each row once, none lost at the seam
sleep 1
follow_start seam --db "$URL" --via binlog -n 100000
wait $writer_a || fail "writer A: $(cat "$SM_TMP/a.log")"
wait $writer_b || fail "writer B: $(cat "$SM_TMP/b.log")"
# 4 rows before, 3,000 now
wait_until 30 "3,004 rows on sm-tail -f --via binlog" \
    lines_at_least "$SM_TMP/bl.out" 3004
sleep 0.5
follow_stop bl
wait_until 30 "3,004 rows on the seam's follower" \
    lines_at_least "$SM_TMP/seam.out" 3004
sleep 0.3
follow_stop seam
once "$SM_TMP/seam.out"
"$SM_TOP"/scripts/mariadb.sh sql -N -e "SELECT sample_id FROM
    $NAME.system_metrics" | LC_ALL=C sort >"$SM_TMP/table.ids"
ids <"$SM_TMP/seam.out" | LC_ALL=C sort | diff -u "$SM_TMP/table.ids" - \
    >"$SM_TMP/seam.diff" ||
    fail "the seam: printed != table: $(head "$SM_TMP/seam.diff")"
echo "seam: $(grep -c . "$SM_TMP/seam.out") rows, history and log, each once"
once "$SM_TMP/bl.out"
[ "$(wc -l <"$SM_TMP/bl.out")" -eq 3004 ] ||
    fail "bl: $(wc -l <"$SM_TMP/bl.out") rows, want 3004"
! grep -q -- '-8000-0000000f42' "$SM_TMP/bl.out" ||
    fail "a rolled back row was printed"
# each row as polls print it (every column decoded as the server sends it)
"$SM_BIN/sm-tail" --db "$URL" -n 3004 >"$SM_TMP/polled.out" ||
    fail "sm-tail -n 3004"
LC_ALL=C sort "$SM_TMP/bl.out" >"$SM_TMP/bl.sorted"
LC_ALL=C sort "$SM_TMP/polled.out" | diff -u - "$SM_TMP/bl.sorted" \
    >"$SM_TMP/rows.diff" ||
    fail "the log's rows differ from the table's: $(head "$SM_TMP/rows.diff")"
# writer A's transactions: their rows one after the other (at the commit)
awk '
	NR == FNR {
		if ($0 ~ /^BEGIN/)
			tx++
		s = $0
		while (match(s, /[0-9a-f]{8}-0000-7000-8000-[0-9a-f]{12}/)) {
			of[substr(s, RSTART, RLENGTH)] = tx
			s = substr(s, RSTART + RLENGTH)
		}
		next
	}
	{
		pos++
		if (!($0 in of))
			next
		t = of[$0]
		if (!(t in first))
			first[t] = pos
		last[t] = pos
		n[t]++
	}
	END {
		for (t in n)
			if (last[t] - first[t] + 1 != n[t]) {
				print "transaction " t " split: rows " first[t] \
				    " to " last[t] " hold " n[t] " of its rows"
				bad = 1
			}
		exit bad
	}' "$SM_TMP/a.sql" /dev/fd/4 4<<EOF || fail "a transaction's rows were not shown together"
$(ids <"$SM_TMP/bl.out")
EOF
inversions=$(ids <"$SM_TMP/bl.out" | awk '
	NR == FNR { id[$1] = $2; next }
	($1 in id) { if (id[$1] + 0 < max) n++; else max = id[$1] + 0 }
	END { print n + 0 }' /dev/fd/4 - 4<<EOF
$("$SM_TOP"/scripts/mariadb.sh sql -N -e "SELECT sample_id, id FROM $NAME.system_metrics")
EOF
)
echo "rows shown after a row with a higher id (commit order): $inversions"
[ "$inversions" -gt 0 ] || fail "no commit out of id order: nothing tested"

echo "a replaced-system table (INT id, FLOAT): the log's rows as polls print them"
R=${NAME}_r
URL2=$(tail_db $R)
at_exit "tail_db_drop $R"
"$SM_TOP"/scripts/mariadb.sh sql $R <"$SM_TOP/tests/fixtures/replaced-table.sql"
# sm-store adds its columns to it
gen_records 1 30 0 r0 | "$SM_BIN/sm-store" --db "$URL2" --source r 2>/dev/null
follow_start rt --db "$URL2" --via binlog
wait_until 20 "sm-tail -f (rt) to start" lines_at_least "$SM_TMP/rt.out" 1
gen_records 30 31 0 r1 | "$SM_BIN/sm-store" --db "$URL2" --source r \
    2>/dev/null
# and a row the way the replaced APIs wrote it
sql_as_sm $R -e "INSERT INTO system_metrics (ram_total, ram_free, ram_used,
    ram_percentage, cpu_usage, cpu_free, running_processes, total_processes,
    sleeping_processes, zombie_processes, stopped_processes, data_source)
    VALUES (3913, 2390, 1523, 38.92, 5.1, 94.9, 1, 113, 111, 1, 0,
    'python_api')"
wait_until 20 "32 rows on rt" lines_at_least "$SM_TMP/rt.out" 32
follow_stop rt
"$SM_BIN/sm-tail" --db "$URL2" -n 32 | LC_ALL=C sort >"$SM_TMP/rt.polled"
LC_ALL=C sort "$SM_TMP/rt.out" | diff -u "$SM_TMP/rt.polled" - ||
    fail "replaced table: the log's rows differ from the table's"

echo "TRUNCATE in the log: ids restart; ALTER: polls, then the log again"
follow_start dd --db "$URL" --via binlog -n 0
wait_until 20 "sm-tail -f (dd) to start" has_line "$SM_TMP/dd.err" \
    "following the binary log"
"$SM_TOP"/scripts/mariadb.sh sql -e "TRUNCATE TABLE $NAME.system_metrics"
gen_records 3 40 0 t0 | "$SM_BIN/sm-store" --db "$URL" --source t 2>/dev/null
wait_until 20 "the rows after TRUNCATE" lines_at_least "$SM_TMP/dd.out" 3
wait_until 20 "the TRUNCATE said" has_line "$SM_TMP/dd.err" \
    "ids started again"
"$SM_TOP"/scripts/mariadb.sh sql -e "ALTER TABLE $NAME.system_metrics
    ADD COLUMN extra INT NULL"
gen_records 3 41 0 t1 | "$SM_BIN/sm-store" --db "$URL" --source t 2>/dev/null
wait_until 20 "the rows after ALTER" lines_at_least "$SM_TMP/dd.out" 6
wait_until 20 "the ALTER said" has_line "$SM_TMP/dd.err" \
    "following by polls after id 3: the table was altered"
wait_until 20 "the log again" has_line "$SM_TMP/dd.err" \
    "following the binary log again"
gen_records 3 42 0 t2 | "$SM_BIN/sm-store" --db "$URL" --source t 2>/dev/null
wait_until 20 "the rows back on the log" lines_at_least "$SM_TMP/dd.out" 9
sleep 0.3
follow_stop dd
[ "$(wc -l <"$SM_TMP/dd.out")" -eq 9 ] ||
    fail "dd: $(wc -l <"$SM_TMP/dd.out") rows, want 9"
once "$SM_TMP/dd.out"

echo "private server: FLUSH BINARY LOGS and a restart under -f lose and repeat nothing"
private_server
PURL="$PDB_URL"
pstore() {
	SM_DB_PASSWORD=$PDB_PASSWORD "$SM_BIN/sm-store" --db "$PURL" \
	    --source "$1" 2>>"$SM_TMP/pstore.log"
}
gen_records 1 20 0 p0 | pstore p || fail "sm-store on the private server"
SM_DB_PASSWORD=$PDB_PASSWORD $T --db "$PURL" --via binlog \
    >"$SM_TMP/rs.out" 2>"$SM_TMP/rs.err" &
pid_rs=$!
pids="$pids $pid_rs"
wait_until 20 "sm-tail -f (rs) to start" lines_at_least "$SM_TMP/rs.out" 1
gen_records 20 21 0 p1 | pstore a
wait_until 20 "20 rows" lines_at_least "$SM_TMP/rs.out" 21
pq "FLUSH BINARY LOGS"
gen_records 20 22 0 p2 | pstore b
wait_until 20 "the rows after FLUSH BINARY LOGS" lines_at_least \
    "$SM_TMP/rs.out" 41
pdb stop >/dev/null
wait_until 20 "sm-tail -f to say it is reconnecting" \
    has_line "$SM_TMP/rs.err" "; reconnecting"
pdb start >/dev/null
gen_records 20 23 0 p3 | pstore c
wait_until 30 "the rows after the restart" lines_at_least "$SM_TMP/rs.out" 61
has_line "$SM_TMP/rs.err" "connected again" || fail "$(cat "$SM_TMP/rs.err")"
! has_line "$SM_TMP/rs.err" "following by polls" ||
    fail "the log was left: $(cat "$SM_TMP/rs.err")"

echo "a purged position: polls from the last row shown, then the log again"
kill -STOP $pid_rs
# end its dump (a log a dump reads is never purged), then purge
pq "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE
    'Binlog Dump%'" | while read -r id; do pq "KILL $id" || true; done
gen_records 20 24 0 p4 | pstore d
pq "FLUSH BINARY LOGS"
# a file InnoDB may still need for recovery is purged a little later
purged() {
	pq "PURGE BINARY LOGS TO '$(pq "SHOW MASTER STATUS" | cut -f1)'" \
	    >/dev/null 2>&1 || true
	[ "$(pq "SHOW BINARY LOGS" | wc -l)" -eq 1 ]
}
wait_until 20 "the older binary logs purged" purged
kill -CONT $pid_rs
gen_records 20 25 0 p5 | pstore e
wait_until 20 "the rows after the purge" lines_at_least "$SM_TMP/rs.out" 101
has_line "$SM_TMP/rs.err" "following by polls after id" ||
    fail "the purge not said: $(cat "$SM_TMP/rs.err")"
wait_until 20 "the log again" has_line "$SM_TMP/rs.err" \
    "following the binary log again"
gen_records 20 26 0 p6 | pstore f
wait_until 20 "the rows after coming back" lines_at_least "$SM_TMP/rs.out" 121
sleep 0.3
kill -TERM $pid_rs
wait $pid_rs || fail "sm-tail -f (rs) exited $?: $(cat "$SM_TMP/rs.err")"
[ "$(wc -l <"$SM_TMP/rs.out")" -eq 121 ] ||
    fail "rs: $(wc -l <"$SM_TMP/rs.out") rows, want 121"
once "$SM_TMP/rs.out"

echo "no REPLICATION SLAVE: polls under auto, exit 2 under --via binlog"
WPW=weak$$
pdb sql -e "CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY '$WPW';
    GRANT ALL ON sm.* TO 'weak'@'127.0.0.1'"
WURL=$(printf '%s\n' "$PURL" | sed 's|//sm@|//weak@|')
expect_status 2 env SM_DB_PASSWORD=$WPW "$SM_BIN/sm-tail" -f -n 0 \
    --db "$WURL" --via binlog
expect_err "--via binlog: user weak@127.0.0.1 lacks the REPLICATION SLAVE privilege"
SM_DB_PASSWORD=$WPW $T --db "$WURL" --interval 0.05 \
    >"$SM_TMP/weak.out" 2>"$SM_TMP/weak.err" &
pid_weak=$!
pids="$pids $pid_weak"
wait_until 20 "auto to start" lines_at_least "$SM_TMP/weak.out" 1
gen_records 1 27 0 p7 | pstore g
wait_until 20 "a row, polled" has_line "$SM_TMP/weak.out" 0000001b-
kill -TERM $pid_weak
wait $pid_weak || fail "auto without the grant exited $?"
has_line "$SM_TMP/weak.err" "following by polls: user weak@127.0.0.1 lacks" ||
    fail "auto: $(cat "$SM_TMP/weak.err")"

echo "binlog_format STATEMENT: polls under auto, exit 2 under --via binlog"
pq "SET GLOBAL binlog_format = 'STATEMENT'"
expect_status 2 env SM_DB_PASSWORD=$PDB_PASSWORD "$SM_BIN/sm-tail" -f -n 0 \
    --db "$PURL" --via binlog
expect_err "--via binlog: binlog_format is STATEMENT, not ROW"
SM_DB_PASSWORD=$PDB_PASSWORD $T --db "$PURL" >/dev/null \
    2>"$SM_TMP/stmt.err" &
pid_stmt=$!
pids="$pids $pid_stmt"
wait_until 20 "auto to say it polls" has_line "$SM_TMP/stmt.err" \
    "following by polls: binlog_format is STATEMENT"
kill -TERM $pid_stmt
wait $pid_stmt || fail "auto under STATEMENT exited $?"
echo "ok"
