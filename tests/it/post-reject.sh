#!/bin/sh
# A receiver answering 400 for one record: that record goes to the reject
# file with the receiver's reason, and every other record is delivered --
# its batch mates too (the receiver stored none of a refused batch, so
# sm-post sends them again).  A line that is not JSON is reported with its
# number and skipped.
. "$(dirname "$0")/post-lib.inc"

recv a route-a
recv b route-b

# line 57 says 150 % CPU; line 120 is not JSON at all
awk 'NR == 57 { sub(/"porcentaje_cpu_uso":[0-9]+/, "\"porcentaje_cpu_uso\":150") }
    NR == 120 { print "{\"total_ram\": oops"; next } { print }' "$SEED" \
    >"$SM_TMP/in"
grep -q '"porcentaje_cpu_uso":150' "$SM_TMP/in" || fail "fixture edit"

echo "sm-post --batch 10: one refused record, its batch mates delivered"
expect_status 1 $POST --batch 10 --parallel 4 --reject "$SM_TMP/rej" \
    "$a_url" <"$SM_TMP/in"
expect_eq "rows" "$(rows)" 198
expect_eq "reject lines" "$(lines "$SM_TMP/rej")" 2
grep -q "^{\"line\":57,\"request\":6,\"status\":400,\"endpoint\":\"$a_url\",\"reason\":\"porcentaje_cpu_uso: 150 is not a percentage in \[0, 100\]\",\"record\":{\"id\":\"[0-9a-f-]*\",$(sed -n 57p "$SEED" |
    sed 's/^{//; s/"porcentaje_cpu_uso":[0-9]*/"porcentaje_cpu_uso":150/; s/\[/\\[/g')}\$" \
    "$SM_TMP/rej" || fail "reject entry: $(cat "$SM_TMP/rej")"
grep -q '^{"line":120,"reason":"invalid JSON at column 15: [^"]*","text":"{\\"total_ram\\": oops"}$' \
    "$SM_TMP/rej" || fail "bad line entry: $(cat "$SM_TMP/rej")"
expect_err "sm-post: line 57: rejected by $a_url (HTTP 400): porcentaje_cpu_uso: 150 is not a percentage in [0, 100]"
expect_err "sm-post: line 120: invalid JSON at column 15"
# the refused batch was acknowledged once, with 9 records and 1 rejected
grep -q '^{"request":6,"records":9,"status":200,.*"attempts":2,"stored":9,"duplicates":0,"rejected":1}$' \
    "$SM_TMP/out" || fail "ack of request 6: $(grep '"request":6,' "$SM_TMP/out")"
expect_eq "records acknowledged" "$(sed -E 's/.*"records":([0-9]+),"status":200.*/\1/' \
    "$SM_TMP/out" | awk '{ s += $1 } END { print s }')" 198
# exactly the input's records, less the two: compare them as multisets
key_of_input() {
	awk 'NR != 57 && NR != 120' "$SM_TMP/in" | sed -E \
	    's/.*"uso_ram":([0-9]+),.*"procesos_corriendo":([0-9]+),"total_procesos":([0-9]+),.*"hora":"([^"]+)".*/\4 \1 \2 \3/' |
	    sort
}
key_of_table() {
	q "SELECT DATE_FORMAT(sampled_at, '%Y-%m-%d %H:%i:%s'), ram_used,
	    running_processes, total_processes FROM system_metrics" |
	    tr '\t' ' ' | sort
}
key_of_input >"$SM_TMP/want"
[ "$(lines "$SM_TMP/want")" -eq 198 ] || fail "input keys"
key_of_table | diff -u "$SM_TMP/want" - || fail "stored records differ"

echo "sm-split, one record a request, NDJSON bodies: the same outcome"
q 'DELETE FROM system_metrics'
expect_status 1 $SPLIT --ndjson --reject "$SM_TMP/rej2" "$a_url" "$b_url" \
    <"$SM_TMP/in"
expect_eq "rows" "$(rows)" 198
key_of_table | diff -u "$SM_TMP/want" - || fail "stored records differ"
expect_eq "reject lines" "$(lines "$SM_TMP/rej2")" 2
grep -q '^{"line":57,"request":57,"status":400,"endpoint":"http://127.0.0.1:[0-9]*/metrics","reason":"porcentaje_cpu_uso: 150 is not a percentage in \[0, 100\]","record":{"id":' \
    "$SM_TMP/rej2" || fail "reject entry: $(cat "$SM_TMP/rej2")"
# a refusal is the receiver working: no failover, no retry
expect_err "sm-split: sent 198/199 | a: 99 (50.0%) | b: 99 (50.0%) | retried 0 | failed over 0 | rejected 1"

echo "no --reject: still reported on stderr, still exit 1"
q 'DELETE FROM system_metrics'
sed -n 57p "$SM_TMP/in" >"$SM_TMP/one"
expect_status 1 $POST "$a_url" <"$SM_TMP/one"
expect_err "sm-post: line 1: rejected by $a_url (HTTP 400): porcentaje_cpu_uso: 150"
expect_eq "rows" "$(rows)" 0

kill_recv a
kill_recv b
