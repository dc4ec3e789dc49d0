#!/bin/sh
# sm-store on tables that already hold rows, migrated in place:
#  1. the replaced system's own table (its DDL verbatim, its rows): sm's
#     columns and keys are added, every row sm stores fills the replaced
#     system's columns, its latest-row query sees the new values, the old
#     rows stay as they were; sm-tail shows old and new rows;
#  2. a table made by sm 0.1 (Spanish-named columns): renamed in place,
#     values kept, hora dropped;
#  3. a replaced-system table that sm 0.1 had widened with its Spanish
#     columns: values copied into the replaced system's columns, the
#     Spanish ones dropped;
#  4. --no-migrate: nothing altered, exit 2 naming what is missing;
#  5. several stores migrating at once.
. "$(dirname "$0")/store-lib.sh"

TAIL="$SM_BIN/sm-tail"
# The replaced system's realtime service, verbatim.
LATEST="SELECT ram_total, ram_free, ram_used, ram_percentage, cpu_usage,
  cpu_free, running_processes, total_processes, sleeping_processes,
  zombie_processes, stopped_processes, data_source, created_at FROM
  system_metrics ORDER BY created_at DESC LIMIT 1"
OLD_SELECT="SELECT id, ram_total, ram_free, ram_used, ram_percentage,
  cpu_usage, cpu_free, running_processes, total_processes,
  sleeping_processes, zombie_processes, stopped_processes, data_source,
  created_at FROM system_metrics"
# columns of the table, name, type and nullability, in order
columns() {
	q "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM
	    information_schema.COLUMNS WHERE TABLE_SCHEMA = '${1:-$TESTDB}'
	    AND TABLE_NAME = 'system_metrics' ORDER BY ORDINAL_POSITION"
}
# other_db DB FIXTURE: another database, holding tests/fixtures/FIXTURE.sql;
# its URL in $URL.  qd DB SQL: a query there.
other_db() {
	make_db "$1"
	at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $1' || true"
	$ADMIN_SQL "$1" <"$FIX/$2.sql"
	URL=$(printf '%s\n' "$SM_DB" | sed "s|/$TESTDB\$|/$1|")
}
qd() {
	$ADMIN_SQL -N -B "$1" -e "$2"
}
keys() {
	q "SELECT INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY
	    SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE
	    TABLE_SCHEMA = '$TESTDB' AND TABLE_NAME = 'system_metrics'
	    GROUP BY INDEX_NAME, NON_UNIQUE ORDER BY INDEX_NAME"
}

echo "1. the replaced system's table: sm's columns and keys added"
$ADMIN_SQL "$TESTDB" <"$FIX/replaced-table.sql"
q "$OLD_SELECT ORDER BY id" >"$SM_TMP/old.before"
head -n 10 "$FIX/seed-records.ndjson" >"$SM_TMP/ten"
expect_status 0 "$STORE" <"$SM_TMP/ten"
expect_err "sm-store: added sm's columns and keys to table system_metrics"
expect_err "sm-store: 10 stored, 0 duplicates, 0 rejected"
grep -q "migrated" "$SM_TMP/err" && fail "nothing to rename: $(cat "$SM_TMP/err")"
expect_eq rows "$(rows)" 13
q "$OLD_SELECT WHERE id <= 3 ORDER BY id" | diff -u "$SM_TMP/old.before" - ||
    fail "old rows changed"
expect_eq "old rows' new columns" "$(q 'SELECT COUNT(*) FROM system_metrics
    WHERE id <= 3 AND sample_id IS NULL AND host IS NULL AND
    sampled_at IS NULL AND ram_available IS NULL')" 3
