#!/bin/sh
# Both listeners (sm-store --listen, sm-tail --listen) against hostile
# clients, issue 26 cases 7 and 8: connections past the limit wait in the
# kernel's queue instead of being closed at once; a flood of aborted
# connections costs a few log lines and one count; --max-per-address
# refuses one address while another is served; query parameters with a NUL
# byte or given twice get a 400; the bearer scheme is read as RFC 7235
# says, alike on both; a record naming a field twice is rejected.  About
# 16 s (19 s under the sanitizers).
. "$(dirname "$0")/store-lib.sh"

CLIENT="python3 $SM_TOP/tests/it/listen-client.py"
sed -n 1p "$FIX/seed-records.ndjson" | "$STORE" 2>/dev/null ||
    fail "cannot store the first record"

# start_tail NAME ARGS...: sm-tail --listen on 127.0.0.1:0 in the
# background; sets TPID, TPORT and TURL; stderr in $SM_TMP/NAME.err.
start_tail() {
	name=$1
	shift
	"$SM_BIN/sm-tail" --listen 127.0.0.1:0 --port-file \
	    "$SM_TMP/$name.port" --interval 0.2 "$@" 2>"$SM_TMP/$name.err" &
	TPID=$!
	at_exit "kill $TPID 2>/dev/null || true"
	wait_for 100 test -s "$SM_TMP/$name.port"
	TPORT=$(cat "$SM_TMP/$name.port")
	TURL=http://127.0.0.1:$TPORT
}

# hold NAME PORT N [ADDR]: N silent connections to PORT held in the
# background (pid in HPID) once all are connected.
hold() {
	$CLIENT hold "$2" "$3" "$SM_TMP/$1.ready" ${4:+"$4"} &
	HPID=$!
	at_exit "kill $HPID 2>/dev/null || true"
	wait_for 100 test -s "$SM_TMP/$1.ready"
}

# serve NAME PORT N post: N connections to PORT, each answered once,
# held in the background (pid in SPID): the server has accepted and served
# them.
serve() {
	$CLIENT served "$2" "$3" "$SM_TMP/$1.ready" "$4" &
	SPID=$!
	at_exit "kill $SPID 2>/dev/null || true"
	wait_for 100 test -s "$SM_TMP/$1.ready"
}

# backlog PORT N: the listening socket on PORT has N connections waiting
# to be accepted (the kernel's queue)
backlog() {
	[ "$(ss -Hltn "sport = :$1" | awk '{ print $2 }')" = "$2" ]
}

# queued NAME PORT URL HOLDERPID: once the server has accepted every
# connection so far, a GET of URL waits in the kernel's queue (and is still
# there, not closed, a second later), and is answered 200 once the served
# holder's connections close.
queued() {
	wait_for 100 backlog "$2" 0
	curl -s -m 20 -o /dev/null -w '%{http_code}' "$3" \
	    >"$SM_TMP/$1.code" 2>&1 &
	cpid=$!
	wait_for 100 backlog "$2" 1
	sleep 1
	kill -0 $cpid 2>/dev/null ||
	    fail "$1: not queued: answered '$(cat "$SM_TMP/$1.code")'"
	backlog "$2" 1 || fail "$1: no longer in the kernel's queue"
	kill "$4"
	wait "$4" 2>/dev/null || true
	wait $cpid || fail "$1: curl failed: $(cat "$SM_TMP/$1.code")"
	expect_eq "$1: status once a slot is free" "$(cat "$SM_TMP/$1.code")" \
	    200
}

echo "past the limit, a connection waits in the kernel's queue (both)"
# sm-store serves 4 and answers 32 more 503: the 37th waits, and is
# served once the 4 close
start_receiver lim --max-connections 4 --timeout 60
serve slim "$RPORT" 4 post
hold olim "$RPORT" 32
queued store "$RPORT" "$RURL/health" "$SPID"
! grep -q "connection limit" "$SM_TMP/lim.err" ||
    fail "sm-store closed a connection: $(cat "$SM_TMP/lim.err")"
stop_receiver
start_tail tlim --max-connections 4
# (sm-tail closes after every answer: its 4 are silent; all are accepted
# once the kernel's queue is empty)
hold tlim "$TPORT" 4
queued tail "$TPORT" "$TURL/health" "$HPID"
kill "$TPID"

echo "500 aborted connections: a few lines and a count (both)"
start_receiver flood
start_tail tflood
$CLIENT abort "$RPORT" 500 &
a1=$!
$CLIENT abort "$TPORT" 500 &
a2=$!
wait $a1 || fail "the aborting client failed (sm-store)"
wait $a2 || fail "the aborting client failed (sm-tail)"
# count_lines FILE: the per-connection lines said, plus those suppressed,
# once the count is out (at most 10 s after the first line)
count_lines() {
	wait_for 300 grep -q "suppressed" "$1"
	shown=$(grep -c "Socket has been disconnected" "$1") || true
	held=$(sed -En 's/.*http: ([0-9]+) more lines? like these suppressed.*/\1/p' \
	    "$1" | awk '{ n += $1 } END { print n + 0 }')
	echo "  $(basename "$1" .err): $shown lines shown, $held suppressed"
	[ "$shown" -le 20 ] || fail "$1: $shown lines for 500 connections"
	[ $((shown + held)) -ge 450 ] && [ $((shown + held)) -le 500 ] ||
	    fail "$1: $shown shown + $held suppressed, want about 500"
}
count_lines "$SM_TMP/flood.err"
count_lines "$SM_TMP/tflood.err"
stop_receiver
kill "$TPID"

