#!/bin/sh
# sm-split against two real sm-store receivers: the 200 seed records
# alternate exactly 100/100 between the data sources, and --weights 3,1
# over 2,000 generated records gives exactly 1,500 and 500.
. "$(dirname "$0")/post-lib.inc"

recv a route-a
recv b route-b

echo "200 seed records, weights 1,1: 100 rows per data_source"
expect_status 0 $SPLIT --parallel 8 "$a_url" "$b_url" <"$SEED"
mv "$SM_TMP/out" "$SM_TMP/acks"
expect_eq "rows per source" "$(per_source)" "route-a 100
route-b 100"
expect_eq "distinct ids" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" 200
expect_eq "acks" "$(lines "$SM_TMP/acks")" 200
expect_eq "acks from a" "$(grep -c "\"endpoint\":\"$a_url\",\"api\":\"route-a\"" \
    "$SM_TMP/acks")" 100
# strictly alternating: odd requests to a, even ones to b
expect_eq "odd requests not to a" "$(grep -E '"request":[0-9]*[13579],' \
    "$SM_TMP/acks" | grep -vc "\"endpoint\":\"$a_url\"")" 0
grep -q '^{"request":1,"records":1,"status":200,"latency_ms":[0-9.]*,"endpoint":"'"$a_url"'","api":"route-a","attempts":1,"stored":1,"duplicates":0}$' \
    "$SM_TMP/acks" || fail "ack format: $(head -1 "$SM_TMP/acks")"
expect_err "sm-split: sent 200/200 | a: 100 (50.0%) | b: 100 (50.0%) | retried 0 | failed over 0"

echo "the same records again: all duplicates, still 200 rows"
# the seed records carry no id: sm-split makes new ones, so replay the
# acknowledged ones from the database instead
q "SELECT CONCAT('{\"id\":\"', sample_id, '\",\"hora\":\"',
    DATE_FORMAT(sampled_at, '%Y-%m-%d %H:%i:%s'), '\",\"total_ram\":', ram_total,
    ',\"ram_libre\":', ram_free, ',\"uso_ram\":', ram_used,
    ',\"porcentaje_cpu_uso\":', cpu_usage,
    ',\"procesos_corriendo\":', running_processes,
    ',\"total_procesos\":', total_processes,
    ',\"procesos_durmiendo\":', sleeping_processes,
    ',\"procesos_zombie\":', zombie_processes,
    ',\"procesos_parados\":', stopped_processes, '}')
    FROM system_metrics" >"$SM_TMP/again"
expect_eq "replay input" "$(lines "$SM_TMP/again")" 200
expect_status 0 $SPLIT --batch 20 --parallel 4 "$a_url" "$b_url" \
    <"$SM_TMP/again"
expect_eq "duplicates acknowledged" "$(grep -c '"stored":0,"duplicates":20}' \
    "$SM_TMP/out")" 10
expect_eq "rows" "$(rows)" 200

echo "--weights 3,1 over 2,000 records: 1,500 and 500"
q 'DELETE FROM system_metrics'
gen 2000 >"$SM_TMP/gen"
expect_status 0 $SPLIT --weights 3,1 --parallel 16 --stats-every 1000 \
    "$a_url" "$b_url" <"$SM_TMP/gen"
expect_eq "rows per source" "$(per_source)" "route-a 1500
route-b 500"
expect_eq "distinct records" "$(q 'SELECT COUNT(DISTINCT sample_id),
    COUNT(DISTINCT total_processes) FROM system_metrics' | tr '\t' ' ')" \
    "2000 2000"
expect_err "sm-split: sent 2000/2000 | a: 1500 (75.0%) | b: 500 (25.0%) | retried 0 | failed over 0"
# --stats-every 1000: twice on the way, once at the end
expect_eq "stats lines" "$(grep -c 'sm-split: sent ' "$SM_TMP/err")" 3

kill_recv a
kill_recv b
