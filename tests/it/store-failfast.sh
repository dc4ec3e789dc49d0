#!/bin/sh
# sm-store fails fast, with the fix in the message (sm-store(1),
# DIAGNOSTICS): a database that does not answer at start is reported
# within 2 s with its address and what to check, retried for --max-wait
# and reminded of every 10 s; a wrong password exits 2 within 2 s naming
# SM_DB_PASSWORD and the option file; the receiver says it answers 503
# meanwhile; a port in use is said so (not "port 0"); a restart of the
# database under sm-store is a lost connection with the server's text,
# over TLS too.  About 20 s (a 12 s --max-wait, two server restarts).
. "$(dirname "$0")/store-lib.sh"

sed -n 1p "$FIX/seed-records.ndjson" >"$SM_TMP/one"
# a port nothing listens on: connections to it are refused at once
CLOSED=1

echo "a database that does not answer: said within 2 s, retried for --max-wait"
mkfifo "$SM_TMP/in"
"$STORE" --db "mysql://sm@127.0.0.1:$CLOSED/sm" --max-wait 12 \
    <"$SM_TMP/in" 2>"$SM_TMP/down.err" &
spid=$!
at_exit "kill $spid 2>/dev/null || true"
exec 3>"$SM_TMP/in"
cat "$SM_TMP/one" >&3
said 20 "$SM_TMP/down.err" "^sm-store: database sm@127.0.0.1:$CLOSED/sm: connect: .*(200[23]); check that the server runs and that --db or SM_DB names its host and port; retrying for up to 12.0 s (--max-wait)$"
# not silent until it gives up: a reminder 10 s into the outage
said 250 "$SM_TMP/down.err" "^sm-store: database sm@127.0.0.1:$CLOSED/sm: still unreachable after 1[0-9] s: connect: "
# at the first retry (every 1-2 s) 12 s or more into the outage
said 100 "$SM_TMP/down.err" "^sm-store: database sm@127.0.0.1:$CLOSED/sm: unreachable for 1[2-9].[0-9] s (--max-wait): giving up: connect: "
exec 3>&-
set +e
wait $spid
st=$?
set -e
expect_eq "exit status" "$st" 3
expect_eq "lines" "$(wc -l <"$SM_TMP/down.err")" 4
grep -q "^sm-store: 0 stored, 0 duplicates, 0 rejected" "$SM_TMP/down.err" ||
    fail "no summary: $(cat "$SM_TMP/down.err")"

echo "a wrong password: exit 2 within 2 s, naming where the password comes from"
# timeout(1): 124 had it taken longer
expect_status 2 env SM_DB_PASSWORD=not-it timeout 2 "$STORE" <"$SM_TMP/one"
expect_err "sm-store: database ${SM_DB#mysql://}: connect: Access denied for user 'sm'@"
expect_err "(1045); check the password: SM_DB_PASSWORD, or password= in the [client] or [sm] group of the option file (--defaults-file, ~/.my.cnf), and the user in the URL"

echo "the receiver with its database away: said within 2 s, 503 meanwhile"
"$STORE" --db "mysql://sm@127.0.0.1:$CLOSED/sm" --listen 127.0.0.1:0 \
    --port-file "$SM_TMP/r.port" 2>"$SM_TMP/r.err" &
rpid=$!
at_exit "kill $rpid 2>/dev/null || true"
said 20 "$SM_TMP/r.err" "^sm-store: database sm@127.0.0.1:$CLOSED/sm: connect: .*; reconnecting, answering 503 meanwhile$"
wait_for 20 test -s "$SM_TMP/r.port"
code=$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$(cat "$SM_TMP/r.port")/health")
expect_eq "/health" "$code" 503

echo "a port in use: said so, exit 2 within 2 s"
expect_status 2 timeout 2 "$STORE" --listen "127.0.0.1:$(cat "$SM_TMP/r.port")"
expect_err "sm-store: --listen 127.0.0.1:$(cat "$SM_TMP/r.port"): cannot listen: the port is in use by another program (ss -ltnp shows which)"
! grep -q "port 0" "$SM_TMP/err" || fail "port 0: $(cat "$SM_TMP/err")"
kill -TERM $rpid
wait $rpid || fail "receiver exit $?"

# restart: a private server, stopped under a running sm-store
private_server
export SM_DB_PASSWORD="$PDB_PASSWORD"
# stored N: the private server holds N rows (one a round, each its id)
stored() { [ "$(pq 'SELECT COUNT(*) FROM system_metrics')" -ge "$1" ]; }
n=0
for mode in DEFAULT REQUIRED; do
	echo "the database restarts under sm-store (ssl-mode $mode): a lost connection"
	rm -f "$SM_TMP/in" "$SM_TMP/r.err"
	mkfifo "$SM_TMP/in"
	set -- --db "$PDB_URL"
	[ $mode = DEFAULT ] || set -- "$@" --ssl-mode $mode
	"$STORE" "$@" --flush-ms 50 <"$SM_TMP/in" 2>"$SM_TMP/r.err" &
	spid=$!
	at_exit "kill $spid 2>/dev/null || true"
	exec 3>"$SM_TMP/in"
	n=$((n + 1))
	gen_records 1 "fa$n" >&3
	# connected and stored: the stop comes under a running session
	wait_for 100 stored $n
	pdb stop >/dev/null
	# an idle connection is checked every second
	said 30 "$SM_TMP/r.err" "^sm-store: database ${PDB_URL#mysql://}: lost the connection: .*([0-9]*); retrying for up to 60.0 s (--max-wait)$"
	pdb start >/dev/null
	said 100 "$SM_TMP/r.err" "reconnected after"
	exec 3>&-
	wait $spid || fail "exit $?: $(cat "$SM_TMP/r.err")"
	if [ $mode = DEFAULT ]; then
		! grep -q "TLS" "$SM_TMP/r.err" ||
		    fail "TLS on loopback: $(cat "$SM_TMP/r.err")"
	fi
done
echo "ok"
