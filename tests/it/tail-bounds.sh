#!/bin/sh
# sm-tail --listen's table of (host, source) pairs is bounded (issue 26,
# case 2; issue 29, item 4): on /metrics a pair whose source stopped is
# stale by its own silence (sm_host_stale 1, sm_host_age_seconds) while the
# host keeps writing through another source, and is dropped after
# --forget; past --max-hosts a new pair is shown and the one heard from
# least recently goes; /metrics counts both evictions.  About 6 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_bounds_$$

echo "--max-hosts, --forget: checked, only with --listen, --forget > --stale"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --max-hosts 0
expect_err "sm-tail: --max-hosts"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" -n 1 --forget 5
expect_err "need --listen"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --stale 5 --forget 5
expect_err "--forget must be longer than --stale"

# line HOST: a record of HOST, sampled now
line() {
	printf '{"ts":"%s","host":"%s","cpu_usage":5,"cpu_free":95,"ram_total":100,"ram_free":10,"ram_used":50,"total_processes":3,"running_processes":1,"sleeping_processes":2,"stopped_processes":0,"zombie_processes":0}\n' \
	    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1"
}
# row HOST SOURCE: one row of HOST through SOURCE, sampled now
row() {
	line "$1" | "$SM_BIN/sm-store" --db "$URL" --source "$2" \
	    2>/dev/null || fail "sm-store $1 $2"
}
row vm route-a	# the table, before sm-tail follows it

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --interval 0.1 --stale 2 --forget 4 --max-hosts 3 \
    2>"$SM_TMP/web.err" &
web=$!
wait_until 20 "the port file" test -s "$SM_TMP/port"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port")

# metric LINE-START: the value of the /metrics line that begins so
metric() {
	curl -s -m 5 "$BASE/metrics" | grep -v "^#" | grep -F -- "$1" |
	    sed "s/.* //"
}
# metric_is LINE-START VALUE
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

echo "vm through route-a and route-b; route-b stops, route-a goes on"
row vm route-b
wait_until 10 "route-b on /metrics" metric_is \
    'sm_host_stale{host="vm",source="route-b"}' 0
# one sm-store for the stream, committing within 0.1 s: a process a row
# took long enough under the sanitizers to make the newest row stale
( while :; do line vm; sleep 0.3; done ) |
    "$SM_BIN/sm-store" --db "$URL" --source route-a --flush-ms 100 \
    2>/dev/null &
helper=$!
wait_until 10 "route-b stale" metric_is \
    'sm_host_stale{host="vm",source="route-b"}' 1
metric_is 'sm_host_stale{host="vm",source="route-a"}' 0 ||
    fail "route-a stale: $(metric 'sm_host_stale{host="vm"')"
age=$(metric 'sm_host_age_seconds{host="vm",source="route-b"}')
python3 -c "import sys; sys.exit(not $age >= 2)" ||
    fail "route-b's age $age, want 2 s or more"
echo "route-b: stale, $age s old; dropped after --forget 4"
wait_until 10 "route-b dropped" metric_is \
    'sm_tail_hosts_evicted_total{reason="silent"}' 1
curl -s -m 5 "$BASE/metrics" >"$SM_TMP/metrics"
! grep -q 'source="route-b"' "$SM_TMP/metrics" ||
    fail "route-b still on /metrics"
grep -q '^sm_host_stale{host="vm",source="route-a"} 0$' "$SM_TMP/metrics" ||
    fail "route-a gone"
promtool check metrics <"$SM_TMP/metrics" || fail "promtool"
kill "$helper"
wait "$helper" 2>/dev/null || true
helper=

echo "--max-hosts 3: h1 h2 h3 push vm out, h4 pushes h1 out"
for h in h1 h2 h3; do
	row $h route-a
done
hosts_are() {
	[ "$(curl -s -m 5 "$BASE/hosts" | python3 -c '
import json, sys
print(" ".join(h["host"] for h in json.load(sys.stdin)))
')" = "$1" ]
}
wait_until 10 "h1 h2 h3" hosts_are "h1 h2 h3"
row h4 route-a
wait_until 10 "h2 h3 h4" hosts_are "h2 h3 h4"
metric_is 'sm_tail_hosts ' 3 || fail "sm_tail_hosts $(metric 'sm_tail_hosts ')"
metric_is 'sm_tail_hosts_evicted_total{reason="full"}' 2 ||
    fail "full evictions $(metric 'sm_tail_hosts_evicted_total{reason="full"}')"
kill -TERM "$web"
wait "$web" || fail "sm-tail exited $?: $(cat "$SM_TMP/web.err")"
web=
echo ok
