#!/bin/sh
# sm-store --listen over real HTTP (loopback) into the real MariaDB: the
# contract of sm-store(1), "HTTP receiver" -- object, array, NDJSON; 400
# with nothing stored; token; body limit; routes; concurrent requests; SIGTERM.
. "$(dirname "$0")/store-lib.sh"

SEED="$FIX/seed-records.ndjson"
A='{"id":"01a2187e-8992-706a-a64f-7969378a9ec5","ts":"2026-11-26T15:34:35.666Z","host":"node-a","collector":"procfs","cpu_usage":52.08,"cpu_free":47.92,"ram_total":24105,"ram_free":21939,"ram_available":22389,"ram_used":1716,"ram_percentage":7.12,"total_processes":89,"running_processes":1,"sleeping_processes":88,"stopped_processes":0,"zombie_processes":0,"threads":124}'
B='{"id":"01a2187e-8a19-74b9-84df-777ca7482104","ts":"2026-11-26T15:34:35.801Z","host":"node-b","collector":"kmod","cpu_usage":0.5,"cpu_free":99.5,"ram_total":3913,"ram_free":100,"ram_available":200,"ram_used":3713,"ram_percentage":94.89,"total_processes":5,"running_processes":2,"sleeping_processes":1,"stopped_processes":1,"zombie_processes":1}'
C='{"id":"01a2187e-8ae1-740f-8a7f-342c90c7f664","ts":"2026-11-26T15:34:36.001Z","host":"node-a","cpu_usage":51.28,"ram_total":24105,"ram_free":21939,"ram_used":1716,"total_processes":89,"running_processes":2,"sleeping_processes":87,"stopped_processes":0,"zombie_processes":0}'
NOTS='{"total_ram":3913,"ram_libre":2413,"uso_ram":1500,"porcentaje_cpu_uso":2,"procesos_corriendo":1,"total_procesos":113,"procesos_durmiendo":112,"procesos_zombie":0,"procesos_parados":0}'

start_receiver recv --source python_api

echo "GET /health: the database answers"
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/health")
expect_answer 200 '{"status":"ok","api":"python_api"}'

echo "one object, in the replaced system's dialect"
post application/json "$(sed -n 1p "$SEED")"
expect_answer 200 '{"stored":1,"duplicates":0,"api":"python_api"}'
expect_eq rows "$(rows)" 1

echo "an array of canonical records"
post application/json "[$A,$B]"
expect_answer 200 '{"stored":2,"duplicates":0,"api":"python_api"}'
expect_eq rows "$(rows)" 3
expect_eq "stored values" "$(q "SELECT host, collector, sampled_at,
    cpu_usage, IFNULL(threads, '-'), data_source
    FROM system_metrics WHERE sample_id =
    '01a2187e-8992-706a-a64f-7969378a9ec5'" | tr '\t' ' ')" \
    "node-a procfs 2026-11-26 15:34:35.666 52.08 124 python_api"

echo "NDJSON, the seed fixture's first 50 lines"
sed -n 2,51p "$SEED" >"$SM_TMP/fifty"
post application/x-ndjson "@$SM_TMP/fifty"
expect_answer 200 '{"stored":50,"duplicates":0,"api":"python_api"}'
expect_eq rows "$(rows)" 53

echo "NDJSON without a Content-Type of its own (curl -d) is recognised"
sed -n 52,54p "$SEED" >"$SM_TMP/three"
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' --data-binary \
    "@$SM_TMP/three" "$RURL/metrics")
expect_answer 200 '{"stored":3,"duplicates":0,"api":"python_api"}'

echo "a replay is counted as duplicates, per request"
post application/json "[$A,$B]"
expect_answer 200 '{"stored":0,"duplicates":2,"api":"python_api"}'
post application/json "[$B,$C]"
expect_answer 200 '{"stored":1,"duplicates":1,"api":"python_api"}'
expect_eq rows "$(rows)" 57

