#!/bin/sh
# sm-store on a replaced-system table that already holds rows: the missing
# columns and keys are added in place, the rows kept, old queries still
# work; a value the old column types cannot hold is refused by the server
# and reported, the rest stored.
. "$(dirname "$0")/store-lib.sh"

OLD_TABLE="CREATE TABLE system_metrics (
  id INT AUTO_INCREMENT PRIMARY KEY,
  total_ram INT, ram_libre INT, uso_ram INT,
  porcentaje_ram DECIMAL(5,2), porcentaje_cpu_uso DECIMAL(5,2),
  porcentaje_cpu_libre DECIMAL(5,2),
  procesos_corriendo INT, total_procesos INT, procesos_durmiendo INT,
  procesos_zombie INT, procesos_parados INT,
  hora DATETIME,
  data_source VARCHAR(50),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)"
OLD_INSERT="INSERT INTO system_metrics (total_ram, ram_libre, uso_ram,
  porcentaje_ram, porcentaje_cpu_uso, porcentaje_cpu_libre,
  procesos_corriendo, total_procesos, procesos_durmiendo, procesos_zombie,
  procesos_parados, hora, data_source) VALUES
  (3913, 2413, 1500, 38, 2, 98, 1, 113, 112, 0, 0, '2025-06-27 16:47:23',
   'python_api'),
  (3913, 2400, 1513, 38.66, 7, 93, 2, 114, 112, 0, 0, '2025-06-27 16:47:24',
   'nodejs_api1'),
  (3913, 2390, 1523, 38.92, 5, 95, 1, 113, 111, 1, 0, '2025-06-27 16:47:25',
   'python_api')"
OLD_SELECT="SELECT id, total_ram, ram_libre, uso_ram, porcentaje_ram,
  porcentaje_cpu_uso, porcentaje_cpu_libre, procesos_corriendo,
  total_procesos, procesos_durmiendo, procesos_zombie, procesos_parados,
  hora, data_source FROM system_metrics"

q "$OLD_TABLE"
q "$OLD_INSERT"
q "$OLD_SELECT ORDER BY id" >"$SM_TMP/old.before"

echo "the old table gets sm's columns and keys; its rows stay"
head -n 10 "$FIX/seed-records.ndjson" >"$SM_TMP/ten"
expect_status 0 "$STORE" <"$SM_TMP/ten"
expect_err "sm-store: added sm's columns and keys to table system_metrics"
expect_err "sm-store: 10 stored, 0 duplicates, 0 rejected"
expect_eq rows "$(rows)" 13
q "$OLD_SELECT WHERE id <= 3 ORDER BY id" | diff -u "$SM_TMP/old.before" - ||
    fail "old rows changed"
expect_eq "old rows' new columns" "$(q 'SELECT COUNT(*) FROM system_metrics
    WHERE id <= 3 AND sample_id IS NULL AND host IS NULL AND
    sampled_at IS NULL AND ram_available IS NULL')" 3
expect_eq "new rows" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics WHERE id > 3 AND sampled_at = hora')" 10
q "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = '$TESTDB' AND TABLE_NAME = 'system_metrics'
    AND ORDINAL_POSITION > 15 ORDER BY ORDINAL_POSITION" >"$SM_TMP/cols"
cat >"$SM_TMP/want" <<'EOF'
sample_id	char(36)	YES
host	varchar(255)	YES
collector	varchar(32)	YES
sampled_at	datetime(3)	YES
ram_available	bigint(20)	YES
threads	int(11)	YES
EOF
diff -u "$SM_TMP/want" "$SM_TMP/cols" || fail "added columns"
q "SELECT INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY
    SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA =
    '$TESTDB' AND TABLE_NAME = 'system_metrics' GROUP BY INDEX_NAME,
    NON_UNIQUE ORDER BY INDEX_NAME" >"$SM_TMP/keys"
cat >"$SM_TMP/want" <<'EOF'
ix_system_metrics_host_sampled	1	host,sampled_at
PRIMARY	0	id
uk_system_metrics_sample_id	0	sample_id
EOF
diff -u "$SM_TMP/want" "$SM_TMP/keys" || fail "keys"

