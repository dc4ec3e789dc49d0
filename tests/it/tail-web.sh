#!/bin/sh
# sm-tail --listen against the test MariaDB, over real HTTP on loopback:
# every endpoint; SSE hands out every row once across a reconnect with
# Last-Event-ID, reaches 200 clients at once, and cuts off a client that
# stopped reading while the others go on, and closes the streams whose
# reader left; /metrics is promtool-clean; bad
# query parameters get a 400 with a reason.
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_web_$$
pids=""
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	tail_db_drop $NAME
}
trap cleanup EXIT
URL=$(tail_db $NAME)
SSE="python3 $SM_TOP/tests/it/sse-client.py"
BACKLOG=300

gen_records 5 1 0 alpha | "$SM_BIN/sm-store" --db "$URL" --source a \
    2>/dev/null
"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --backlog $BACKLOG --interval 0.05 --web-root \
    "$SM_TOP/web" 2>"$SM_TMP/web.err" &
web=$!
pids="$pids $web"
wait_until 20 "the port file" test -s "$SM_TMP/port"
PORT=$(cat "$SM_TMP/port")
BASE=http://127.0.0.1:$PORT

# get PATH [CURL ARGS]: the body into $SM_TMP/body, the status printed
get() {
	p=$1
	shift
	curl -s -m 10 -o "$SM_TMP/body" -w '%{http_code}' "$@" "$BASE$p"
}

# want CODE PATH [CURL ARGS]: the status is CODE
want() {
	code=$1
	shift
	got=$(get "$@")
	[ "$got" = "$code" ] || fail "GET $1: $got, want $code: $(cat \
	    "$SM_TMP/body")"
}

# gauge: the open SSE streams (sm_tail_sse_clients); streams_at_least N
gauge() {
	get /metrics >/dev/null
	awk '$1 == "sm_tail_sse_clients" { print $2 }' "$SM_TMP/body"
}
streams_at_least() { [ "$(gauge)" -ge "$1" ]; }
# none_open: no SSE stream open; streams whose reader left close within
# seconds (a gauge that held still a while could still drop)
none_open() { [ "$(gauge)" -eq 0 ]; }

echo "/health, /rows, /hosts"
want 200 /health
grep -q '"status":"ok"' "$SM_TMP/body" || fail "/health: $(cat "$SM_TMP/body")"
want 200 "/rows?n=3"
python3 - "$SM_TMP/body" <<'PY' || fail "/rows?n=3: $(cat "$SM_TMP/body")"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r['record']['id'][-1] for r in rows] == ['2', '3', '4'], rows
assert [r['row'] for r in rows] == sorted(r['row'] for r in rows)
assert all(r['source'] == 'a' and r['record']['host'] == 'alpha'
           for r in rows)
PY
want 200 "/rows?host=nobody"
[ "$(cat "$SM_TMP/body")" = "[]" ] || fail "/rows?host=nobody: $(cat "$SM_TMP/body")"
want 200 "/rows?since=2026-11-26T10:00:00.035Z"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r) == 1, r' \
    "$SM_TMP/body" || fail "/rows?since: $(cat "$SM_TMP/body")"
want 200 /hosts
python3 - "$SM_TMP/body" <<'PY' || fail "/hosts: $(cat "$SM_TMP/body")"
import json, sys
h = json.load(open(sys.argv[1]))
assert len(h) == 1 and h[0]['host'] == 'alpha', h
assert h[0]['stale'] is True and h[0]['age_seconds'] > 1000, h
assert h[0]['record']['id'].endswith('4') and h[0]['source'] == 'a', h
PY
# seconds to the millisecond as written, not 50.886000000000003
grep -qE '"age_seconds":[0-9]+\.[0-9]{1,3},' "$SM_TMP/body" ||
    fail "/hosts: age_seconds: $(cat "$SM_TMP/body")"

echo "/metrics: promtool-clean, the newest row of each host"
want 200 /metrics
promtool check metrics <"$SM_TMP/body" ||
    fail "promtool check metrics: $(cat "$SM_TMP/body")"
