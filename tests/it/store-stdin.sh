#!/bin/sh
# sm-store, stdin mode, against the real MariaDB: the seed fixture, canonical
# records, idempotent replay, bad lines among good ones, --flush-ms.
. "$(dirname "$0")/store-lib.sh"

# The old columns, as the replaced system's queries read them.
OLD_COLS="ram_total, ram_free, ram_used, ram_percentage, cpu_usage,
    cpu_free, running_processes, total_processes, sleeping_processes,
    zombie_processes, stopped_processes,
    DATE_FORMAT(sampled_at, '%Y-%m-%d %H:%i:%s'), data_source"

echo "the seed fixture (replaced system's dialect) goes in whole"
expect_status 0 "$STORE" <"$FIX/seed-records.ndjson"
expect_err "sm-store: created table system_metrics"
expect_err "sm-store: 200 stored, 0 duplicates, 0 rejected"
[ ! -s "$SM_TMP/out" ] || fail "stdout without --echo: $(cat "$SM_TMP/out")"
expect_eq rows "$(rows)" 200
expect_eq "distinct ids" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" 200
# every value, in file order (one batch: ids follow the lines)
awk -F'[:,{}]' '{
	for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
	gsub(/"/, "", v["\"hora\""])
	printf("%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s:%s:%s\tsm-store\n",
	    v["\"total_ram\""], v["\"ram_libre\""], v["\"uso_ram\""],
	    v["\"porcentaje_ram\""], v["\"porcentaje_cpu_uso\""],
	    v["\"porcentaje_cpu_libre\""], v["\"procesos_corriendo\""],
	    v["\"total_procesos\""], v["\"procesos_durmiendo\""],
	    v["\"procesos_zombie\""], v["\"procesos_parados\""],
	    v["\"hora\""], $(NF - 2), $(NF - 1))
}' "$FIX/seed-records.ndjson" | sed 's/"//g' >"$SM_TMP/want.tsv"
q "SELECT $OLD_COLS FROM system_metrics ORDER BY id" >"$SM_TMP/got.tsv"
diff -u "$SM_TMP/want.tsv" "$SM_TMP/got.tsv" || fail "seed values differ"
# what sm adds: ms time, derived ram_available, no host/collector/threads
expect_eq "added columns" "$(q "SELECT COUNT(*) FROM system_metrics WHERE
    created_at IS NOT NULL AND ram_available = ram_total - ram_used AND
    host IS NULL AND collector IS NULL AND threads IS NULL AND
    sample_id REGEXP '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-'")" 200

echo "identical seed lines are distinct samples: a second pass adds 200"
expect_status 0 "$STORE" --source python_api --echo \
    <"$FIX/seed-records.ndjson"
expect_err "sm-store: 200 stored, 0 duplicates, 0 rejected"
expect_eq rows "$(rows)" 400
# no AUTO_INCREMENT ids burnt: readers that page by id see no holes
expect_eq "ids" "$(q 'SELECT MIN(id), MAX(id) FROM system_metrics' |
    tr '\t' ' ')" "1 400"
cp "$SM_TMP/out" "$SM_TMP/echoed"
expect_eq "echoed lines" "$(wc -l <"$SM_TMP/echoed")" 200
expect_eq "python_api rows" "$(q "SELECT COUNT(*) FROM system_metrics
    WHERE data_source = 'python_api'")" 200
# the echo is canonical, with the ids that were stored
head -n 1 "$SM_TMP/echoed" | grep -q '^{"id":"[0-9a-f-]\{36\}","ts":"2025-06-27T16:47:23.000Z","cpu_usage":2,"cpu_free":98,"ram_total":3913,"ram_free":2413,"ram_available":2413,"ram_used":1500,"ram_percentage":38,' ||
    fail "echo: $(head -n 1 "$SM_TMP/echoed")"
cut -c8-43 "$SM_TMP/echoed" | sort >"$SM_TMP/echo.ids"
q "SELECT sample_id FROM system_metrics WHERE data_source = 'python_api'
    ORDER BY sample_id" >"$SM_TMP/db.ids"
diff -u "$SM_TMP/echo.ids" "$SM_TMP/db.ids" || fail "echoed ids differ"

echo "replaying records with ids stores nothing twice"
expect_status 0 "$STORE" --batch 7 <"$SM_TMP/echoed"
expect_err "sm-store: 0 stored, 200 duplicates, 0 rejected"
expect_eq rows "$(rows)" 400

