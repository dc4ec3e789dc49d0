#!/bin/sh
# sm-post to one real sm-store receiver: acknowledgements, batches as JSON
# arrays and as NDJSON, ids kept or added, bearer tokens, and SIGTERM
# finishing what is in flight.
. "$(dirname "$0")/post-lib.inc"

recv a route-a

echo "the 200 seed records, one a request, 64 in flight"
expect_status 0 $POST --parallel 64 "$a_url" <"$SEED"
expect_eq "rows" "$(rows)" 200
expect_eq "ids" "$(q 'SELECT COUNT(DISTINCT sample_id) FROM system_metrics')" 200
expect_eq "acks" "$(lines "$SM_TMP/out")" 200
# one line a request, numbered 1 to 200, each stored once
expect_eq "request numbers" "$(sed -E 's/^\{"request":([0-9]+),.*/\1/' \
    "$SM_TMP/out" | sort -n | uniq | awk 'NR == $1 { n++ } END { print n }')" 200
expect_eq "well-formed acks" "$(grep -cE '^\{"request":[0-9]+,"records":1,"status":200,"latency_ms":[0-9]+\.[0-9],"endpoint":"'"$a_url"'","api":"route-a","attempts":1,"stored":1,"duplicates":0\}$' \
    "$SM_TMP/out")" 200
# stderr: the summary line alone
expect_eq "stderr" "$(cat "$SM_TMP/err")" "sm-post: sent 200/200 | retried 0"

echo "--batch 64 as JSON arrays, then --ndjson: the same 200 rows more"
q 'DELETE FROM system_metrics'
expect_status 0 $POST --batch 64 --parallel 2 "$a_url" <"$SEED"
# two in flight: acknowledgements come in the order requests finish
expect_eq "acks" "$(sed -E 's/.*"records":([0-9]+),.*/\1/' "$SM_TMP/out" |
    sort -n | tr '\n' ' ')" "8 64 64 64 "
expect_eq "requests" "$(sed -E 's/^\{"request":([0-9]+),.*/\1/' \
    "$SM_TMP/out" | sort -n | tr '\n' ' ')" "1 2 3 4 "
expect_status 0 $POST --batch 64 --ndjson "$a_url" <"$SEED"
expect_eq "rows" "$(rows)" 400

echo "records with ids keep them; the stream can be replayed"
q 'SELECT sample_id FROM system_metrics ORDER BY id LIMIT 5' |
    sed 's/.*/{"id":"&","total_ram":3913,"ram_libre":2413,"uso_ram":1500,"porcentaje_cpu_uso":2,"procesos_corriendo":1,"total_procesos":113,"procesos_durmiendo":112,"procesos_zombie":0,"procesos_parados":0,"hora":"2025-06-27 16:47:23"}/' \
    >"$SM_TMP/known"
expect_status 0 $POST "$a_url" <"$SM_TMP/known"
expect_eq "duplicates" "$(grep -c '"stored":0,"duplicates":1}$' "$SM_TMP/out")" 5
expect_eq "rows" "$(rows)" 400

echo "a receiver with a token: the right one delivers, a wrong one is refused"
# white space around it: sender and receiver read the file alike (lib/token)
printf '  s3cret-token \t\n' >"$SM_TMP/token"
chmod 600 "$SM_TMP/token"
printf 'not-it\n' >"$SM_TMP/wrong"
kill_recv a
"$STORE" --listen 127.0.0.1:0 --port-file "$SM_TMP/t.port" --source \
    route-t --token-file "$SM_TMP/token" 2>"$SM_TMP/t.err" 3>&- &
tpid=$!
at_exit "kill $tpid 2>/dev/null || true"
wait_for 100 test -s "$SM_TMP/t.port"
turl=http://127.0.0.1:$(cat "$SM_TMP/t.port")/metrics
q 'DELETE FROM system_metrics'
sed -n 1,10p "$SEED" >"$SM_TMP/ten"
expect_status 0 $POST --token-file "$SM_TMP/token" -H "X-Trace: it" \
    "$turl" <"$SM_TMP/ten"