grep -q '^sm_host_cpu_usage_percent{host="alpha",source="a"} 28$' \
    "$SM_TMP/body" || fail "/metrics lacks alpha's CPU: $(cat "$SM_TMP/body")"
grep -q '^sm_host_stale{host="alpha",source="a"} 1$' "$SM_TMP/body" ||
    fail "/metrics: alpha not stale"
grep -q '^sm_tail_database_up 1$' "$SM_TMP/body" || fail "database_up"

echo "bad requests: 400 with a reason, 404, 405"
want 400 "/rows?n=abc"
grep -q '"error":"n: \\"abc\\": want a count of rows from 0 to 300' \
    "$SM_TMP/body" || fail "reason: $(cat "$SM_TMP/body")"
want 400 "/rows?n=301"
want 400 "/rows?since=yesterday"
grep -q 'since: ' "$SM_TMP/body" || fail "reason: $(cat "$SM_TMP/body")"
want 400 "/rows?bogus=1"
grep -q 'unknown query parameter \\"bogus\\"' "$SM_TMP/body" ||
    fail "reason: $(cat "$SM_TMP/body")"
want 400 "/events?n=-1"
want 400 "/events?host="
want 400 /events -H "Last-Event-ID: twelve"
grep -q 'Last-Event-ID' "$SM_TMP/body" || fail "reason: $(cat "$SM_TMP/body")"
want 400 "/hosts?x=1"
want 400 "/metrics?x=1"
want 404 /nope
want 405 /rows -X POST

echo "the page and the chart library, from this origin"
want 200 /
grep -q 'src="app.js"' "$SM_TMP/body" || fail "/ is not the page"
want 200 /app.js
want 200 /vendor/dygraph.min.js
grep -qi dygraph "$SM_TMP/body" || fail "/vendor/dygraph.min.js"
curl -s -m 10 -D "$SM_TMP/headers" -o /dev/null "$BASE/"
grep -qi "^Content-Security-Policy: default-src 'self'" "$SM_TMP/headers" ||
    fail "no CSP: $(cat "$SM_TMP/headers")"

echo "SSE: every row once, in commit order, across a reconnect"
# 60 rows from transactions that commit out of id order, some rolled back
gen_sql_txs 60 77 beta b 3 >"$SM_TMP/txs.sql"
g=$(gauge)
$SSE collect "$PORT" "/events" 20 30 >"$SM_TMP/first" &
c1=$!
# /events starts at the next row: the stream open before the first commit
wait_until 10 "the stream" streams_at_least $((g + 1))
sql_as_sm $NAME <"$SM_TMP/txs.sql" >/dev/null &
writer=$!
wait $c1
[ "$(wc -l <"$SM_TMP/first")" -eq 20 ] ||
    fail "the first stream had $(wc -l <"$SM_TMP/first") rows, want 20"
last=$(tail -n 1 "$SM_TMP/first" | cut -d' ' -f1)
# browsers send the last id they saw when they reconnect
$SSE collect "$PORT" "/events?n=5" 40 30 "$last" >"$SM_TMP/second" &
c2=$!
wait $writer
wait $c2
cat "$SM_TMP/first" "$SM_TMP/second" | cut -d' ' -f2 | sort >"$SM_TMP/got"
[ "$(wc -l <"$SM_TMP/got")" -eq 60 ] ||
    fail "$(wc -l <"$SM_TMP/got") rows over the two streams, want 60"
[ "$(uniq "$SM_TMP/got" | wc -l)" -eq 60 ] || fail "a row came twice"
[ "$(grep -c '^0000004d-0000-7000-8000-0000000000[0-3][0-9a-f]$' \
    "$SM_TMP/got")" -eq 60 ] || fail "not the 60 committed rows"
# the SSE data line is what sm-tail --format ndjson prints for that row
first_id=$(head -n 1 "$SM_TMP/first" | cut -d' ' -f1)
curl -s -m 5 -N -H "Last-Event-ID: $((first_id - 1))" "$BASE/events" \
    >"$SM_TMP/raw" 2>/dev/null || true