echo "... also with multi-row INSERTs (what servers other than MariaDB get)"
expect_status 0 env SM_STORE_BULK=0 "$STORE" --batch 64 <"$SM_TMP/echoed"
expect_err "sm-store: 0 stored, 200 duplicates, 0 rejected"
head -n 150 "$FIX/seed-records.ndjson" >"$SM_TMP/150"
expect_status 0 env SM_STORE_BULK=0 "$STORE" --source multirow <"$SM_TMP/150"
expect_err "sm-store: 150 stored, 0 duplicates, 0 rejected"
expect_eq "multi-row rows" "$(q "SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics WHERE data_source = 'multirow'")" 150
q "DELETE FROM system_metrics WHERE data_source = 'multirow'"

echo "canonical records keep every field"
cat >"$SM_TMP/canon.ndjson" <<'EOF'
{"id":"01a2187e-8992-706a-a64f-7969378a9ec5","ts":"2026-11-26T15:34:35.666Z","host":"node-a","collector":"procfs","cpu_usage":52.08,"cpu_free":47.92,"ram_total":24105,"ram_free":21939,"ram_available":22389,"ram_used":1716,"ram_percentage":7.12,"total_processes":89,"running_processes":1,"sleeping_processes":88,"stopped_processes":0,"zombie_processes":0,"threads":124}
{"id":"01a2187e-8a19-74b9-84df-777ca7482104","ts":"2026-11-26T15:34:35.801Z","host":"nöde-b","collector":"kmod","cpu_usage":0.5,"cpu_free":99.5,"ram_total":3913,"ram_free":100,"ram_available":200,"ram_used":3713,"ram_percentage":94.89,"total_processes":5,"running_processes":2,"sleeping_processes":1,"stopped_processes":1,"zombie_processes":1}
EOF
# the same sample in the seed dialect, with its id in upper case
printf '%s\n' '{"id":"01A2187E-8992-706A-A64F-7969378A9EC5","total_ram":24105,"ram_libre":21939,"uso_ram":1716,"porcentaje_ram":7.12,"porcentaje_cpu_uso":52.08,"porcentaje_cpu_libre":47.92,"procesos_corriendo":1,"total_procesos":89,"procesos_durmiendo":88,"procesos_zombie":0,"procesos_parados":0,"hora":"2026-11-26 15:34:35"}' \
    >>"$SM_TMP/canon.ndjson"
expect_status 0 "$STORE" --echo --source nodejs_api1 <"$SM_TMP/canon.ndjson"
expect_err "sm-store: 2 stored, 1 duplicate, 0 rejected"
# canonical in, canonical out (the duplicate too: it is committed)
head -n 2 "$SM_TMP/canon.ndjson" >"$SM_TMP/canon.want"
head -n 2 "$SM_TMP/out" | diff -u "$SM_TMP/canon.want" - ||
    fail "echo of canonical records differs"
q "SELECT sample_id, DATE_FORMAT(sampled_at, '%Y-%m-%dT%H:%i:%s.%f'),
    host, collector, cpu_usage, cpu_free, ram_total, ram_free,
    ram_available, ram_used, ram_percentage, total_processes,
    running_processes, sleeping_processes, stopped_processes,
    zombie_processes, IFNULL(threads, '-'), data_source
    FROM system_metrics WHERE data_source = 'nodejs_api1'
    ORDER BY sample_id" >"$SM_TMP/got"
cat >"$SM_TMP/want" <<'EOF'
01a2187e-8992-706a-a64f-7969378a9ec5	2026-11-26T15:34:35.666000	node-a	procfs	52.08	47.92	24105	21939	22389	1716	7.12	89	1	88	0	0	124	nodejs_api1
01a2187e-8a19-74b9-84df-777ca7482104	2026-11-26T15:34:35.801000	nöde-b	kmod	0.50	99.50	3913	100	200	3713	94.89	5	2	1	1	1	-	nodejs_api1
EOF
diff -u "$SM_TMP/want" "$SM_TMP/got" || fail "canonical values differ"

