#!/bin/sh
# sm-tail --listen fan-out, small (issue 28): 1,000 SSE streams held by
# bench/sse-load.c (one epoll thread) while it commits 1,200 rows at 100 a
# second: every stream gets every row once; 3 more clients that never
# read fall a ring (--backlog 512) behind and are cut, and only they
# (sm_tail_sse_clients_cut_total); a request with 2,000 bytes of
# cookies still fits a stream's small pool.  No timing asserted; the rate
# is half of what one core sends to 1,000 streams here (200 rows a second
# made sm-tail's core 100% busy and cut every stream in 2 runs of 3).
# About 16 s; FANOUT_CLIENTS sets the count (fewer under a sanitizer if
# need be).
. "$(dirname "$0")/tail-lib.sh"

CLIENTS=${FANOUT_CLIENTS:-1000}
tail_web_db sm_tail_fanout_$$

# the load client, against the library of the binaries under test
lib=$SM_BIN/../libsm.a
san=-fsanitize=address,undefined
[ -f "$lib" ] || { lib=$SM_TOP/build/libsm.a; san=; }
[ -f "$lib" ] || fail "no libsm.a for bench/sse-load.c: make all"
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c11 -D_GNU_SOURCE $san -I"$SM_TOP/lib" \
    $(pkg-config --cflags libmariadb) -o "$SM_TMP/sse-load" \
    "$SM_TOP/bench/sse-load.c" "$lib" \
    $(pkg-config --libs libmariadb json-c) -pthread ||
    fail "cannot build bench/sse-load.c"

gen_records 1 f 0 h0 | "$SM_BIN/sm-store" --db "$URL" --source setup \
    2>/dev/null || fail "the first row"

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --max-connections $((CLIENTS + 100)) --backlog 512 \
    2>"$SM_TMP/web.err" &
web=$!
wait_until 20 "the port file" test -s "$SM_TMP/port"
PORT=$(cat "$SM_TMP/port")
wait_until 20 "/health" curl -sf -m 2 -o /dev/null \
    "http://127.0.0.1:$PORT/health"

echo "a small pool per stream, yet 2,000 bytes of cookies fit"
cookie=$(awk 'BEGIN { while (n++ < 2000) printf "a" }')
curl -s -m 2 -N -H "Cookie: c=$cookie" \
    "http://127.0.0.1:$PORT/events?n=0" >"$SM_TMP/big.out" 2>/dev/null || :
grep -q "^retry: " "$SM_TMP/big.out" ||
    fail "/events with 2,000 bytes of cookies: $(head -c 200 \
    "$SM_TMP/big.out")"

echo "$CLIENTS streams and 3 that never read, 1,200 rows"
SM_DB=$URL "$SM_TMP/sse-load" -c "$CLIENTS" -r 1200 -t 100 -s 3 -w 20 \
    -p "$web" "$PORT" >"$SM_TMP/load.out" 2>&1
rc=$?
cat "$SM_TMP/load.out"
[ $rc -eq 0 ] || fail "sse-load exited $rc"
grep -q "^received: $CLIENTS of $CLIENTS clients got all 1200 rows.*; 0 \
duplicates; 0 streams ended early" "$SM_TMP/load.out" ||
    fail "not every stream got every row once"
grep -q "^slow clients: 3 of 3 cut off" "$SM_TMP/load.out" ||
    fail "the readers that never read were not all cut off"

echo "the slow ones only were cut"
cut=$(curl -sf -m 10 "http://127.0.0.1:$PORT/metrics" |
    awk '$1 == "sm_tail_sse_clients_cut_total" { print $2 }')
[ "$cut" = 3 ] || fail "sm_tail_sse_clients_cut_total $cut, want 3"

kill -TERM "$web"
wait "$web" || fail "sm-tail --listen exited $?: $(cat "$SM_TMP/web.err")"
web=
echo ok