"$SM_BIN/sm-tail" --db "$URL" --format ndjson -n 100 --host beta \
    >"$SM_TMP/ndjson"
first_data=$(grep -m 1 "^data: {\"id\":\"$(head -n 1 "$SM_TMP/first" |
    cut -d' ' -f2)\"" "$SM_TMP/raw" | sed 's/^data: //')
grep -qxF -- "$first_data" "$SM_TMP/ndjson" ||
    fail "SSE data is not sm-tail --format ndjson's line: $first_data"

echo "SSE: ?host= and ?source= filters, ?n= history"
$SSE collect "$PORT" "/events?n=2&host=alpha" 2 5 >"$SM_TMP/alpha"
[ "$(cut -d' ' -f2 "$SM_TMP/alpha" | tr '\n' ' ')" = \
    "00000001-0000-7000-8000-000000000003 00000001-0000-7000-8000-000000000004 " ] ||
    fail "?n=2&host=alpha: $(cat "$SM_TMP/alpha")"
$SSE collect "$PORT" "/events?n=300&source=a" 300 3 >"$SM_TMP/srca"
[ "$(wc -l <"$SM_TMP/srca")" -eq 5 ] || fail "?source=a: $(cat "$SM_TMP/srca")"

echo "SSE: 200 clients at once all get a new row"
$SSE many "$PORT" "/events" 200 "$SM_TMP/ready" 0000000c-0000-7000 30 \
    >"$SM_TMP/many" &
m=$!
wait_until 30 "200 streams" test -s "$SM_TMP/ready"
gen_records 1 12 0 gamma | "$SM_BIN/sm-store" --db "$URL" --source c \
    2>/dev/null
wait $m || fail "only $(cat "$SM_TMP/many") of 200 clients got the row"

echo "SSE: a client that stops reading is cut off, the others go on"
# the 200 streams above may still be leaving
wait_until 20 "the 200 streams to close" none_open
g=0
$SSE stall "$PORT" "/events" "$SM_TMP/go" 20 >"$SM_TMP/stall" &
st=$!
pids="$pids $st"
$SSE collect "$PORT" "/events" 1000 40 >"$SM_TMP/reader" &
rd=$!
wait_until 10 "the two streams" streams_at_least $((g + 2))
# in bursts, each read before the next is sent (a burst larger than
# --backlog within one poll would leave every client behind)
for b in 0 1 2 3; do
	gen_records 250 13 $((b * 250)) delta |
	    "$SM_BIN/sm-store" --db "$URL" --source d 2>/dev/null
	wait_until 20 "the reader to have burst $b" lines_at_least \
	    "$SM_TMP/reader" $(((b + 1) * 250))
done
wait $rd
[ "$(wc -l <"$SM_TMP/reader")" -eq 1000 ] ||
    fail "the reader got $(wc -l <"$SM_TMP/reader") of 1000 rows"
touch "$SM_TMP/go"
wait $st || fail "the stalled client was not cut off: $(cat "$SM_TMP/stall")"
get /metrics >/dev/null
grep -q '^sm_tail_sse_clients_cut_total 1$' "$SM_TMP/body" ||
    fail "cut_total: $(grep sm_tail_sse "$SM_TMP/body")"

echo "streams whose reader left: closed within seconds, not at the next ping"
# the streams before (the stalled one cut, the reader gone) leave within
# seconds, as these must: none open, then 20
wait_until 20 "the earlier streams to close" none_open
g0=0
cpids=""
for i in $(seq 20); do
	curl -s -N -m 60 "$BASE/events?n=0" >"$SM_TMP/gone.$i" 2>/dev/null &
	cpids="$cpids $!"
done
more() { [ "$(gauge)" -ge $((g0 + 20)) ]; }
wait_until 10 "20 more streams" more
# the keepalives come every 15 s (on a 1 s tick): just after one, the
# next is 16 s away
wait_until 40 "a keepalive" grep -q keepalive "$SM_TMP/gone.1"
kill $cpids 2>/dev/null || true
wait $cpids 2>/dev/null || true
back() { [ "$(gauge)" -le "$g0" ]; }
wait_until 5 "the 20 streams closed (not at the next keepalive)" back

