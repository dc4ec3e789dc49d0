#!/bin/sh
# sm-store --listen's own polling thread (one thread, up to 256 connections:
# an epoll set each socket joins once) with sockets it must not wait on: a
# client that does not read its large answer, and one that leaves while its
# request waits for the database.  Either way the others are served, the
# receiver does not spin on the socket (its CPU time stays low), and the
# answer comes whole, or the record is stored once.
. "$(dirname "$0")/store-lib.sh"

# ticks PID: the CPU time the process has used, in clock ticks
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# calm WHAT: over 2 s, the receiver uses well under half a core
calm() {
	t0=$(ticks "$RPID")
	sleep 2
	used=$(($(ticks "$RPID") - t0))
	hz=$(getconf CLK_TCK)
	[ "$used" -lt "$hz" ] ||
	    fail "$1: the receiver used $used ticks of $hz a second in 2 s"
}

# sendq: the bytes the receiver has not yet got out to its clients
sendq() {
	ss -Htn state established "( sport = :$RPORT )" |
	    awk '{ n += $2 } END { print n + 0 }'
}
sendq_big() { [ "$(sendq)" -gt 65536 ]; }

start_receiver recv
gen_records 3 a7 >"$SM_TMP/recs"
sed -n 1p "$SM_TMP/recs" >"$SM_TMP/r1"
sed -n 2p "$SM_TMP/recs" >"$SM_TMP/r2"
sed -n 3p "$SM_TMP/recs" >"$SM_TMP/r3"

echo "a client that does not read its 8 MB answer: others are served, no spin"
# 200,000 records without a ts: a 400 naming each, 8 MB, more than the
# socket buffers hold (4 MB and some)
python3 -c "import sys; sys.stdout.write('{}\n' * 200000)" >"$SM_TMP/bad"
python3 - "$RPORT" "$SM_TMP/bad" "$SM_TMP/go" >"$SM_TMP/lazy.out" <<'EOF' &
import json, os, socket, sys, time
port, path, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(path, 'rb').read()
s = socket.create_connection(('127.0.0.1', port), timeout=60)
s.sendall(b'POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'
          b'Content-Type: application/x-ndjson\r\n'
          b'Content-Length: %d\r\n\r\n' % len(body) + body)
for _ in range(600):
    if os.path.exists(go):
        break
    time.sleep(0.1)
data = b''
while True:
    head, sep, rest = data.partition(b'\r\n\r\n')
    if sep:
        length = [int(l.split(b':')[1]) for l in head.split(b'\r\n')
                  if l.lower().startswith(b'content-length:')][0]
        if len(rest) >= length:
            break
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
answer = json.loads(rest[:length])
print(head.split(b'\r\n')[0].decode(), len(answer['errors']),
      answer['errors'][-1]['index'])
EOF
LAZY=$!
at_exit "kill $LAZY 2>/dev/null || true"
wait_for 100 sendq_big
post application/x-ndjson "@$SM_TMP/r1"
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/health")
expect_answer 200 '{"status":"ok","api":"sm-store"}'
calm "an answer waiting for its client"
touch "$SM_TMP/go"
wait "$LAZY" || fail "the lazy client failed"
expect_eq "the whole answer" "$(cat "$SM_TMP/lazy.out")" \
    "HTTP/1.1 400 Bad Request 200000 199999"

echo "a client that leaves while the database holds its request: no spin"
# the table locked: the request waits, suspended, while its client goes
$ADMIN_SQL "$TESTDB" -e "LOCK TABLES system_metrics WRITE;
    SELECT SLEEP(5) AS held; UNLOCK TABLES" >/dev/null &
LOCKER=$!
at_exit "kill $LOCKER 2>/dev/null || true"
held() {
	[ "$(q "SELECT COUNT(*) FROM information_schema.PROCESSLIST
	    WHERE INFO LIKE 'SELECT SLEEP(5) AS held%'")" -gt 0 ]
}
wait_for 100 held
rc=0
curl -s -o /dev/null --max-time 1 -H 'Content-Type: application/x-ndjson' \
    --data-binary "@$SM_TMP/r2" "$RURL/metrics" || rc=$?
expect_eq "curl gave up" "$rc" 28
calm "a request whose client left"
wait "$LOCKER" || fail "the lock session failed"
echo "... the request was stored; the sender's retry is a duplicate"
post application/x-ndjson "@$SM_TMP/r2"
expect_answer 200 '{"stored":0,"duplicates":1,"api":"sm-store"}'
post application/x-ndjson "@$SM_TMP/r3"
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
expect_eq rows "$(rows)" 3

echo "idle with keep-alive connections open: no spin"
python3 "$SM_TOP/tests/it/hardening-client.py" hold "$RPORT" 8 \
    "$SM_TMP/ready" &
HOLD=$!
at_exit "kill $HOLD 2>/dev/null || true"
wait_for 100 test -s "$SM_TMP/ready"
calm "idle keep-alive connections"
kill "$HOLD"

stop_receiver
if grep -q epoll "$SM_TMP/recv.err"; then
	fail "epoll complained: $(cat "$SM_TMP/recv.err")"
fi
echo "ok"
