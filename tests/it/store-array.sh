#!/bin/sh
# sm-store, stdin mode: a batch of 4095 rows (the default) is one array
# execution with no transaction around it.  A row the server refuses in the
# middle leaves none of the others stored by the refused statement: the
# redo stores them once (no duplicates counted), the refused row is reported
# with its line, and a replay stores nothing twice.
. "$(dirname "$0")/store-lib.sh"

# 4095 canonical records with ids; line 3000 has 13 threads
awk 'BEGIN {
	for (i = 1; i <= 4095; i++)
		printf("{\"id\":\"01a2187e-8992-706a-a64f-%012x\"," \
		    "\"ts\":\"2026-11-26T15:34:35.666Z\",\"host\":\"h\"," \
		    "\"cpu_usage\":5,\"cpu_free\":95,\"ram_total\":100," \
		    "\"ram_free\":50,\"ram_available\":50,\"ram_used\":50," \
		    "\"ram_percentage\":50,\"total_processes\":5," \
		    "\"running_processes\":1,\"sleeping_processes\":4," \
		    "\"stopped_processes\":0,\"zombie_processes\":0," \
		    "\"threads\":%d}\n", i, i == 3000 ? 13 : 100)
}' >"$SM_TMP/in.ndjson"

echo "the table, then a constraint the server checks for every row"
head -n 1 "$SM_TMP/in.ndjson" >"$SM_TMP/one"
expect_status 0 "$STORE" <"$SM_TMP/one"
q "TRUNCATE system_metrics"
q "ALTER TABLE system_metrics ADD CONSTRAINT no13 CHECK (threads <> 13)"

echo "one refused row among 4095: the other 4094 stored once"
expect_status 1 "$STORE" <"$SM_TMP/in.ndjson"
expect_err "sm-store: line 3000: the database refused it"
expect_err "sm-store: 4094 stored, 0 duplicates, 1 rejected"
expect_eq rows "$(rows)" 4094
expect_eq "row 3000" "$(q "SELECT COUNT(*) FROM system_metrics
    WHERE sample_id = '01a2187e-8992-706a-a64f-000000000bb8'")" 0

echo "a replay stores nothing twice"
expect_status 1 "$STORE" <"$SM_TMP/in.ndjson"
expect_err "sm-store: 0 stored, 4094 duplicates, 1 rejected"
expect_eq rows "$(rows)" 4094

echo "without the bad row: one statement, all new rows stored"
q "TRUNCATE system_metrics"
sed 's/"threads":13}/"threads":14}/' "$SM_TMP/in.ndjson" >"$SM_TMP/good"
expect_status 0 "$STORE" <"$SM_TMP/good"
expect_err "sm-store: 4095 stored, 0 duplicates, 0 rejected"
expect_eq rows "$(rows)" 4095
# no AUTO_INCREMENT ids burnt by the array execution (2^k - 1 rows)
expect_eq "ids" "$(q 'SELECT MAX(id) - MIN(id) + 1 FROM system_metrics')" \
    4095