columns >"$SM_TMP/cols"
cat >"$SM_TMP/want" <<'EOF'
id	int(11)	NO
ram_total	bigint(20)	YES
ram_free	bigint(20)	YES
ram_used	bigint(20)	YES
ram_percentage	float	YES
cpu_usage	float	YES
cpu_free	float	YES
running_processes	int(11)	YES
total_processes	int(11)	YES
sleeping_processes	int(11)	YES
zombie_processes	int(11)	YES
stopped_processes	int(11)	YES
data_source	varchar(50)	YES
created_at	datetime	YES
sample_id	char(36)	YES
host	varchar(255)	YES
collector	varchar(32)	YES
sampled_at	datetime(3)	YES
ram_available	bigint(20)	YES
threads	int(11)	YES
EOF
diff -u "$SM_TMP/want" "$SM_TMP/cols" || fail "columns"
keys >"$SM_TMP/keys"
cat >"$SM_TMP/want" <<'EOF'
ix_system_metrics_host_sampled	1	host,sampled_at
PRIMARY	0	id
uk_system_metrics_sample_id	0	sample_id
EOF
diff -u "$SM_TMP/want" "$SM_TMP/keys" || fail "keys"

echo "every row sm stored fills the replaced system's columns"
# the seed's values, in its order: the replaced system's columns
awk -F'[:,{}]' '{
	for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tsm-store\n",
	    v["\"total_ram\""], v["\"ram_libre\""], v["\"uso_ram\""],
	    v["\"porcentaje_ram\""], v["\"porcentaje_cpu_uso\""],
	    v["\"porcentaje_cpu_libre\""], v["\"procesos_corriendo\""],
	    v["\"total_procesos\""], v["\"procesos_durmiendo\""],
	    v["\"procesos_zombie\""], v["\"procesos_parados\""])
}' "$SM_TMP/ten" >"$SM_TMP/want.tsv"
q "SELECT ram_total, ram_free, ram_used, ram_percentage, cpu_usage,
    cpu_free, running_processes, total_processes, sleeping_processes,
    zombie_processes, stopped_processes, data_source FROM system_metrics
    WHERE id > 3 AND created_at IS NOT NULL ORDER BY id" >"$SM_TMP/got.tsv"
diff -u "$SM_TMP/want.tsv" "$SM_TMP/got.tsv" || fail "replaced columns"

echo "through the receiver too; the latest-row query sees the new row"
sleep 1.1	# created_at has whole seconds: the next row must be newest
start_receiver recv --source nodejs_api1
post application/json '{"id":"01a2187e-8992-706a-a64f-7969378a9e01","ts":"2026-11-26T15:34:35.666Z","host":"node-a","collector":"procfs","cpu_usage":52.08,"cpu_free":47.92,"ram_total":24105,"ram_free":21939,"ram_available":22389,"ram_used":1716,"ram_percentage":7.12,"total_processes":89,"running_processes":3,"sleeping_processes":84,"stopped_processes":1,"zombie_processes":1,"threads":124}'
expect_answer 200 '{"stored":1,"duplicates":0,"api":"nodejs_api1"}'
stop_receiver
q "$LATEST" | cut -f 1-12 >"$SM_TMP/latest"
printf '24105\t21939\t1716\t7.12\t52.08\t47.92\t3\t89\t84\t1\t1\tnodejs_api1\n' |
    diff -u - "$SM_TMP/latest" || fail "latest-row query"
expect_eq "created_at set by the server" "$(q "SELECT COUNT(*) FROM
    system_metrics WHERE created_at >= NOW() - INTERVAL 1 MINUTE")" 11

echo "a second run changes nothing in the table"
columns >"$SM_TMP/cols.before"
expect_status 0 "$STORE" --echo <"$SM_TMP/ten"
grep -q "added sm's columns" "$SM_TMP/err" && fail "migrated twice"
columns | diff -u "$SM_TMP/cols.before" - || fail "columns changed"
cp "$SM_TMP/out" "$SM_TMP/ten.echoed"
expect_status 0 "$STORE" <"$SM_TMP/ten.echoed"
expect_err "sm-store: 0 stored, 10 duplicates, 0 rejected"
expect_eq rows "$(rows)" 24

