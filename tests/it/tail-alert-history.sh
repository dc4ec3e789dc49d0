#!/bin/sh
# sm-tail --listen --keep-alerts: the alert engine's events go into table
# sm_alerts (created when missing), once each; GET /alerts?from=&to=&host=
# answers them as fired and resolved pairs, also after a restart; bad
# parameters get 400 naming the parameter; /metrics counts the writes;
# sm-alert --store writes its events there too, a replay of the same
# input adding none; sm-keep --alerts deletes the old events.  About 5 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_alerthist_$$

echo "--keep-alerts needs --listen"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" -n 1 --keep-alerts
expect_err "need --listen"

# row HOST CPU: one row of HOST with this CPU, now
row() {
	cpu_row "$URL" "$1" "$2"
}
start() {
	rm -f "$SM_TMP/port"
	"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
	    "$SM_TMP/port" --interval 0.1 --rule 'cpu_usage > 90' \
	    --keep-alerts 2>>"$SM_TMP/web.err" &
	web=$!
	wait_until 20 "the port file" test -s "$SM_TMP/port"
	BASE=http://127.0.0.1:$(cat "$SM_TMP/port")
}
stop() {
	kill -TERM "$web"
	wait "$web" || fail "sm-tail exited $?"
	web=
}
# stored_is N: sm_alerts holds N rows
stored_is() {
	[ "$(sql_as_sm $NAME -N -e 'SELECT COUNT(*) FROM sm_alerts' \
	    2>/dev/null)" = "$1" ]
}
# history Q: /alerts?Q as "host|rule|fired?|resolved?|value|origin" lines
history() {
	curl -s -m 5 "$BASE/alerts?$1" | python3 -c '
import json, sys
for a in json.load(sys.stdin):
    print("|".join([a["host"], a["rule"], str(a["fired"] is not None),
        str(a["resolved"] is not None), str(a["value"]), a["origin"]]))
'
}
FROM=$(date -u -d '1 minute ago' +%Y-%m-%dT%H:%M:%SZ)

start
echo "no table yet: an empty history"
[ "$(curl -s -m 5 "$BASE/alerts?from=1h")" = "[]" ] ||
    fail "/alerts?from=1h: $(curl -s -m 5 "$BASE/alerts?from=1h")"

echo "a row over the threshold fires, one under resolves: two rows"
row hot 95
row cool 5
wait_until 10 "the firing row" stored_is 1
row hot 10
wait_until 10 "the resolved row" stored_is 2
sql_as_sm $NAME -N -e "SELECT host, rule, state, value, origin,
    since <= at FROM sm_alerts ORDER BY id" >"$SM_TMP/rows"
printf 'hot\tcpu_usage > 90\tfiring\t95\tsm-tail\t1\n' >"$SM_TMP/want"
printf 'hot\tcpu_usage > 90\tresolved\t10\tsm-tail\t1\n' >>"$SM_TMP/want"
diff -u "$SM_TMP/want" "$SM_TMP/rows" || fail "sm_alerts rows"

echo "/alerts?from=&to=&host= answers the pair"
want='hot|cpu_usage > 90|True|True|95|sm-tail'
[ "$(history "from=$FROM&to=now&host=hot")" = "$want" ] ||
    fail "history: $(history "from=$FROM&to=now&host=hot")"
[ -z "$(history "from=$FROM&host=cool")" ] || fail "cool has alerts"
[ -z "$(history "from=2020-01-01&to=2020-01-02")" ] || fail "2020 has some"
[ "$(curl -s -m 5 "$BASE/alerts")" = "[]" ] || fail "/alerts: fires now"
curl -s -m 5 "$BASE/metrics" >"$SM_TMP/metrics"
grep -qx 'sm_tail_alerts_stored_total 2' "$SM_TMP/metrics" ||
    fail "metrics: $(grep sm_tail_alerts "$SM_TMP/metrics")"
grep -qx 'sm_tail_alerts_dropped_total 0' "$SM_TMP/metrics" ||
    fail "metrics: $(grep sm_tail_alerts "$SM_TMP/metrics")"
promtool check metrics <"$SM_TMP/metrics" || fail "promtool"

echo "bad parameters: 400 naming the parameter"
bad() {
	code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' "$BASE/alerts?$1")
	[ "$code" = 400 ] || fail "/alerts?$1: $code"
	grep -q "$2" "$SM_TMP/body" || fail "/alerts?$1: $(cat "$SM_TMP/body")"
}
bad 'from=yesterday' '"error":"from: '
bad 'to=2026-13-01' '"error":"to: '
bad 'from=1h&to=2h' 'from: must be before to'
bad 'limit=1001' '"error":"limit: '
bad 'limit=-1' '"error":"limit: '
bad 'host=' '"error":"host: '
bad 'from=1h&from=2h' 'from: given more than once'
bad 'from=1h%00x' 'from: holds a NUL byte'
bad 'step=1m' 'unknown query parameter \\"step\\"'
[ "$(history "from=$FROM&limit=0")" = "" ] || fail "limit=0"