echo "the replaced system's queries still work"
expect_eq "latest row" "$(q 'SELECT total_ram, data_source FROM system_metrics
    ORDER BY id DESC LIMIT 1')" "$(printf '3913\tsm-store')"
expect_eq "split by api" "$(q "SELECT data_source, COUNT(*) FROM system_metrics
    GROUP BY data_source ORDER BY data_source" | tr '\t\n' ' ')" \
    "nodejs_api1 1 python_api 2 sm-store 10 "

echo "a second run changes nothing in the table"
expect_status 0 "$STORE" --echo <"$SM_TMP/ten"
grep -q "added sm's columns" "$SM_TMP/err" && fail "migrated twice"
cp "$SM_TMP/out" "$SM_TMP/ten.echoed"
expect_status 0 "$STORE" <"$SM_TMP/ten.echoed"
expect_err "sm-store: 0 stored, 10 duplicates, 0 rejected"
expect_eq rows "$(rows)" 23

echo "a value the old INT columns cannot hold: refused, reported, rest stored"
{
	sed -n 11p "$FIX/seed-records.ndjson"
	sed -n 12p "$FIX/seed-records.ndjson" |
	    sed 's/"total_ram":3913/"total_ram":3000000000/'
	sed -n 13p "$FIX/seed-records.ndjson"
} >"$SM_TMP/big"
expect_status 1 "$STORE" --reject "$SM_TMP/rejects" <"$SM_TMP/big"
expect_err "sm-store: line 2: the database refused it: insert: Out of range value for column 'total_ram'"
expect_err "sm-store: 2 stored, 0 duplicates, 1 rejected"
expect_eq rows "$(rows)" 25
grep -q '^{"line":2,"reason":"the database refused it: insert: Out of range value for column .total_ram.*","record":{"id":"[0-9a-f-]*","ts":"2025-06-27T16:47:28.000Z",.*"ram_total":3000000000,' \
    "$SM_TMP/rejects" || fail "reject file: $(cat "$SM_TMP/rejects")"

sed -i 's/"hora":"2025-06-27 16:47:3/"hora":"2025-06-28 16:47:3/' "$SM_TMP/big"
expect_status 1 env SM_STORE_BULK=0 "$STORE" <"$SM_TMP/big"
expect_err "sm-store: line 2: the database refused it: insert: Out of range value for column 'total_ram'"
expect_err "sm-store: 2 stored, 0 duplicates, 1 rejected"
expect_eq rows "$(rows)" 27

echo "the receiver: such a request is refused whole (400), nothing stored"
start_receiver recv
post application/json "[$(sed -n 14p "$FIX/seed-records.ndjson"),$(sed -n 2p "$SM_TMP/big")]"
[ "$CODE" = 400 ] || fail "status $CODE: $(cat "$SM_TMP/body")"
grep -q '^{"error":"invalid records","api":"sm-store","errors":\[{"index":1,"reason":"the database refused it: insert: Out of range value for column .total_ram. at row 1 (1264)"}\]}$' \
    "$SM_TMP/body" || fail "answer: $(cat "$SM_TMP/body")"
expect_eq rows "$(rows)" 27
post application/json "$(sed -n 14p "$FIX/seed-records.ndjson")"
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
stop_receiver

echo "two stores migrating the same old table at once both succeed"
DB2=${TESTDB}_b
make_db "$DB2"
at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $DB2' || true"
$ADMIN_SQL "$DB2" -e "$OLD_TABLE; $OLD_INSERT"
URL2=$(printf '%s\n' "$SM_DB" | sed "s|/$TESTDB\$|/$DB2|")
for i in 1 2 3; do
	sed -n "${i}p" "$FIX/seed-records.ndjson" |
	    "$STORE" --db "$URL2" 2>"$SM_TMP/race$i.err" &
	eval "race$i=\$!"
done
for i in 1 2 3; do
	eval "wait \$race$i" ||
	    fail "concurrent migration $i: $(cat "$SM_TMP/race$i.err")"
done
expect_eq "rows after the race" "$($ADMIN_SQL -N "$DB2" -e \
    'SELECT COUNT(*), COUNT(sample_id) FROM system_metrics' | tr '\t' ' ')" \
    "6 3"
echo "ok"