echo "bad lines are reported and skipped; the good ones around them stored"
{
	sed -n 1p "$FIX/seed-records.ndjson"
	echo '{"total_ram":3913'
	echo '{"total_ram":3913,"ram_libre":2413}'
	sed -n 2p "$FIX/seed-records.ndjson"
	echo
	echo '[1,2]'
	printf '{"pad":"%s"}\n' "$(head -c 1100000 /dev/zero | tr '\0' x)"
	sed -n 3p "$FIX/seed-records.ndjson" | sed 's/"uso_ram":1500/"uso_ram":9999/'
	sed -n 4p "$FIX/seed-records.ndjson"
} >"$SM_TMP/mixed.ndjson"
before=$(rows)
expect_status 1 "$STORE" --reject "$SM_TMP/rejects" <"$SM_TMP/mixed.ndjson"
expect_err "sm-store: line 2: invalid JSON: truncated at column 18"
expect_err "sm-store: line 3: ts: missing"
expect_err "sm-store: line 6: not a JSON object but an array"
expect_err "sm-store: line 7: longer than 1048576 bytes"
expect_err "sm-store: line 8: ram_used (9999) exceeds ram_total (3913)"
expect_err "sm-store: 3 stored, 0 duplicates, 5 rejected"
expect_eq rows "$(rows)" $((before + 3))
cat >"$SM_TMP/want" <<'EOF'
{"line":2,"reason":"invalid JSON: truncated at column 18","text":"{\"total_ram\":3913"}
{"line":3,"reason":"ts: missing","record":{"total_ram":3913,"ram_libre":2413}}
{"line":6,"reason":"not a JSON object but an array","text":"[1,2]"}
{"line":7,"reason":"longer than 1048576 bytes","text":""}
EOF
head -n 4 "$SM_TMP/rejects" | diff -u "$SM_TMP/want" - || fail "reject file"
sed -n 5p "$SM_TMP/rejects" | grep -q '^{"line":8,"reason":"ram_used (9999) exceeds ram_total (3913)","record":{"total_ram":3913,' ||
    fail "reject file, line 5: $(sed -n 5p "$SM_TMP/rejects")"

echo "--strict: the lines before the first bad one stored, then stop"
before=$(rows)
expect_status 1 "$STORE" --strict <"$SM_TMP/mixed.ndjson"
expect_err "sm-store: line 2: invalid JSON: truncated at column 18"
expect_err "sm-store: --strict: stopped reading after line 2"
expect_err "sm-store: 1 stored, 0 duplicates, 1 rejected"
grep -q "line 3" "$SM_TMP/err" && fail "read on past line 2: $(cat "$SM_TMP/err")"
expect_eq rows "$(rows)" $((before + 1))

echo "--max-line: a longer line is rejected, never cut; the rest stored"
before=$(rows)
max=$(awk 'length($0) > m { m = length($0); n = NR } END { print m, n }' \
    "$FIX/seed-records.ndjson")
n=${max#* }
max=${max% *}
expect_status 1 "$STORE" --max-line $((max - 1)) <"$FIX/seed-records.ndjson"
expect_err "sm-store: line $n: longer than $((max - 1)) bytes"
rej=$(grep -c "longer than $((max - 1)) bytes" "$SM_TMP/err")
expect_eq "stored and rejected" "$(( $(rows) - before + rej ))" 200
expect_status 0 "$STORE" --max-line $max <"$FIX/seed-records.ndjson"
expect_status 2 "$STORE" --max-line 0
expect_err 'sm-store: --max-line: "0": want 1 to 268435456 bytes'

echo "--flush-ms: a slow trickle is stored before the next line comes"
mkfifo "$SM_TMP/fifo"
"$STORE" --flush-ms 100 <"$SM_TMP/fifo" 2>"$SM_TMP/trickle.err" &
spid=$!
exec 3>"$SM_TMP/fifo"
before=$(rows)
rows_are() { [ "$(rows)" = "$1" ]; }
sed -n 5p "$FIX/seed-records.ndjson" >&3
wait_for 100 rows_are $((before + 1))
sed -n 6p "$FIX/seed-records.ndjson" >&3
wait_for 100 rows_are $((before + 2))
exec 3>&-
wait $spid || fail "trickle: exit $?: $(cat "$SM_TMP/trickle.err")"
grep -q "2 stored, 0 duplicates, 0 rejected" "$SM_TMP/trickle.err" ||
    fail "trickle: $(cat "$SM_TMP/trickle.err")"

echo "SIGTERM mid-stream: what was read is stored, then a clean exit"
"$STORE" --flush-ms 60000 <"$SM_TMP/fifo" 2>"$SM_TMP/term.err" &
spid=$!
exec 3>"$SM_TMP/fifo"
before=$(rows)
sed -n 7,9p "$FIX/seed-records.ndjson" >&3
# SIGTERM is caught (bit 15 of SigCgt) once the database is open, not
# before: wait for that, then for the lines to be read
n=0
until sig=$(sed -n 's/^SigCgt:\t*//p' "/proc/$spid/status") &&
    [ $((0x$sig & 0x4000)) -ne 0 ]; do
	n=$((n + 1))
	[ "$n" -lt 200 ] || fail "sm-store never caught SIGTERM"
	sleep 0.05
done
sleep 0.5
kill -TERM $spid
wait $spid || fail "SIGTERM: exit $?: $(cat "$SM_TMP/term.err")"
exec 3>&-
expect_eq rows "$(rows)" $((before + 3))
grep -q "3 stored, 0 duplicates, 0 rejected" "$SM_TMP/term.err" ||
    fail "SIGTERM: $(cat "$SM_TMP/term.err")"
echo "ok"
