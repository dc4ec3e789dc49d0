#!/bin/sh
# A fatal follower error ends every view of sm-tail the same way: the
# database is unreachable at start (sm-tail says so and keeps trying), then
# answers "access denied" (a configuration fault, TAIL_STEP_FATAL): -f and
# --listen both report the reason once and exit 2, where --listen used to
# retry silently for ever with /health at 503.
. "$(dirname "$0")/tail-lib.sh"

pids=""
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
# a database user sm has no rights on: "access denied" once it answers
DB=sm_tail_fatal_none_$$

# a free port: a proxy's, stopped (nothing listens there now)
python3 "$SM_TOP/tests/it/tcp-proxy.py" 0 "$(db_port)" "$SM_TMP/pport" &
proxy=$!
wait_until 20 "the proxy" test -s "$SM_TMP/pport"
PP=$(cat "$SM_TMP/pport")
kill $proxy
wait $proxy 2>/dev/null || true
URL=mysql://sm@127.0.0.1:$PP/$DB

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --interval 0.05 --web-root "$SM_TOP/web" \
    2>"$SM_TMP/web.err" &
web=$!
pids="$pids $web"
"$SM_BIN/sm-tail" -f --db "$URL" --interval 0.05 >"$SM_TMP/f.out" \
    2>"$SM_TMP/f.err" &
f=$!
pids="$pids $f"
wait_until 20 "the port file" test -s "$SM_TMP/port"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port")
health_503() {
	[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE/health")" = \
	    503 ]
}
wait_until 20 "/health 503 while the database is away" health_503
wait_until 20 "-f says it retries" has_line "$SM_TMP/f.err" retrying

echo "the server answers: access denied; both views stop with status 2"
python3 "$SM_TOP/tests/it/tcp-proxy.py" "$PP" "$(db_port)" \
    "$SM_TMP/pport2" &
proxy=$!
pids="$pids $proxy"
gone() {
	! kill -0 "$1" 2>/dev/null
}
# the retry is at most TAIL_RETRY_CAP_MS (2 s) away
wait_until 30 "sm-tail --listen to stop" gone $web
wait_until 30 "sm-tail -f to stop" gone $f
set +e
wait $web
web_rc=$?
wait $f
f_rc=$?
set -e
[ "$web_rc" -eq 2 ] || fail "--listen exited $web_rc, want 2: \
$(cat "$SM_TMP/web.err")"
[ "$f_rc" -eq 2 ] || fail "-f exited $f_rc, want 2: $(cat "$SM_TMP/f.err")"
for e in web f; do
	n=$(grep -c "sm@127.0.0.1:$PP/$DB: connect: Access denied" \
	    "$SM_TMP/$e.err")
	[ "$n" -eq 1 ] || fail "$e: the reason said $n times, want once: \
$(cat "$SM_TMP/$e.err")"
done
grep -q 'stopped on signal' "$SM_TMP/web.err" &&
    fail "--listen: not stopped by a signal: $(cat "$SM_TMP/web.err")"
echo ok