echo "SIGTERM: exit 0, the port file gone"
kill -TERM $web
wait $web || fail "sm-tail --listen exited $?: $(cat "$SM_TMP/web.err")"
[ ! -e "$SM_TMP/port" ] || fail "the port file is left"
# the one follower, on the binary log (scripts/mariadb.sh turns it on)
grep -q 'following the binary log from' "$SM_TMP/web.err" ||
    fail "--listen does not follow the binary log: $(cat "$SM_TMP/web.err")"
grep -v -e 'connected$' -e 'serving http' -e 'stopped on signal' \
    -e 'following the binary log from' \
    "$SM_TMP/web.err" && fail "sm-tail said more than it should"

echo "the database goes away and comes back: /health and the stream say so"
python3 "$SM_TOP/tests/it/tcp-proxy.py" 0 "$(db_port)" "$SM_TMP/pport" &
proxy=$!
pids="$pids $proxy"
wait_until 20 "the proxy" test -s "$SM_TMP/pport"
PP=$(cat "$SM_TMP/pport")
"$SM_BIN/sm-tail" --db "mysql://sm@127.0.0.1:$PP/$NAME" --listen 127.0.0.1:0 \
    --port-file "$SM_TMP/port3" --interval 0.05 --web-root "$SM_TOP/web" \
    2>"$SM_TMP/flap.err" &
flap=$!
pids="$pids $flap"
wait_until 20 "the port file" test -s "$SM_TMP/port3"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port3")
curl -s -m 40 -N "$BASE/events" >"$SM_TMP/flap.ev" 2>/dev/null &
fc=$!
pids="$pids $fc"
wait_until 20 "the stream" has_line "$SM_TMP/flap.ev" '"database":"up"'
kill $proxy
wait $proxy 2>/dev/null || true
health_is() {
	[ "$(get /health)" = "$1" ]
}
wait_until 20 "/health 503" health_is 503
wait_until 20 "a status event: down" has_line "$SM_TMP/flap.ev" \
    '"database":"down"'
python3 "$SM_TOP/tests/it/tcp-proxy.py" "$PP" "$(db_port)" "$SM_TMP/pport2" &
proxy=$!
pids="$pids $proxy"
wait_until 20 "/health 200" health_is 200
ups() {
	[ "$(grep -c '"database":"up"' "$SM_TMP/flap.ev")" -eq 2 ]
}
wait_until 10 "a status event: up again" ups
gen_records 1 15 0 epsilon | "$SM_BIN/sm-store" --db "$URL" --source e \
    2>/dev/null
wait_until 20 "a row after the outage" has_line "$SM_TMP/flap.ev" \
    0000000f-0000-7000-8000-000000000000
grep -q 'reconnecting' "$SM_TMP/flap.err" && grep -q 'connected$' \
    "$SM_TMP/flap.err" || fail "sm-tail did not say: $(cat "$SM_TMP/flap.err")"
kill -TERM $flap $proxy $fc 2>/dev/null || true
wait $flap || fail "sm-tail --listen exited $?"

echo "no database: served anyway, /health 503, the stream says so"
"$SM_BIN/sm-tail" --db "mysql://sm@127.0.0.1:1/sm" --listen 127.0.0.1:0 \
    --port-file "$SM_TMP/port2" --web-root "$SM_TOP/web" \
    2>"$SM_TMP/down.err" &
down=$!
pids="$pids $down"
wait_until 20 "the port file" test -s "$SM_TMP/port2"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port2")
want 503 /health
grep -q 'database unavailable' "$SM_TMP/body" || fail "/health: $(cat "$SM_TMP/body")"
curl -s -m 1 -N "$BASE/events" >"$SM_TMP/downev" 2>/dev/null || true
grep -q '^data: {"database":"down"' "$SM_TMP/downev" ||
    fail "status event: $(cat "$SM_TMP/downev")"
# a hang-up stops it as SIGTERM does
kill -HUP $down
wait $down || fail "sm-tail --listen after SIGHUP: exit $?"
echo "ok"