echo "sm-tail shows the old rows and the new"
expect_status 0 "$TAIL" -n 24 --format ndjson
sed -n 1p "$SM_TMP/out" >"$SM_TMP/first"
echo '{"ts":"2025-06-27T16:47:23.000Z","cpu_usage":2,"cpu_free":98,"ram_total":3913,"ram_free":2413,"ram_available":2413,"ram_used":1500,"ram_percentage":38,"total_processes":113,"running_processes":1,"sleeping_processes":112,"stopped_processes":0,"zombie_processes":0}' |
    diff -u - "$SM_TMP/first" || fail "old row as NDJSON"
expect_eq "lines" "$(wc -l <"$SM_TMP/out")" 24
expect_eq "new rows with ids" "$(grep -c '^{"id":"' "$SM_TMP/out")" 21
expect_status 0 "$TAIL" -n 24 --format table
grep -q '^ *2 2025-06-27 16:47:24 - .* nodejs_api1 ' "$SM_TMP/out" ||
    fail "old row in the table: $(cat "$SM_TMP/out")"
expect_status 0 "$TAIL" -n 5 --since 2025-06-27T16:47:24Z --source python_api \
    --format ndjson
[ "$(wc -l <"$SM_TMP/out")" -eq 1 ] &&
    grep -q '^{"ts":"2025-06-27T16:47:25.000Z","cpu_usage":5,' "$SM_TMP/out" ||
    fail "--since over created_at: $(cat "$SM_TMP/out")"

echo "a value a column cannot hold: refused, reported, rest stored"
# a DBA's narrower column: only the server can refuse the value
q "ALTER TABLE system_metrics MODIFY ram_total SMALLINT"
{
	sed -n 11p "$FIX/seed-records.ndjson"
	sed -n 12p "$FIX/seed-records.ndjson" |
	    sed 's/"total_ram":3913/"total_ram":40000/'
	sed -n 13p "$FIX/seed-records.ndjson"
} >"$SM_TMP/big"
expect_status 1 "$STORE" --reject "$SM_TMP/rejects" <"$SM_TMP/big"
expect_err "sm-store: line 2: the database refused it: insert: Out of range value for column 'ram_total'"
expect_err "sm-store: 2 stored, 0 duplicates, 1 rejected"
expect_eq rows "$(rows)" 26
grep -q '^{"line":2,"reason":"the database refused it: insert: Out of range value for column .ram_total.*","record":{"id":"[0-9a-f-]*","ts":"2025-06-27T16:47:28.000Z",.*"ram_total":40000,' \
    "$SM_TMP/rejects" || fail "reject file: $(cat "$SM_TMP/rejects")"
expect_status 1 env SM_STORE_BULK=0 "$STORE" <"$SM_TMP/big"
expect_err "sm-store: line 2: the database refused it: insert: Out of range value for column 'ram_total'"
expect_err "sm-store: 2 stored, 0 duplicates, 1 rejected"
expect_eq rows "$(rows)" 28

echo "the receiver: such a request is refused whole (400), nothing stored"
start_receiver recv
post application/json "[$(sed -n 14p "$FIX/seed-records.ndjson"),$(sed -n 2p "$SM_TMP/big")]"
[ "$CODE" = 400 ] || fail "status $CODE: $(cat "$SM_TMP/body")"
grep -q '^{"error":"invalid records","api":"sm-store","errors":\[{"index":1,"reason":"the database refused it: insert: Out of range value for column .ram_total. at row 1 (1264)"}\]}$' \
    "$SM_TMP/body" || fail "answer: $(cat "$SM_TMP/body")"
expect_eq rows "$(rows)" 28
stop_receiver

