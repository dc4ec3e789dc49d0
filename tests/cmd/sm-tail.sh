#!/bin/sh
# sm-tail without a database: options, usage errors, an unreachable server.
# (tests/it/tail-*.sh run it against MariaDB.)
. "$(dirname "$0")/../lib.sh"

T="$SM_BIN/sm-tail"
DB=mysql://sm@127.0.0.1:1/sm

echo "--help and --version"
expect_status 0 $T --help
grep -q "^usage: sm-tail \[-fh\] \[-n count\]" "$SM_TMP/out" ||
    fail "--help: $(cat "$SM_TMP/out")"
grep -q "^       sm-tail -d " "$SM_TMP/out" || fail "--help lacks -d"
expect_status 0 $T --version
grep -q "^sm-tail [0-9]" "$SM_TMP/out" || fail "--version: $(cat "$SM_TMP/out")"

echo "bad values and combinations: usage, exit 2"
expect_status 2 $T --db $DB --format csv
expect_err "sm-tail: --format: \"csv\": want ndjson, table or seed"
expect_err "usage: sm-tail"
expect_status 2 $T --db $DB -n -5
expect_err "-n: \"-5\": want a count of rows, 0 or more"
expect_status 2 $T --db $DB -n ten
expect_status 2 $T --db $DB -f --interval 0.001
expect_err "--interval: \"0.001\": want seconds from 0.01 to 3600"
expect_status 2 $T --db $DB -f --interval nan
expect_status 2 $T --db $DB -f --gap-timeout 0
expect_err "--gap-timeout: \"0\": want seconds from 0.1 to 86400"
expect_status 2 $T --db $DB --interval 1
expect_err "--interval and --gap-timeout are for -f, -d and --listen"
expect_status 2 $T --db $DB --gap-timeout 5
expect_status 2 $T --db $DB -f --via replication
expect_err "--via: \"replication\": want auto, binlog or poll"
expect_status 2 $T --db $DB --via binlog
expect_err "--via is for -f, -d and --listen"
expect_status 2 $T --db $DB --warn 50
expect_err "--warn is for the dashboards (-d, --listen)"
expect_status 2 $T --db $DB -d --warn -1
expect_err "--warn: \"-1\": want a percentage from 0 to 100"
expect_status 2 $T --db $DB -d -f
expect_err "conflicting modes: -d and -f"
expect_status 2 $T --db $DB -d --format table
expect_err "-d shows rows on the screen: not with --format or -f"
expect_status 2 $T --db $DB -d </dev/null
expect_err "-d: the dashboard needs a terminal on stdin and stdout"
expect_status 2 $T --db $DB --since 2026-13-01T00:00:00Z
expect_err "--since: \"2026-13-01T00:00:00Z\""
expect_status 2 $T --db $DB --since ""
expect_status 2 $T --db $DB --host ""
expect_err "--host: want 1 to 255 bytes, no control characters"
expect_status 2 $T --db $DB --host "$(printf 'a\tb')"
expect_status 2 $T --db $DB --source "$(printf '%051d' 0)"
expect_err "--source: want 1 to 50 bytes, no control characters"
expect_status 2 $T --db $DB --ssl-mode maybe
expect_err "--ssl-mode: \"maybe\""
expect_status 2 $T --db $DB --ssl-ca /nonexistent/ca.pem
expect_status 2 $T --db $DB --defaults-file /nonexistent/my.cnf
expect_status 2 $T --db $DB --bogus
expect_status 2 $T --db $DB stray
expect_err "sm-tail: unexpected argument \"stray\""
expect_status 2 $T --db "http://x/y"
expect_err "database URL"
(unset SM_DB; expect_status 2 $T)
expect_err "no database: give --db URL or set SM_DB"

echo "--listen: its options, bad values and combinations"
expect_status 0 $T --help
grep -q "^       sm-tail --listen addr " "$SM_TMP/out" || fail "--help lacks --listen"
expect_status 2 $T --db $DB --listen 127.0.0.1:99999
expect_err "--listen: \"127.0.0.1:99999\": port 99999 out of range"
expect_status 2 $T --db $DB --listen ::1:80
expect_err "an IPv6 address goes in brackets"
expect_status 2 $T --db $DB --listen 0 -f
expect_err "conflicting modes: --listen and -f"
expect_status 2 $T --db $DB -f --step 1m --since 1h
expect_err "conflicting modes: -f and --step"
expect_status 2 $T --db $DB -f -f -n 1 --interval 1 --listen 0
expect_err "conflicting modes: -f and --listen"
expect_status 2 $T --db $DB --listen 0 --format ndjson
expect_err "--listen serves rows over HTTP: not with -d, -f or --format"
expect_status 2 $T --db $DB --listen 0 --backlog 0
expect_err "--backlog: \"0\": want 1 to 1000000 rows"
expect_status 2 $T --db $DB --listen 0 --max-connections 0
expect_err "--max-connections: \"0\": want 1 to 100000"
expect_status 2 $T --db $DB --listen 0 --max-per-address x
expect_err "--max-per-address: \"x\": want 1 to 100000"
expect_status 2 $T --db $DB --listen 0 --stale 0.5
expect_err "--stale: \"0.5\": want seconds, 1 or more"
expect_status 2 $T --db $DB --listen 0 --warn 101
expect_status 2 $T --db $DB --listen 0 --max-hosts 1000001
expect_err "--max-hosts: \"1000001\": want 1 to 1000000 pairs"
expect_status 2 $T --db $DB --listen 0 --request-timeout 3601
expect_err "--request-timeout: \"3601\": want 1 to 3600 seconds"
expect_status 2 $T --db $DB --listen 0 --forget 0
expect_err "--forget: \"0\": want seconds, 1 or more"
for v in 3K 2M 8KB x 16777216T; do
	expect_status 2 $T --db $DB --listen 0 --connection-memory $v
	expect_err "--connection-memory: \"$v\": want a size from 4K to 1024K"