echo "after a restart: the same history; a replay adds no row"
stop
start
[ "$(history "from=$FROM&host=hot")" = "$want" ] ||
    fail "history after restart: $(history "from=$FROM&host=hot")"
since=$(sql_as_sm $NAME -N -e "SELECT since FROM sm_alerts LIMIT 1")
sql_as_sm $NAME -e "INSERT IGNORE INTO sm_alerts (origin, host, rule,
    state, since, at, value) VALUES ('sm-tail', 'hot', 'cpu_usage > 90',
    'firing', '$since', NOW(3), 95)"
stored_is 2 || fail "a replayed event was stored twice"
grep -q 'storing alerts in sm_alerts' "$SM_TMP/web.err" ||
    fail "no word of the writer: $(cat "$SM_TMP/web.err")"

echo "sm-alert --replay --store: its events stored; a second run adds none"
rec() {
	printf '{"ts":"2026-11-26T10:00:%02d.000Z","host":"r","cpu_usage":%s,"cpu_free":%s,"ram_total":100,"ram_free":10,"ram_used":50,"total_processes":3,"running_processes":1,"sleeping_processes":2,"stopped_processes":0,"zombie_processes":0}\n' \
	    "$1" "$2" "$((100 - $2))"
}
{ rec 0 95; rec 1 10; rec 2 99; } >"$SM_TMP/replay"
for run in 1 2; do
	"$SM_BIN/sm-alert" --replay --rule 'cpu_usage > 90' --store "$URL" \
	    <"$SM_TMP/replay" >"$SM_TMP/alert.out" 2>"$SM_TMP/alert.err" ||
	    fail "sm-alert run $run: $(cat "$SM_TMP/alert.err")"
	[ "$(wc -l <"$SM_TMP/alert.out")" -eq 3 ] || fail "sm-alert: events"
	grep -q '^sm-alert: 3 events stored in sm_alerts, 0 not$' \
	    "$SM_TMP/alert.err" || fail "sm-alert said: $(cat "$SM_TMP/alert.err")"
done
[ "$(sql_as_sm $NAME -N -e "SELECT GROUP_CONCAT(CONCAT(state, ' ',
    value, ' ', at) ORDER BY id SEPARATOR ', ') FROM sm_alerts
    WHERE origin = 'sm-alert'")" = "firing 95 2026-11-26 10:00:00.000, \
resolved 10 2026-11-26 10:00:01.000, firing 99 2026-11-26 10:00:02.000" ] ||
    fail "sm-alert's rows: $(sql_as_sm $NAME -N -e "SELECT * FROM sm_alerts
    WHERE origin = 'sm-alert'")"
[ "$(history "from=2026-11-26&to=2026-11-27&host=r" | tr '\n' ' ')" = \
    "r|cpu_usage > 90|True|False|99|sm-alert r|cpu_usage > 90|True|True|95|sm-alert " ] ||
    fail "history of r: $(history "from=2026-11-26&to=2026-11-27&host=r")"
expect_status 2 "$SM_BIN/sm-alert" --rule 'cpu_usage > 90' --store 'http://x'
expect_err "sm-alert: --store: "

echo "sm-keep --alerts: events older than the age go, the others stay"
sql_as_sm $NAME -e "INSERT INTO sm_alerts (origin, host, rule, state,
    since, at, value) VALUES ('sm-tail', 'old', 'cpu_usage > 90',
    'firing', '2020-01-01', '2020-01-01', 99)"
stored_is 6 || fail "the old event was not added"
# an age that keeps the replayed events of 2026-11-26 whenever this runs:
# 30 days past them
age=$(( ($(date -u +%s) - $(date -u -d 2026-11-26 +%s)) / 86400 + 30 ))d
"$SM_BIN/sm-keep" --db "$URL" --alerts "$age" -v 2>"$SM_TMP/keep.err" ||
    fail "sm-keep: $(cat "$SM_TMP/keep.err")"
grep -q ', 1 alert events$' "$SM_TMP/keep.err" ||
    fail "sm-keep said: $(cat "$SM_TMP/keep.err")"
stored_is 5 || fail "sm-keep --alerts $age: not 5 rows left"
[ "$(sql_as_sm $NAME -N -e "SELECT COUNT(*) FROM sm_alerts
    WHERE host = 'old'")" = 0 ] || fail "the old event stayed"
stop
echo ok