echo "2. a table made by sm 0.1: renamed in place, values kept"
DB2=${TESTDB}_b
other_db "$DB2" sm-0.1-table
URL2=$URL
q2() { qd "$DB2" "$1"; }
q2 "SELECT id, total_ram, ram_libre, uso_ram, porcentaje_ram,
    porcentaje_cpu_uso, porcentaje_cpu_libre, procesos_corriendo,
    total_procesos, procesos_durmiendo, procesos_zombie, procesos_parados,
    data_source, created_at, sample_id, host, collector, sampled_at,
    ram_available, threads FROM system_metrics ORDER BY id" >"$SM_TMP/b.before"
expect_status 2 "$STORE" --db "$URL2" --no-migrate </dev/null
expect_err "sm-store: database ${URL2#mysql://}: table system_metrics needs migrating, which --no-migrate forbids (sm-store(1), MIGRATION): it lacks ram_total, ram_free,"
expect_err "stopped_processes; it has old columns total_ram, ram_libre, uso_ram, porcentaje_ram, porcentaje_cpu_uso, porcentaje_cpu_libre, procesos_corriendo, total_procesos, procesos_durmiendo, procesos_zombie, procesos_parados, hora"
expect_eq "untouched" "$(q2 "SELECT COUNT(*) FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = '$DB2' AND COLUMN_NAME = 'hora'")" 1
sed -n 14p "$FIX/seed-records.ndjson" >"$SM_TMP/one"
expect_status 0 "$STORE" --db "$URL2" <"$SM_TMP/one"
expect_err "sm-store: migrated table system_metrics of an older sm to the replaced system's column names"
expect_err "sm-store: 1 stored, 0 duplicates, 0 rejected"
grep -q "added sm's" "$SM_TMP/err" && fail "nothing to add: $(cat "$SM_TMP/err")"
q2 "SELECT id, ram_total, ram_free, ram_used, ram_percentage, cpu_usage,
    cpu_free, running_processes, total_processes, sleeping_processes,
    zombie_processes, stopped_processes, data_source, created_at, sample_id,
    host, collector, sampled_at, ram_available, threads FROM system_metrics
    WHERE id <= 2 ORDER BY id" | diff -u "$SM_TMP/b.before" - ||
    fail "sm 0.1 rows changed"
columns "$DB2" | cut -f 1 | tr '\n' ' ' >"$SM_TMP/cols"
expect_eq "columns" "$(cat "$SM_TMP/cols")" "id ram_total ram_free ram_used ram_percentage cpu_usage cpu_free running_processes total_processes sleeping_processes zombie_processes stopped_processes data_source created_at sample_id host collector sampled_at ram_available threads "
expect_eq "new row" "$(q2 "SELECT ram_total, total_processes,
    DATE_FORMAT(sampled_at, '%H:%i:%s') FROM system_metrics WHERE id = 3" |
    tr '\t' ' ')" "3913 113 16:47:28"

echo "3. a replaced-system table that sm 0.1 had widened"
DB3=${TESTDB}_c
other_db "$DB3" replaced-table
URL3=$URL
q3() { qd "$DB3" "$1"; }
# what sm 0.1 added to it, and a row as sm 0.1 stored it there
q3 "ALTER TABLE system_metrics ADD COLUMN total_ram BIGINT NULL,
    ADD COLUMN ram_libre BIGINT NULL, ADD COLUMN uso_ram BIGINT NULL,
    ADD COLUMN porcentaje_ram DECIMAL(5,2) NULL,
    ADD COLUMN porcentaje_cpu_uso DECIMAL(5,2) NULL,
    ADD COLUMN porcentaje_cpu_libre DECIMAL(5,2) NULL,
    ADD COLUMN procesos_corriendo INT NULL, ADD COLUMN total_procesos INT NULL,
    ADD COLUMN procesos_durmiendo INT NULL, ADD COLUMN procesos_zombie INT NULL,
    ADD COLUMN procesos_parados INT NULL, ADD COLUMN hora DATETIME NULL,
    ADD COLUMN sample_id CHAR(36) CHARACTER SET ascii NULL,
    ADD COLUMN host VARCHAR(255) NULL, ADD COLUMN collector VARCHAR(32) NULL,
    ADD COLUMN sampled_at DATETIME(3) NULL,
    ADD COLUMN ram_available BIGINT NULL, ADD COLUMN threads INT NULL,
    ADD UNIQUE KEY uk_system_metrics_sample_id (sample_id),
    ADD KEY ix_system_metrics_host_sampled (host, sampled_at);
    INSERT INTO system_metrics (total_ram, ram_libre, uso_ram, porcentaje_ram,
    porcentaje_cpu_uso, porcentaje_cpu_libre, procesos_corriendo,
    total_procesos, procesos_durmiendo, procesos_zombie, procesos_parados,
    hora, data_source, sample_id, host, collector, sampled_at, ram_available)
    VALUES (4000, 1000, 2500, 62.5, 12.5, 87.5, 2, 100, 97, 0, 1,
    '2026-01-02 03:04:05', 'sm-store', '01a2187e-8992-706a-a64f-7969378a9e99',
    'h', 'procfs', NULL, 1500)"
