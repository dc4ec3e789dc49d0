#!/bin/sh
# sm-post and sm-split fail fast, with the fix in the message (sm-post(1),
# Answers and retries; Output): a host name that does not resolve exits 2
# within 2 s, reading nothing; a closed port is reported within 2 s and
# the stated --max-time bounds the whole outage (3 records do not take 3
# times it); a 404 names POST /metrics; on a terminal (script(1)) a status
# line and the summary instead of acknowledgements, --acks keeps them, and
# in a pipe they are as ever.  About 10 s.
. "$(dirname "$0")/post-lib.inc"

gen 3 >"$SM_TMP/three"

echo "a host name that does not resolve: exit 2 within 2 s, input unread"
# stdin that never ends (a writer held open): only the check can end it
mkfifo "$SM_TMP/never"
exec 4<>"$SM_TMP/never"
for cmd in "$POST" "$SPLIT"; do
	name=$(basename "$cmd")
	set -- http://no-such-host.invalid:8081/metrics
	[ "$name" = sm-post ] || set -- http://127.0.0.1:1/metrics "$@"
	expect_status 2 timeout 2 "$cmd" "$@" <&4
	expect_err "$name: http://no-such-host.invalid:8081/metrics: the host name \"no-such-host.invalid\" does not resolve ("
	expect_err "): check the URL"
	expect_eq "$name: lines" "$(wc -l <"$SM_TMP/err")" 1
done
exec 4>&-

echo "a closed port: said within 2 s; --max-time bounds the outage"
mkfifo "$SM_TMP/in"
$POST --max-time 3 --spool "$SM_TMP/spool" http://127.0.0.1:1/metrics \
    <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/closed.err" &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 3>"$SM_TMP/in"
cat "$SM_TMP/three" >&3
said 20 "$SM_TMP/closed.err" "^sm-post: http://127.0.0.1:1/metrics: no answer: .*(Connection refused); retrying for up to 3.0 s (--max-time), then giving up$"
# all three given up soon after the 3 s of the first failure (about
# 3 s here; 6 s allowed for a loaded machine), though each alone could
# have been tried for 3 s and three outages in a row would take 9
said 60 "$SM_TMP/closed.err" "^sm-post: request 3 (1 record, line 3): not delivered, spooled to "
exec 3>&-
set +e
wait $ppid
st=$?
set -e
expect_eq "exit status" "$st" 3
expect_eq "spooled" "$(lines "$SM_TMP/spool")" 3
expect_eq "outage reports" "$(grep -c "no answer: .*retrying" \
    "$SM_TMP/closed.err")" 1
grep -q "^sm-post: sent 0/3 | retried [0-9]* | spooled 3$" \
    "$SM_TMP/closed.err" || fail "summary: $(cat "$SM_TMP/closed.err")"

recv a route-a

echo "a 404: the receiver's path named, once"
expect_status 1 $POST "http://127.0.0.1:$a_port/nope" <"$SM_TMP/three"
expect_err "sm-post: http://127.0.0.1:$a_port/nope: HTTP 404: no such path on the receiver; sm-store --listen takes records at POST /metrics"
expect_eq "hints" "$(grep -c "takes records at POST /metrics" \
    "$SM_TMP/err")" 1
expect_eq "rejected" "$(grep -c "rejected by .*(HTTP 404)" "$SM_TMP/err")" 3

echo "in a pipe: an acknowledgement a request, as ever, and the summary"
expect_status 0 $POST "$a_url" <"$SM_TMP/three"
expect_eq "acks" "$(grep -c '^{"request":[0-9],"records":1,"status":200,' \
    "$SM_TMP/out")" 3
expect_eq "stderr" "$(cat "$SM_TMP/err")" "sm-post: sent 3/3 | retried 0"

echo "on a terminal: a status line, no acknowledgements; --acks keeps them"
# script(1) gives sm-post a terminal for stdout and stderr alike
script -qec "$POST $a_url <$SM_TMP/three" /dev/null >"$SM_TMP/tty" ||
    fail "script: $(cat "$SM_TMP/tty")"
! grep -q '{"request"' "$SM_TMP/tty" || fail "acks: $(cat -v "$SM_TMP/tty")"
grep -q "$(printf '\r\033\\[K')sent [0-3]/[0-3] | retried 0$(printf '\r')" \
    "$SM_TMP/tty" || fail "no status line: $(cat -v "$SM_TMP/tty")"
grep -q "sm-post: sent 3/3 | retried 0" "$SM_TMP/tty" ||
    fail "no summary: $(cat -v "$SM_TMP/tty")"
script -qec "$POST --acks $a_url <$SM_TMP/three" /dev/null >"$SM_TMP/tty"
expect_eq "acks on a terminal with --acks" \
    "$(grep -c '{"request":[0-9],"records":1,"status":200,' "$SM_TMP/tty")" 3
! grep -q "$(printf '\033\\[K')sent" "$SM_TMP/tty" ||
    fail "a status line with --acks: $(cat -v "$SM_TMP/tty")"
expect_eq "rows" "$(rows)" 9
echo "ok"