expect_eq "rows" "$(rows)" 10
expect_status 1 $POST --token-file "$SM_TMP/wrong" --reject "$SM_TMP/rej" \
    "$turl" <"$SM_TMP/ten"
expect_err "sm-post: line 1: rejected by $turl (HTTP 401): unauthorized"
expect_eq "refused" "$(grep -c '"status":401,.*"reason":"unauthorized"' \
    "$SM_TMP/rej")" 10
expect_eq "rows" "$(rows)" 10
kill $tpid
wait $tpid || true

echo "SIGTERM: stop reading, finish what is in flight, exit"
recv a route-a
mkfifo "$SM_TMP/in"
$POST --parallel 4 --spool "$SM_TMP/spool" "$a_url" <"$SM_TMP/in" \
    >"$SM_TMP/acks" 2>"$SM_TMP/post.err" &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 3>"$SM_TMP/in"
sed -n 11,30p "$SEED" >&3
wait_lines "$SM_TMP/acks" 20
kill -TERM $ppid
set +e
wait $ppid
st=$?
set -e
exec 3>&-
expect_eq "exit status" "$st" 0
expect_eq "rows" "$(rows)" 30
[ ! -s "$SM_TMP/spool" ] || fail "spooled: $(cat "$SM_TMP/spool")"

echo "SIGTERM with the receiver gone: what waits to be retried is spooled"
mkfifo "$SM_TMP/in2"
$POST --spool "$SM_TMP/spool" "$a_url" <"$SM_TMP/in2" \
    >"$SM_TMP/acks2" 2>"$SM_TMP/post2.err" &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 3>"$SM_TMP/in2"
kill_recv a
sed -n 31,33p "$SEED" >&3
# the first record fails and waits to be retried; the others queue
wait_for 300 grep -q "^sm-post: $a_url: no answer: .*; retrying for up to 60.0 s (--max-time), then giving up$" \
    "$SM_TMP/post2.err"
kill -TERM $ppid
set +e
wait $ppid
st=$?
set -e
exec 3>&-
# nothing reached a receiver in this run: 3
expect_eq "exit status" "$st" 3
expect_eq "spooled" "$(lines "$SM_TMP/spool")" 3
sed -E 's/^\{"id":"[^"]+",/{/' "$SM_TMP/spool" >"$SM_TMP/spooled"
sed -n 31,33p "$SEED" | diff -u - "$SM_TMP/spooled" ||
    fail "the spool holds other records"
grep -q "^sm-post: request 1 (1 record, line 1): not delivered, spooled to $SM_TMP/spool: interrupted while waiting to retry: no answer: " \
    "$SM_TMP/post2.err" || fail "report: $(cat "$SM_TMP/post2.err")"

echo "--strict: deliver what came before the first bad line, then stop"
recv a route-a
q 'DELETE FROM system_metrics'
{ sed -n 1,2p "$SEED"; echo '{"total_ram":'; sed -n 3,4p "$SEED"; } \
    >"$SM_TMP/strict"
expect_status 1 $POST --strict "$a_url" <"$SM_TMP/strict"
expect_err "sm-post: line 3: "
expect_err "sm-post: --strict: stopped reading after line 3"
expect_eq "rows" "$(rows)" 2
echo "... and without it, every good line around the bad one"
expect_status 1 $POST "$a_url" <"$SM_TMP/strict"
expect_eq "rows" "$(rows)" 6

echo "--max-line: a longer line is reported and skipped, never cut"
q 'DELETE FROM system_metrics'
len=$(sed -n 1p "$SEED" | wc -c)
expect_status 1 $POST --max-line $((len - 2)) "$a_url" <"$SEED"
expect_err "sm-post: line 1: longer than $((len - 2)) bytes; skipped"
skipped=$(grep -c "longer than" "$SM_TMP/err")
expect_eq "delivered and skipped" "$(( $(rows) + skipped ))" 200
kill_recv a
