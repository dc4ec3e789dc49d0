#!/bin/sh
# sm-tail --listen against slowloris (issue 26, case 1): twice
# --max-connections sockets, each sending a header byte every 0.3 s and
# never ending its headers, hold the slots only until --request-timeout
# (here 2 s; MHD's 60 s of silence never comes): the sweep cuts them, the
# log and /metrics say so, and /health answers within 20 s although the
# attackers' queued sockets go first.  About 10 s.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_slow_$$

echo "--request-timeout: 1 to 3600 seconds, and only with --listen"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --request-timeout 0
expect_err "sm-tail: --request-timeout"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" -n 1 --request-timeout 5
expect_err "need --listen"

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --max-connections 4 --request-timeout 2 \
    2>"$SM_TMP/web.err" &
web=$!
wait_until 20 "the port file" test -s "$SM_TMP/port"
PORT=$(cat "$SM_TMP/port")
BASE=http://127.0.0.1:$PORT
curl -sf -m 5 "$BASE/health" >/dev/null || fail "/health before"

echo "8 trickling sockets against 4 slots: all cut, /health answers"
python3 "$SM_TOP/tests/it/hardening-client.py" many "$PORT" 8 0.3 \
    "$SM_TMP/ready" >"$SM_TMP/trickle.out" 2>&1 &
helper=$!
wait_until 20 "the trickler's sockets" test -e "$SM_TMP/ready"
start=$(date +%s)
curl -sf -m 20 "$BASE/health" >"$SM_TMP/health" ||
    fail "/health: no answer within 20 s while trickled"
took=$(( $(date +%s) - start ))
echo "/health answered after ${took} s: $(cat "$SM_TMP/health")"
wait "$helper" || fail "trickler: $(cat "$SM_TMP/trickle.out")"
helper=
cat "$SM_TMP/trickle.out"
grep -q "connections\? whose request took more than 2 s" "$SM_TMP/web.err" ||
    fail "no cut said: $(cat "$SM_TMP/web.err")"
cut=$(curl -s -m 5 "$BASE/metrics" |
    sed -n 's/^sm_tail_connections_cut_total //p')
[ "${cut:-0}" -ge 8 ] || fail "sm_tail_connections_cut_total $cut, want 8+"

echo "an SSE stream is no request in progress: kept past the deadline"
timeout 6 curl -s -N "$BASE/events" >"$SM_TMP/events" || true
grep -q '^event: status$' "$SM_TMP/events" || fail "no stream"
cut2=$(curl -s -m 5 "$BASE/metrics" |
    sed -n 's/^sm_tail_connections_cut_total //p')
[ "$cut2" = "$cut" ] || fail "the stream was cut ($cut then $cut2)"
kill -TERM "$web"
wait "$web" || fail "sm-tail exited $?"
web=
echo ok