done
for o in "--backlog 10" "--max-connections 5" "--max-per-address 2" \
    "--port-file p" "--stale 5" \
    "--web-root /" "--auth-file f" "--metrics-token-file f" \
    "--tls-cert f" "--tls-key f" "--tls-client-ca f" "--forget 9" \
    "--max-hosts 9" "--request-timeout 9" "--connection-memory 8K"; do
	# shellcheck disable=SC2086
	expect_status 2 $T --db $DB $o
	expect_err "--auth-file, --backlog, --connection-memory, --forget, --keep-alerts, --max-connections, --max-hosts, --max-per-address, --metrics-token-file, --port-file, --request-timeout, --rule, --rules, --stale, --tls-* and --web-root need --listen"
done

echo "--web-root without index.html: exit 2 naming it, before serving"
mkdir -p "$SM_TMP/noweb"
expect_status 2 $T --db $DB --listen 127.0.0.1:0 --web-root "$SM_TMP/noweb"
expect_err "sm-tail: --web-root: $SM_TMP/noweb/index.html: No such file"
grep -q serving "$SM_TMP/err" && fail "serving without a page"

echo "--listen without a database: serves anyway, /health 503; SIGTERM, 0"
echo "  the page built in: no --web-root"
# wait up to 10 s for the --listen server's port file
wait_port() {
	i=0
	until [ -s "$SM_TMP/port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] ||
		    fail "--listen: no port file: $(cat "$SM_TMP/lerr")"
		sleep 0.1
	done
}
$T --db $DB --listen 127.0.0.1:0 --port-file "$SM_TMP/port" \
    2>"$SM_TMP/lerr" &
pid=$!
# not left behind by a failure below
trap 'kill $pid 2>/dev/null || true' EXIT
wait_port
code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' \
    "http://127.0.0.1:$(cat "$SM_TMP/port")/health")
[ "$code" = 503 ] || fail "/health without a database: $code"
echo "  4,000 bytes of cookies: 431 in the default 6K pool"
cookie=$(awk 'BEGIN { while (n++ < 4000) printf "a" }')
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Cookie: c=$cookie" \
    "http://127.0.0.1:$(cat "$SM_TMP/port")/health")
[ "$code" = 431 ] || fail "/health, 4,000 bytes of headers, 6K: $code"
for f in index.html app.js app.css; do
	u=$f
	[ $f = index.html ] && u=
	code=$(curl -s -m 5 -o "$SM_TMP/body" -w '%{http_code}' \
	    "http://127.0.0.1:$(cat "$SM_TMP/port")/$u")
	[ "$code" = 200 ] || fail "/$u without a database: $code"
	cmp -s "$SM_TMP/body" "$SM_TOP/web/$f" ||
	    fail "/$u is not web/$f"
done
kill -TERM $pid
wait $pid || fail "--listen after SIGTERM: exit $?"
[ ! -e "$SM_TMP/port" ] || fail "the port file is left"
grep -q "connect: .*retrying" "$SM_TMP/lerr" ||
    fail "--listen did not say why: $(cat "$SM_TMP/lerr")"

echo "--connection-memory 16K: the same 4,000 bytes of cookies fit"
$T --db $DB --listen 127.0.0.1:0 --port-file "$SM_TMP/port" \
    --connection-memory 16K 2>"$SM_TMP/lerr" &
pid=$!
wait_port
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Cookie: c=$cookie" \
    "http://127.0.0.1:$(cat "$SM_TMP/port")/health")
[ "$code" = 503 ] || fail "/health, 4,000 bytes of headers, 16K: $code"
kill -TERM $pid
wait $pid || fail "--listen --connection-memory after SIGTERM: exit $?"

echo "--listen on an address in use: exit 2"
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$SM_TMP/busy" &
busy=$!
i=0
until [ -s "$SM_TMP/busy" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "no busy port"; sleep 0.1
done
expect_status 2 $T --db $DB --listen "127.0.0.1:$(cat "$SM_TMP/busy")"
expect_err "cannot listen"
kill $busy

echo "a password in the URL: a warning, then as usual"
expect_status 3 $T --db "mysql://sm:secret@127.0.0.1:1/sm"
expect_err "--db: a password in the URL is visible to other users"
grep -q secret "$SM_TMP/err" && fail "the password was printed"

echo "nothing listening: exit 3, the target named"
expect_status 3 $T --db $DB
expect_err "sm-tail: sm@127.0.0.1:1/sm: connect: "
[ ! -s "$SM_TMP/out" ] || fail "output without a database"
expect_status 3 $T --db $DB --format table -n 5 --host h --source s \
    --since 2026-11-26T00:00:00Z

echo "-f keeps trying; SIGTERM ends it with status 0"
$T --db $DB -f --interval 0.05 >"$SM_TMP/out" 2>"$SM_TMP/err" &
pid=$!
i=0
until grep -q "retrying" "$SM_TMP/err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "-f without a server: $(cat "$SM_TMP/err")"
	sleep 0.1
done
kill -TERM $pid
wait $pid || fail "-f after SIGTERM: exit $?"
expect_err "sm-tail: sm@127.0.0.1:1/sm: connect: "
[ "$(grep -c retrying "$SM_TMP/err")" -eq 1 ] ||
    fail "-f repeats itself: $(cat "$SM_TMP/err")"