q3 "$OLD_SELECT WHERE id <= 3 ORDER BY id" >"$SM_TMP/c.before"
expect_status 0 "$STORE" --db "$URL3" <"$SM_TMP/one"
expect_err "sm-store: migrated table system_metrics of an older sm to the replaced system's column names"
q3 "$OLD_SELECT WHERE id <= 3 ORDER BY id" | diff -u "$SM_TMP/c.before" - ||
    fail "replaced rows changed"
expect_eq "copied" "$(q3 "SELECT ram_total, ram_free, ram_used,
    ram_percentage, cpu_usage, cpu_free, running_processes, total_processes,
    sleeping_processes, zombie_processes, stopped_processes,
    DATE_FORMAT(sampled_at, '%Y-%m-%d %H:%i:%s.%f') FROM system_metrics
    WHERE id = 4" | tr '\t' ' ')" \
    "4000 1000 2500 62.5 12.5 87.5 2 100 97 0 1 2026-01-02 03:04:05.000000"
expect_eq "no old columns" "$(columns "$DB3" | cut -f 1 | grep -c \
    -e total_ram -e ram_libre -e uso_ram -e porcentaje -e procesos -e hora)" 0
expect_eq "rows" "$(q3 'SELECT COUNT(*) FROM system_metrics')" 5

echo "4. --no-migrate on the replaced system's table: nothing added"
DB4=${TESTDB}_d
other_db "$DB4" replaced-table
URL4=$URL
expect_status 2 "$STORE" --db "$URL4" --no-migrate <"$SM_TMP/one"
expect_err "needs migrating, which --no-migrate forbids (sm-store(1), MIGRATION): it lacks sample_id, host, collector, sampled_at, ram_available, threads, the unique key on sample_id, the key on (host, sampled_at)"
expect_eq "columns" "$(columns "$DB4" | wc -l)" 14

echo "5. three stores migrating the same tables at once all succeed"
for t in replaced-table sm-0.1-table; do
	DB4=${TESTDB}_race_$(echo "$t" | tr -c 'a-z0-9\n' '_')
	other_db "$DB4" "$t"
	URL4=$URL
	for i in 1 2 3; do
		sed -n "${i}p" "$FIX/seed-records.ndjson" |
		    "$STORE" --db "$URL4" 2>"$SM_TMP/race$i.err" &
		eval "race$i=\$!"
	done
	for i in 1 2 3; do
		eval "wait \$race$i" || fail "$t: concurrent migration $i: \
$(cat "$SM_TMP/race$i.err")"
	done
	expect_eq "$t: rows after the race" "$($ADMIN_SQL -N "$DB4" -e \
	    'SELECT COUNT(*) FROM system_metrics WHERE ram_total IS NOT NULL')" \
	    "$(($(grep -c '^  (' "$FIX/$t.sql") + 3))"
done
echo "ok"