echo "--max-per-address 2: a third from one address is refused, another" \
    "address is served (both)"
for who in store tail; do
	if [ $who = store ]; then
		start_receiver pa --max-per-address 2
		port=$RPORT
	else
		start_tail tpa --max-per-address 2
		port=$TPORT
	fi
	hold "pa$who" "$port" 2 127.0.0.1
	$CLIENT refused "$port" 127.0.0.1 >"$SM_TMP/pa.out" ||
	    fail "$who: a third connection from 127.0.0.1: $(cat \
	    "$SM_TMP/pa.out")"
	code=$(curl -s -m 10 --interface 127.0.0.2 -o /dev/null \
	    -w '%{http_code}' "http://127.0.0.1:$port/health") || true
	expect_eq "$who: /health from 127.0.0.2" "$code" 200
	kill "$HPID"
	wait "$HPID" 2>/dev/null || true
	# the address is served again once its connections close
	wait_for 50 sh -c "[ \"\$(curl -s -m 5 -o /dev/null -w \
	    '%{http_code}' http://127.0.0.1:$port/health)\" = 200 ]"
	if [ $who = store ]; then stop_receiver; else kill "$TPID"; fi
done

echo "query parameters: a NUL byte or a name given twice is a 400 (sm-tail)"
printf 'metrics-secret\n' >"$SM_TMP/token"
chmod 600 "$SM_TMP/token"
start_tail q
# want400 QUERY TEXT: GET /rows?QUERY is 400 with TEXT in its error
want400() {
	code=$(curl -s -m 10 -o "$SM_TMP/body" -w '%{http_code}' \
	    "$TURL/rows?$1")
	[ "$code" = 400 ] && grep -qF -- "$2" "$SM_TMP/body" ||
	    fail "/rows?$1: $code $(cat "$SM_TMP/body"), want 400 $2"
}
want400 'n=5%00' '"n: holds a NUL byte (%00)"'
want400 'host=a%00b' '"host: holds a NUL byte (%00)"'
want400 'n=1&n=2' '"n: given more than once"'
want400 'host=a&n=1&host=b' '"host: given more than once"'
want400 'n%00x=1' "a query parameter's name holds a NUL byte"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$TURL/rows?n=1&host=x")
expect_eq "/rows?n=1&host=x" "$code" 200

kill "$TPID"

echo "the bearer scheme in any case, spaces around the token (both)"
start_tail b --metrics-token-file "$SM_TMP/token"
# bearer URL HEADER: the status of a GET with that Authorization header
bearer() {
	curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: $2" \
	    "$1"
}
for h in "Bearer metrics-secret" "bearer metrics-secret" \
    "BEARER  metrics-secret "; do
	expect_eq "sm-tail /metrics, '$h'" "$(bearer "$TURL/metrics" "$h")" 200
done
for h in "Bearermetrics-secret" "Bearer metrics-secretx" "Basic metrics-secret"; do
	expect_eq "sm-tail /metrics, '$h'" "$(bearer "$TURL/metrics" "$h")" 401
done
kill "$TPID"
start_receiver tok --token-file "$SM_TMP/token"
for h in "Bearer metrics-secret" "bearer metrics-secret" \
    "BEARER  metrics-secret "; do
	post application/x-ndjson "@$FIX/seed-records.ndjson" -H \
	    "Authorization: $h"
	[ "$CODE" = 200 ] || fail "sm-store, '$h': $CODE $(cat "$SM_TMP/body")"
done
post application/x-ndjson "@$FIX/seed-records.ndjson" -H \
    "Authorization: Bearermetrics-secret"
expect_eq "sm-store, 'Bearermetrics-secret'" "$CODE" 401

echo "a record naming a field twice is rejected (stdin, NDJSON, JSON)"
ONE=$(sed -n 1p "$FIX/seed-records.ndjson")
TWICE=$(printf '%s\n' "$ONE" | sed 's/"total_ram":3913,/&"total_ram":9,/')
[ "$TWICE" != "$ONE" ] || fail "the fixture has no total_ram 3913"
printf '%s\n%s\n' "$ONE" "$TWICE" >"$SM_TMP/twice.ndjson"
expect_status 1 "$STORE" <"$SM_TMP/twice.ndjson"
expect_err "sm-store: line 2: total_ram: given twice"
start_receiver dup
post application/x-ndjson "@$SM_TMP/twice.ndjson"
expect_answer 400 '{"error":"invalid records","api":"sm-store","errors":[{"index":1,"reason":"total_ram: given twice"}]}'
post application/json "[$ONE,$TWICE]"
expect_answer 400 '{"error":"invalid records","api":"sm-store","errors":[{"index":1,"reason":"total_ram: given twice"}]}'
post application/json "$TWICE"
expect_answer 400 '{"error":"invalid records","api":"sm-store","errors":[{"index":0,"reason":"total_ram: given twice"}]}'
expect_eq "rows with total_ram 9" \
    "$(q 'SELECT COUNT(*) FROM system_metrics WHERE ram_total = 9')" 0
stop_receiver
echo "ok"
