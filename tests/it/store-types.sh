#!/bin/sh
# The table's types (sm-store(1), "The table"): a new table holds sample
# ids in the server's UUID type, MiB in INT, counts in MEDIUMINT; a record
# sent again, its id in capitals, is still one row, and sm-tail prints the
# ids in lower case, by polls and from the binary log.  A table the
# previous sm made (CHAR(36) ids, BIGINT and INT figures) is written and
# read as it is, and the ALTER of sm-store(1) converts it, every row and
# id kept, while sm-tail -f follows it.
. "$(dirname "$0")/tail-lib.sh"
. "$(dirname "$0")/store-lib.sh"	# after: its SM_DB is the test's

pids=""
at_exit 'for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done'
T="$SM_BIN/sm-tail -f -n 0"
FOLLOW_SAYS=1

# types DB: the types of the columns whose type sm chose
types() {
	$ADMIN_SQL -N -B -e "SELECT GROUP_CONCAT(COLUMN_NAME, ' ', DATA_TYPE
	    ORDER BY COLUMN_NAME SEPARATOR ', ') FROM information_schema.COLUMNS
	    WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = 'system_metrics' AND
	    (COLUMN_NAME IN ('sample_id', 'threads') OR COLUMN_NAME LIKE
	    'ram\_%' OR COLUMN_NAME LIKE '%\_processes') AND
	    COLUMN_NAME != 'ram_percentage'"
}
# upper: ids in capitals (records with hex letters in their ids)
upper() {
	sed -E 's/"id":"([^"]*)"/"id":"\U\1"/'
}
# sorted_ids FILE: the ids of sm-tail's NDJSON in FILE, sorted
sorted_ids() {
	ids <"$1" | LC_ALL=C sort
}
# same_ids A B: the two files show the same ids, each once, lower case
same_ids() {
	sorted_ids "$1" >"$SM_TMP/ids.a"
	sorted_ids "$2" >"$SM_TMP/ids.b"
	diff -u "$SM_TMP/ids.a" "$SM_TMP/ids.b" >&2 ||
	    fail "$1 and $2 show different ids"
	[ -z "$(uniq -d "$SM_TMP/ids.a")" ] || fail "$1: an id twice"
	! grep -q '[A-F]' "$SM_TMP/ids.a" || fail "$1: ids in capitals"
}

echo "a new table: UUID, INT, MEDIUMINT"
gen_records 2 abcd0000 | expect_status 0 "$STORE"
expect_eq types "$(types "$TESTDB")" "ram_available int, ram_free int,\
 ram_total int, ram_used int, running_processes mediumint, sample_id uuid,\
 sleeping_processes mediumint, stopped_processes mediumint, threads\
 mediumint, total_processes mediumint, zombie_processes mediumint"

echo "sent again, in capitals: one row each; followers print lower case"
follow_start nb --db "$SM_DB" --via binlog
follow_start np --db "$SM_DB" --via poll --interval 0.05
wait_until 20 "the followers to start" has_line "$SM_TMP/nb.err" \
    "following the binary log"
gen_records 20 abcd0001 | upper >"$SM_TMP/new"
expect_status 0 "$STORE" <"$SM_TMP/new"
expect_err "sm-store: 20 stored, 0 duplicates, 0 rejected"
{ gen_records 2 abcd0000; gen_records 20 abcd0001; } |
    expect_status 0 "$STORE"
expect_err "sm-store: 0 stored, 22 duplicates, 0 rejected"
upper <"$SM_TMP/new" | expect_status 0 "$STORE"
expect_err "sm-store: 0 stored, 20 duplicates, 0 rejected"
expect_eq rows "$(rows)" 22
wait_until 20 "20 rows from the log" lines_at_least "$SM_TMP/nb.out" 20
wait_until 20 "20 rows by polls" lines_at_least "$SM_TMP/np.out" 20
"$SM_BIN/sm-tail" -n 20 >"$SM_TMP/n.out"
grep -q '"id":"abcd0001-0000-7000-8000-000000000013"' "$SM_TMP/n.out" ||
    fail "sm-tail: $(head -n 1 "$SM_TMP/n.out")"