echo "any invalid record: 400 naming each, and nothing stored"
before=$(rows)
D=$(printf '%s' "$C" | sed 's/01a2187e-8ae1/01a2187e-9999/;
    s/"cpu_usage":51.28/"cpu_usage":101/')
post application/json "[$(sed -n 60p "$SEED"),$NOTS,$(sed -n 61p "$SEED"),$D]"
expect_answer 400 '{"error":"invalid records","api":"python_api","errors":[{"index":1,"reason":"ts: missing"},{"index":3,"reason":"cpu_usage: 101 is not a percentage in [0, 100]"}]}'
printf '%s\n{"x":\n%s\n' "$(sed -n 62p "$SEED")" "$(sed -n 63p "$SEED")" \
    >"$SM_TMP/bad.ndjson"
post application/x-ndjson "@$SM_TMP/bad.ndjson"
expect_answer 400 '{"error":"invalid records","api":"python_api","errors":[{"index":1,"reason":"invalid JSON: truncated at column 6"}]}'
post application/json '[{"a":1},'
expect_answer 400 '{"error":"invalid records","api":"python_api","errors":[{"index":-1,"reason":"invalid JSON: truncated"}]}'
post application/json "$(sed -n 62,63p "$SEED")"
[ "$CODE" = 400 ] || fail "NDJSON sent as application/json: $CODE"
grep -q '"index":-1,"reason":"invalid JSON at offset [0-9]*: text after the value' \
    "$SM_TMP/body" || fail "answer: $(cat "$SM_TMP/body")"
post application/json ''
expect_answer 400 '{"error":"invalid records","api":"python_api","errors":[{"index":-1,"reason":"empty body"}]}'
post application/json '42'
expect_answer 400 '{"error":"invalid records","api":"python_api","errors":[{"index":-1,"reason":"want a JSON object or an array of objects"}]}'
expect_eq "rows after bad requests" "$(rows)" "$before"
post application/json '[]'
expect_answer 200 '{"stored":0,"duplicates":0,"api":"python_api"}'

echo "other paths and methods"
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/metricsx")
expect_answer 404 '{"error":"not found"}'
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' -X DELETE \
    -D "$SM_TMP/head" "$RURL/metrics")
expect_answer 405 '{"error":"method not allowed"}'
grep -qi '^Allow: GET, HEAD, POST' "$SM_TMP/head" ||
    fail "405 on /metrics without Allow: GET, HEAD, POST"
# GET /metrics: the receiver's counters (tests/it/metrics-prometheus.sh
# scrapes them with Prometheus)
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/metrics")
[ "$CODE" = 200 ] || fail "GET /metrics: $CODE $(cat "$SM_TMP/body")"
grep -q '^sm_store_database_up 1$' "$SM_TMP/body" ||
    fail "GET /metrics: $(cat "$SM_TMP/body")"
curl -s -D "$SM_TMP/head" -o /dev/null -X POST "$RURL/health"
grep -qi '^Allow: GET, HEAD' "$SM_TMP/head" || fail "405 without Allow"

# concurrent API: the seed's last 100 lines in 24 requests at once; each
# is answered 200 with its own count (API in the answer) and stored once.
# (The seed's records carry no id: the receiver's source is part of the
# one it derives, so another source stores them again.)
concurrent() {
	before=$(rows)
	i=0
	pids=
	while [ $i -lt 24 ]; do
		awk -v i=$i 'NR > 100 && NR % 24 == i' "$SEED" >"$SM_TMP/part$i"
		curl -s -o "$SM_TMP/ans$i" -w '%{http_code}\n' -X POST \
		    -H 'Content-Type: application/x-ndjson' \
		    --data-binary "@$SM_TMP/part$i" "$RURL/metrics" \
		    >"$SM_TMP/code$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	wait $pids
	i=0
	total=0
	while [ $i -lt 24 ]; do
		n=$(wc -l <"$SM_TMP/part$i")
		expect_eq "request $i status" "$(cat "$SM_TMP/code$i")" 200
		expect_eq "request $i answer" "$(cat "$SM_TMP/ans$i")" \
		    "{\"stored\":$n,\"duplicates\":0,\"api\":\"$1\"}"
		total=$((total + n))
		i=$((i + 1))
	done
	expect_eq "rows after concurrent requests" "$(rows)" \
	    $((before + total))
}

echo "concurrent requests share transactions; each is answered after COMMIT"
concurrent python_api
stop_receiver
[ ! -e "$SM_TMP/recv.port" ] || fail "port file left behind"

echo "MHD's own threads (--threads 2, over 256 connections allowed): the same"
start_receiver pool --source pool_api --threads 2 --max-connections 300
concurrent pool_api
stop_receiver

echo "body limit: 413, whether announced or chunked"
start_receiver small --max-body 1000
before=$(rows)
sed -n 1,5p "$SEED" >"$SM_TMP/big"
post application/x-ndjson "@$SM_TMP/big"
[ "$CODE" = 413 ] || fail "Content-Length over the limit: $CODE"
post application/x-ndjson "@$SM_TMP/big" -H 'Transfer-Encoding: chunked'
[ "$CODE" = 413 ] || fail "chunked over the limit: $CODE"
expect_eq "rows after 413" "$(rows)" "$before"
sed -n 150,152p "$SEED" >"$SM_TMP/small"
post application/x-ndjson "@$SM_TMP/small" -H 'Transfer-Encoding: chunked'
expect_answer 200 '{"stored":3,"duplicates":0,"api":"sm-store"}'
stop_receiver

echo "--max-connections 1: a second client is refused (503) until --timeout"
echo "frees the slot from a silent one"
start_receiver lim --timeout 3 --max-connections 1
# an upload whose body never comes holds the one connection allowed
mkfifo "$SM_TMP/never"
curl -s -o /dev/null -X POST -H 'Content-Type: application/x-ndjson' \
    -T - "$RURL/metrics" <"$SM_TMP/never" 2>/dev/null &
slow=$!
exec 4>"$SM_TMP/never"
sleep 0.5
set +e
curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$RURL/health" \
    >"$SM_TMP/first.code"
first=$?
set -e
expect_eq "a second client while the slot is taken (curl status)" \
    "$first:$(cat "$SM_TMP/first.code")" "0:503"
# served once the receiver hangs up on the silent upload, still sending
wait_for 150 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' \
    '$RURL/health') = 200 ]"
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/health")
expect_answer 200 '{"status":"ok","api":"sm-store"}'
kill -0 $slow 2>/dev/null || fail "the slot was freed by the client, not --timeout"
kill $slow 2>/dev/null || true
wait $slow || true
exec 4>&-
stop_receiver

echo "bearer token: 401 and nothing stored without the right one"
printf 's3cret-token\n' >"$SM_TMP/token"
chmod 600 "$SM_TMP/token"
start_receiver tok --token-file "$SM_TMP/token"
before=$(rows)
sed -n 160p "$SEED" >"$SM_TMP/one"
post application/json "@$SM_TMP/one"
expect_answer 401 '{"error":"unauthorized"}'
post application/json "@$SM_TMP/one" -H 'Authorization: Bearer s3cret-tokeN'
expect_answer 401 '{"error":"unauthorized"}'
post application/json "@$SM_TMP/one" -H 'Authorization: Bearer s3cret-toke'
expect_answer 401 '{"error":"unauthorized"}'
post application/json "@$SM_TMP/one" -H 'Authorization: Basic s3cret-token'
expect_answer 401 '{"error":"unauthorized"}'
expect_eq "rows after 401" "$(rows)" "$before"
post application/json "@$SM_TMP/one" -H 'Authorization: Bearer s3cret-token'
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
post application/json "@$SM_TMP/one" -H 'Authorization: bearer s3cret-token'
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' "$RURL/health")
expect_answer 200 '{"status":"ok","api":"sm-store"}'
grep -q "s3cret" "$SM_TMP/tok.err" && fail "token in the log"
stop_receiver

echo "SIGTERM with requests in flight: each either answered 200 and stored,"
echo "or refused before anything was sent"
start_receiver term
before=$(rows)
i=0
pids=
while [ $i -lt 16 ]; do
	awk -v i=$i 'NR % 16 == i' "$SEED" >"$SM_TMP/t$i"
	( set +e; curl -s -o "$SM_TMP/tans$i" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/x-ndjson' \
	    --data-binary "@$SM_TMP/t$i" "$RURL/metrics" >"$SM_TMP/tcode$i";
	    echo $? >"$SM_TMP/trc$i" ) &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 0.05
kill -TERM "$RPID"
wait "$RPID" || fail "receiver exited $? on SIGTERM"
# shellcheck disable=SC2086
wait $pids
i=0
answered=0
unanswered=0
while [ $i -lt 16 ]; do
	n=$(wc -l <"$SM_TMP/t$i")
	case "$(cat "$SM_TMP/trc$i"):$(cat "$SM_TMP/tcode$i")" in
	0:200)	expect_eq "request $i" "$(cat "$SM_TMP/tans$i")" \
		    "{\"stored\":$n,\"duplicates\":0,\"api\":\"sm-store\"}"
		answered=$((answered + n)) ;;
	0:503)	;;	# "shutting down": not stored, the sender retries
	7:000)	;;	# connection refused: nothing sent
	52:000|56:000)
		# closed unanswered (an empty reply, or a reset while
		# reading it): maybe stored, the sender retries
		unanswered=$((unanswered + n)) ;;
	*)	fail "request $i: curl $(cat "$SM_TMP/trc$i"), status" \
		    "$(cat "$SM_TMP/tcode$i")" ;;
	esac
	i=$((i + 1))
done
# Every 200 is stored; only a request closed unanswered may be stored
# without one (its sample ids make the sender's retry harmless).
after=$(rows)
[ "$after" -ge $((before + answered)) ] &&
    [ "$after" -le $((before + answered + unanswered)) ] ||
	fail "rows after SIGTERM: $after, want $((before + answered))" \
	    "to $((before + answered + unanswered))"

echo "ok ($answered records answered before the stop)"
