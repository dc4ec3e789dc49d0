#!/bin/sh
# sm-tail --listen behind authentication (sm-tail(1), SECURITY): every
# endpoint but /health answers 401 without a viewer's credentials
# (--auth-file: a bcrypt and a SHA-crypt user) and 200 with them; a wrong
# password, an unknown name and a wrong token are counted in /metrics'
# sm_tail_auth_failures_total; /metrics takes its own bearer token
# (--metrics-token-file), which opens nothing else; bad files exit 2
# naming the file and line.  About 5 s.
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_auth_$$
pids=""
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	tail_db_drop $NAME
}
trap cleanup EXIT
URL=$(tail_db $NAME)

gen_records 3 1 0 alpha | "$SM_BIN/sm-store" --db "$URL" --source a \
    2>/dev/null

# the viewers: bcrypt (cost 5, a test's) and SHA-crypt
BCRYPT=$(python3 -W ignore -c 'import crypt
print(crypt.crypt("open sesame", crypt.mksalt(crypt.METHOD_BLOWFISH,
    rounds=1 << 5)))')
case $BCRYPT in
'$2b$'*) ;;
*) fail "python3 made no bcrypt hash: $BCRYPT" ;;
esac
{
	echo "# viewers of the test"
	echo "ana:$BCRYPT"
	echo "bo:$(openssl passwd -6 hunter2)"
} >"$SM_TMP/users"
echo "scrape-token-$$" >"$SM_TMP/mtoken"
chmod 600 "$SM_TMP/users" "$SM_TMP/mtoken"

echo "bad files: exit 2 naming the file and the line"
printf 'ana:nothash\n' >"$SM_TMP/bad"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --auth-file "$SM_TMP/bad"
expect_err "--auth-file: $SM_TMP/bad: line 1: ana: not a hash"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --auth-file "$SM_TMP/none"
expect_err "$SM_TMP/none: No such file or directory"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --auth-file "$SM_TMP/users"
expect_err "need --listen"

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --interval 0.05 --web-root "$SM_TOP/web" \
    --auth-file "$SM_TMP/users" --metrics-token-file "$SM_TMP/mtoken" \
    2>"$SM_TMP/web.err" &
web=$!
pids="$pids $web"
wait_until 20 "the port file" test -s "$SM_TMP/port"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port")

# want CODE PATH [CURL ARGS]: the status of GET PATH is CODE (a stream,
# /events, is cut after a second: its status is in by then; the rest get
# 10 s, for the sanitizers on a loaded machine)
want() {
	code=$1
	p=$2
	shift 2
	case $p in
	/events*)	m=1 ;;
	*)		m=10 ;;
	esac
	got=$(curl -s -m "$m" -o "$SM_TMP/body" -D "$SM_TMP/head" \
	    -w '%{http_code}' "$@" "$BASE$p") || :
	[ "$got" = "$code" ] ||
	    fail "GET $p $*: $got, want $code: $(cat "$SM_TMP/body")"
}
failures() {
	curl -s -m 10 -u 'ana:open sesame' "$BASE/metrics" |
	    sed -n 's/^sm_tail_auth_failures_total //p'
}

echo "/health needs nothing"
want 200 /health
EP="/ /index.html /app.js /app.css /events?n=1 /rows /hosts /metrics /alerts
/history?from=1h&step=1m"
echo "without credentials: 401 asking for basic authentication"
for p in $EP; do
	want 401 "$p"
	grep -qi '^WWW-Authenticate: Basic realm="sm-tail"' "$SM_TMP/head" ||
	    fail "GET $p: no WWW-Authenticate: $(cat "$SM_TMP/head")"
done
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
expect_eq "failures without credentials (none tried)" "$(failures)" 0

echo "with a viewer's credentials (bcrypt, SHA-crypt): 200"
for p in $EP; do
	want 200 "$p" -u 'ana:open sesame'
	want 200 "$p" -u 'bo:hunter2'
done
want 200 "/rows?n=3" -u 'bo:hunter2'
grep -q 'alpha' "$SM_TMP/body" || fail "/rows: no rows: $(cat "$SM_TMP/body")"

echo "wrong password, unknown name, wrong scheme: 401, each counted"
want 401 /rows -u 'ana:open sesame!'
want 401 /rows -u 'ana:'
want 401 /rows -u 'eve:open sesame'
want 401 /rows -H "Authorization: Bearer scrape-token-$$"
expect_eq "failures counted" "$(failures)" 4

echo "/metrics with its own token: 200; that token opens nothing else"
want 200 /metrics -H "Authorization: Bearer scrape-token-$$"
grep -q '^sm_tail_auth_failures_total 4$' "$SM_TMP/body" ||
    fail "/metrics lacks the counter: $(cat "$SM_TMP/body")"
grep -q '^# TYPE sm_tail_auth_failures_total counter$' "$SM_TMP/body" ||
    fail "/metrics: no TYPE line for the counter"
want 401 /metrics -H "Authorization: Bearer scrape-token-$$-x"
want 401 /hosts -H "Authorization: Bearer scrape-token-$$"
expect_eq "failures counted" "$(failures)" 6

kill -TERM $web
wait $web || fail "sm-tail exited $? on SIGTERM"
pids=""
echo "ok"