same_ids "$SM_TMP/n.out" "$SM_TMP/nb.out"
same_ids "$SM_TMP/n.out" "$SM_TMP/np.out"
follow_stop nb
follow_stop np

echo "the previous sm's table: written and read as it is"
OLD=${TESTDB}_old
make_db "$OLD"
at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $OLD' || true"
OLD_URL=$(printf '%s\n' "$SM_DB" | sed "s|/$TESTDB\$|/$OLD|")
# today's table with the types it had: ids CHAR(36), MiB BIGINT, counts INT
$ADMIN_SQL -N -B --raw "$TESTDB" -e "SHOW CREATE TABLE system_metrics" |
    cut -f 2- | sed -E \
    -e 's/`sample_id` uuid/`sample_id` char(36) CHARACTER SET ascii/' \
    -e 's/`(ram_[a-z]+)` int\([0-9]+\)/`\1` bigint/' \
    -e 's/`([a-z]+_processes|threads)` mediumint\([0-9]+\)/`\1` int/' \
    >"$SM_TMP/old.sql"
grep -q 'PARTITION BY RANGE' "$SM_TMP/old.sql" ||
    fail "no partitions: $(cat "$SM_TMP/old.sql")"
$ADMIN_SQL "$OLD" <"$SM_TMP/old.sql" ||
    fail "old table: $(cat "$SM_TMP/old.sql")"
expect_eq "old types" "$(types "$OLD")" "ram_available bigint, ram_free\
 bigint, ram_total bigint, ram_used bigint, running_processes int, sample_id\
 char, sleeping_processes int, stopped_processes int, threads int,\
 total_processes int, zombie_processes int"
types "$OLD" >"$SM_TMP/old.types"
follow_start ob --db "$OLD_URL" --via binlog
follow_start op --db "$OLD_URL" --via poll --interval 0.05
wait_until 20 "the followers to start" has_line "$SM_TMP/ob.err" \
    "following the binary log"
gen_records 10 abcd0002 | expect_status 0 "$STORE" --db "$OLD_URL"
expect_err "sm-store: 10 stored, 0 duplicates, 0 rejected"
gen_records 10 abcd0002 | upper |
    expect_status 0 "$STORE" --db "$OLD_URL"
expect_err "sm-store: 0 stored, 10 duplicates, 0 rejected"
expect_eq types "$(types "$OLD")" "$(cat "$SM_TMP/old.types")"

echo "converted by sm-store(1)'s ALTER under the followers: rows and ids kept"
"$SM_BIN/sm-tail" --db "$OLD_URL" -n 100 >"$SM_TMP/before.out"
sed -n '/^ALTER TABLE system_metrics MODIFY sample_id/,/^\.Ed/p' \
    "$SM_TOP/man/sm-store.1" | grep -v '^\.Ed' >"$SM_TMP/alter.sql"
[ -s "$SM_TMP/alter.sql" ] || fail "no ALTER in sm-store.1"
$ADMIN_SQL "$OLD" <"$SM_TMP/alter.sql" || fail "the ALTER failed"
expect_eq types "$(types "$OLD")" "$(types "$TESTDB")"
"$SM_BIN/sm-tail" --db "$OLD_URL" -n 100 >"$SM_TMP/after.out"
diff -u "$SM_TMP/before.out" "$SM_TMP/after.out" ||
    fail "the rows differ after the ALTER"
gen_records 10 abcd0002 | upper |
    expect_status 0 "$STORE" --db "$OLD_URL"
expect_err "sm-store: 0 stored, 10 duplicates, 0 rejected"
gen_records 5 abcd0003 | expect_status 0 "$STORE" --db "$OLD_URL"
expect_err "sm-store: 5 stored, 0 duplicates, 0 rejected"
wait_until 20 "15 rows from the log" lines_at_least "$SM_TMP/ob.out" 15
wait_until 20 "15 rows by polls" lines_at_least "$SM_TMP/op.out" 15
"$SM_BIN/sm-tail" --db "$OLD_URL" -n 100 >"$SM_TMP/all.out"
same_ids "$SM_TMP/all.out" "$SM_TMP/ob.out"
same_ids "$SM_TMP/all.out" "$SM_TMP/op.out"
follow_stop ob
follow_stop op
echo ok
