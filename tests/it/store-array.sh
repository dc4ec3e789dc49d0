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

echo "percentages: as text in array executions, the same values as doubles"
# whole hundredths go as text (store_cents), others (every 43rd row here)
# make their array go as doubles; --batch 1 is one exact INSERT a row,
# doubles always: both must store the same DECIMAL(5,2)s
pct() {
	awk -v pre="$1" 'BEGIN {
	for (c = 0; c <= 10000; c += 7) {
		u = sprintf("%d.%02d", int(c / 100), c % 100)
		f = sprintf("%d.%02d", int((10000 - c) / 100),
		    (10000 - c) % 100)
		r = sprintf("%.2f", (c * 37 % 10000) / 100)
		if (c % 301 == 0) {
			u = u "5"
			r = r "49"
		}
		printf("{\"id\":\"01a2187e-8992-706a-a64f-%s%011x\"," \
		    "\"ts\":\"2026-11-26T15:34:35.666Z\",\"host\":\"h\"," \
		    "\"cpu_usage\":%s,\"cpu_free\":%s,\"ram_total\":100," \
		    "\"ram_free\":50,\"ram_available\":50,\"ram_used\":50," \
		    "\"ram_percentage\":%s,\"total_processes\":5," \
		    "\"running_processes\":1,\"sleeping_processes\":4," \
		    "\"stopped_processes\":0,\"zombie_processes\":0}\n",
		    pre, c, u, f, r)
	}
	}'
}
q "TRUNCATE system_metrics"
pct 1 | grep -v '5,"cpu_free"' >"$SM_TMP/text"
pct 2 | grep -v '5,"cpu_free"' >"$SM_TMP/text1"
pct 3 >"$SM_TMP/mixed"
pct 4 >"$SM_TMP/mixed1"
expect_status 0 "$STORE" --source text <"$SM_TMP/text"
expect_status 0 "$STORE" --source text1 --batch 1 <"$SM_TMP/text1"
expect_status 0 "$STORE" --source mixed <"$SM_TMP/mixed"
expect_status 0 "$STORE" --source mixed1 --batch 1 <"$SM_TMP/mixed1"
sums() {
	q "SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT(cpu_usage, '/', cpu_free,
	    '/', ram_percentage) ORDER BY sample_id)) FROM system_metrics
	    WHERE data_source = '$1'"
}
expect_eq "whole hundredths" "$(sums text)" "$(sums text1)"
expect_eq "some not" "$(sums mixed)" "$(sums mixed1)"
expect_eq "a value rounded" "$(q "SELECT cpu_usage, ram_percentage FROM
    system_metrics WHERE sample_id = '01a2187e-8992-706a-a64f-30000000012d'")" \
    "$(printf '3.02\t11.37')"
