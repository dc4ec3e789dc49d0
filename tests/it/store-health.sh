#!/bin/sh
# sm-store --listen while its database comes and goes: GET /health 200,
# then 503 with the server stopped, POST 503 with Retry-After, and back;
# a request answered 200 is stored, one answered 503 can be sent again and
# is stored once.  A private server of this test's own is stopped and
# started.
. "$(dirname "$0")/store-lib.sh"

private_server
SM_DB=$PDB_URL
SM_DB_PASSWORD=$PDB_PASSWORD
export SM_DB SM_DB_PASSWORD

health() {
	curl -s -D "$SM_TMP/hhead" -o "$SM_TMP/body" -w '%{http_code}' \
	    "$RURL/health"
}
health_is() { [ "$(health)" = "$1" ]; }

start_receiver recv --source nodejs_api1
echo "the database answers: 200"
CODE=$(health)
expect_answer 200 '{"status":"ok","api":"nodejs_api1"}'
gen_records 40 f6 >"$SM_TMP/recs"
sed -n 1,10p "$SM_TMP/recs" >"$SM_TMP/r1"
post application/x-ndjson "@$SM_TMP/r1"
expect_answer 200 '{"stored":10,"duplicates":0,"api":"nodejs_api1"}'

echo "the server stops: /health 503, POST 503 with Retry-After"
pdb stop
wait_for 100 health_is 503
CODE=503
expect_answer 503 '{"status":"database unavailable","api":"nodejs_api1"}'
grep -qi '^Retry-After: [1-9]' "$SM_TMP/hhead" ||
    fail "/health 503 without Retry-After: $(cat "$SM_TMP/hhead")"
sed -n 11,20p "$SM_TMP/recs" >"$SM_TMP/r2"
post application/x-ndjson "@$SM_TMP/r2" -D "$SM_TMP/phead"
expect_answer 503 '{"error":"database unavailable","api":"nodejs_api1"}'
grep -qi '^Retry-After: [1-9]' "$SM_TMP/phead" ||
    fail "POST 503 without Retry-After: $(cat "$SM_TMP/phead")"

echo "the server is back: 200, and the refused request goes in once"
pdb start >/dev/null
wait_for 100 health_is 200
post application/x-ndjson "@$SM_TMP/r2"
expect_answer 200 '{"stored":10,"duplicates":0,"api":"nodejs_api1"}'
expect_eq rows "$(pq 'SELECT COUNT(*), COUNT(DISTINCT sample_id)
    FROM system_metrics' | tr '\t' ' ')" "20 20"

echo "requests during a restart: 200 means stored; 503 is sent again"
i=21
: >"$SM_TMP/later"
while [ $i -le 40 ]; do
	sed -n "${i}p" "$SM_TMP/recs" >"$SM_TMP/one"
	post application/x-ndjson "@$SM_TMP/one"
	case $CODE in
	200)	id=$(cut -c8-43 "$SM_TMP/one")
		[ "$(pq "SELECT COUNT(*) FROM system_metrics
		    WHERE sample_id = '$id'")" = 1 ] ||
		    fail "answered 200 but not stored: $id" ;;
	503)	cat "$SM_TMP/one" >>"$SM_TMP/later" ;;
	*)	fail "status $CODE: $(cat "$SM_TMP/body")" ;;
	esac
	[ $i = 25 ] && pdb restart >/dev/null
	i=$((i + 1))
done
wait_for 100 health_is 200
if [ -s "$SM_TMP/later" ]; then
	post application/x-ndjson "@$SM_TMP/later"
	[ "$CODE" = 200 ] || fail "resend: $CODE $(cat "$SM_TMP/body")"
fi
expect_eq rows "$(pq 'SELECT COUNT(*), COUNT(DISTINCT sample_id)
    FROM system_metrics' | tr '\t' ' ')" "40 40"
echo "group commit: requests queued behind a waiting transaction share its"
echo "successor: 1 + 10 requests, 2 INSERTs (each its own transaction)"
# prepared statements executed: sm-store's INSERTs (autocommitted)
inserts() {
	pq "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f2
}
locker() {
	pq "SELECT ID FROM information_schema.PROCESSLIST
	    WHERE INFO = 'SELECT SLEEP(300)'"
}
locked() { [ -n "$(locker)" ]; }
waiting_insert() {
	[ "$(pq "SELECT COUNT(*) FROM information_schema.PROCESSLIST
	    WHERE INFO LIKE 'INSERT INTO system_metrics%'")" -ge 1 ]
}
# queued N: N requests or more wait for the committer (GET /metrics)
queued() {
	[ "$(curl -s -m 5 "$RURL/metrics" |
	    awk '$1 == "sm_store_queue_groups" { print $2 }')" -ge "$1" ]
}
# together P I...: POST $SM_TMP/P<I> for each I while the table is
# locked, the first one's INSERT waiting for the lock before the others
# go, then unlock: the others share one transaction.  The answers in
# $SM_TMP/Pans<I>; INSERTS: the INSERTs the server ran meanwhile.
together() {
	p=$1
	shift
	pdb sql sm -e "LOCK TABLES system_metrics WRITE; SELECT SLEEP(300)" \
	    >/dev/null 2>&1 &
	lpid=$!
	wait_for 100 locked
	c0=$(inserts)
	pids=
	first=$1
	for i in "$@"; do
		curl -s -o "$SM_TMP/${p}ans$i" -X POST \
		    -H 'Content-Type: application/x-ndjson' \
		    --data-binary "@$SM_TMP/$p$i" "$RURL/metrics" &
		pids="$pids $!"
		[ "$i" = "$first" ] && wait_for 100 waiting_insert
	done
	# the others all in the committer's queue before the unlock
	wait_for 200 queued $(($# - 1))
	pq "KILL $(locker)"
	# shellcheck disable=SC2086
	wait $pids
	wait $lpid || true
	INSERTS=$(( $(inserts) - c0 ))
}
gen_records 11 f7 >"$SM_TMP/grp"
i=1
while [ $i -le 11 ]; do
	sed -n "${i}p" "$SM_TMP/grp" >"$SM_TMP/g$i"
	i=$((i + 1))
done
together g 1 2 3 4 5 6 7 8 9 10 11
i=1
while [ $i -le 11 ]; do
	expect_eq "request $i" "$(cat "$SM_TMP/gans$i")" \
	    '{"stored":1,"duplicates":0,"api":"nodejs_api1"}'
	i=$((i + 1))
done
expect_eq "INSERTs for 11 requests" "$INSERTS" 2

echo "duplicates in a shared transaction: each request its own count; a"
echo "record sent twice in it is stored once"
gen_records 4 f8 >"$SM_TMP/dgrp"
sed -n 1p "$SM_TMP/dgrp" >"$SM_TMP/d0"
sed -n 1p "$SM_TMP/grp" >"$SM_TMP/d1"
sed -n 2p "$SM_TMP/dgrp" >"$SM_TMP/d2"
cp "$SM_TMP/d2" "$SM_TMP/d3"
{ sed -n 2p "$SM_TMP/grp"; sed -n 3p "$SM_TMP/dgrp"; } >"$SM_TMP/d4"
sed -n 4p "$SM_TMP/dgrp" >"$SM_TMP/d5"
together d 0 1 2 3 4 5
expect_eq "INSERTs for 6 requests" "$INSERTS" 2
ans() { sed 's/,"api".*//' "$SM_TMP/dans$1"; }
expect_eq "new record" "$(ans 0)" '{"stored":1,"duplicates":0'
expect_eq "stored before" "$(ans 1)" '{"stored":0,"duplicates":1'
expect_eq "a record twice: once stored, once a duplicate" \
    "$( (ans 2; echo; ans 3; echo) | sort | tr '\n' ' ')" \
    '{"stored":0,"duplicates":1 {"stored":1,"duplicates":0 '
expect_eq "one stored before, one new" "$(ans 4)" \
    '{"stored":1,"duplicates":1'
expect_eq "new record after them" "$(ans 5)" '{"stored":1,"duplicates":0'
ids=$(cut -c8-43 "$SM_TMP/dgrp" | sed "s/.*/'&'/" | paste -sd, -)
expect_eq "each new record once" "$(pq "SELECT COUNT(*) FROM system_metrics
    WHERE sample_id IN ($ids)")" 4

echo "the same in a shared transaction of more rows than an INSERT names"
echo "(64): each request its own count, from the ids stored before it"
gen_records 151 f9 >"$SM_TMP/big"
sed -n 1,60p "$SM_TMP/big" >"$SM_TMP/pre"
post application/x-ndjson "@$SM_TMP/pre"
expect_answer 200 '{"stored":60,"duplicates":0,"api":"nodejs_api1"}'
sed -n 151p "$SM_TMP/big" >"$SM_TMP/b0"
cp "$SM_TMP/pre" "$SM_TMP/b1"
sed -n 31,90p "$SM_TMP/big" >"$SM_TMP/b2"
sed -n 91,150p "$SM_TMP/big" >"$SM_TMP/b3"
cp "$SM_TMP/b3" "$SM_TMP/b4"
r0=$(pq "SHOW GLOBAL STATUS LIKE 'Com_rollback'" | cut -f2)
together b 0 1 2 3 4
ans() { sed 's/,"api".*//' "$SM_TMP/bans$1"; }
expect_eq "new record alone" "$(ans 0)" '{"stored":1,"duplicates":0'
expect_eq "all stored before" "$(ans 1)" '{"stored":0,"duplicates":60'
expect_eq "half stored before" "$(ans 2)" '{"stored":30,"duplicates":30'
expect_eq "60 records twice: once stored, once duplicates" \
    "$( (ans 3; echo; ans 4; echo) | sort | tr '\n' ' ')" \
    '{"stored":0,"duplicates":60 {"stored":60,"duplicates":0 '
# the shared transaction was rolled back and redone knowing the ids
[ "$(pq "SHOW GLOBAL STATUS LIKE 'Com_rollback'" | cut -f2)" -gt "$r0" ] ||
    fail "the shared transaction was not redone"
expect_eq "each record once" "$(pq "SELECT COUNT(*), COUNT(DISTINCT
    sample_id) FROM system_metrics WHERE sample_id LIKE '%f9-0000-7%'" |
    tr '\t' ' ')" "151 151"
stop_receiver

echo "a receiver started with its database down serves 503, then 200"
pdb stop
start_receiver late
CODE=$(health)
expect_answer 503 '{"status":"database unavailable","api":"sm-store"}'
grep -q "sm-store: database sm@.*: connect: .*; reconnecting, answering 503 meanwhile" "$SM_TMP/late.err" ||
    fail "no word of the database: $(cat "$SM_TMP/late.err")"
pdb start >/dev/null
wait_for 100 health_is 200
stop_receiver
echo "ok"
