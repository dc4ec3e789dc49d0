#!/bin/sh
# sm-alert, the real binary: usage, --replay of a fixture to the expected
# events, stale alerts while stdin stays open, --exec, bad rules and records.
. "$(dirname "$0")/../lib.sh"

A="$SM_BIN/sm-alert"
FIX="$SM_TOP/tests/fixtures/alert-replay.ndjson"
EXPECTED="$SM_TOP/tests/cmd/expected/sm-alert-replay.ndjson"
ids() {
	sed -E 's/"id":"[0-9a-f-]{36}"/"id":"ID"/'
}
# wait_for FILE PATTERN [N]: until FILE holds N (1) lines matching
# PATTERN; 5 s at most
wait_for() {
	i=0
	until [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "no \"$2\" in $1: $(cat "$1")"
		sleep 0.05
	done
}

echo "--help and --version"
expect_status 0 $A --help
grep -q "^usage: sm-alert \[-h\] \[--exec command\]" "$SM_TMP/out" ||
    fail "--help: $(cat "$SM_TMP/out")"
expect_status 0 $A --version
grep -q "^sm-alert [0-9]" "$SM_TMP/out" || fail "--version"

echo "bad rules and options: exit 2 before reading, the rule named"
expect_status 2 $A </dev/null
expect_err "sm-alert: no rules: give --rule, --rules or --stale"
expect_status 2 $A --rule 'cpu > 90' </dev/null
expect_err "sm-alert: --rule \"cpu > 90\": unknown field \"cpu\" (want one of cpu_usage, cpu_free,"
expect_status 2 $A --rule 'cpu_usage > 90 for 5 minutes' </dev/null
expect_err "sm-alert: --rule \"cpu_usage > 90 for 5 minutes\": want a duration (30s, 5m, 1h, 500ms; up to 30 days, whole ms) at \"5 minutes\""
expect_status 2 $A --rule 'cpu_usage > 90 for 2s 1m' </dev/null
expect_err "sm-alert: --rule \"cpu_usage > 90 for 2s 1m\": unexpected \"1m\" after the duration"
echo "a field named whole, control bytes escaped in every message"
expect_status 2 $A --rule 'cpú_usage > 90' </dev/null
expect_err "sm-alert: --rule \"cpú_usage > 90\": unknown field \"cpú_usage\" (want one of"
expect_status 2 $A --rule "$(printf 'cpu\033[2J > 90')" </dev/null
expect_err 'sm-alert: --rule "cpu\x1b[2J > 90": unknown field "cpu\x1b[2J"'
expect_status 2 $A --rule "$(printf 'cpu_usage > \001')" </dev/null
expect_err 'want a number at "\x01"'
printf 'cpu_usage > 1\nram\002x > \177"\n' >"$SM_TMP/ctl.rules"
expect_status 2 $A --rules "$SM_TMP/ctl.rules" </dev/null
expect_err 'line 2: "ram\x02x > \x7f\"": unknown field "ram\x02x"'
! grep -q "$(printf '[\001-\010\013-\037\177]')" "$SM_TMP/err" ||
    fail "raw control bytes: $(od -c "$SM_TMP/err")"
echo "blanks between the parts are optional, as the man page says"
for r in 'cpu_usage>90 for 2 s' 'cpu_usage>90 for2s' 'cpu_usage>90for2s' \
    'cpu_usage > 90 for 2000 ms'; do
	expect_status 0 $A --rule "$r" </dev/null
	expect_err "0 records, 0 rejected, 0 hosts, 0 events"
	[ "$(wc -l <"$SM_TMP/err")" -eq 1 ] || fail "$r: $(cat "$SM_TMP/err")"
done
expect_status 2 $A --rule 'cpu_usage > 90 fortnight' </dev/null
expect_err 'want the end or "for DURATION" at "fortnight"'
echo "a threshold out of the field's range: a warning, the rule kept"
fix1() {
	head -n 1 "$FIX" | sed 's/"cpu_usage":[0-9.]*/"cpu_usage":95/'
}
fix1 | expect_status 0 $A --rule 'cpu_usage > 150' --rule 'cpu_usage > 50'
expect_err 'sm-alert: rule "cpu_usage > 150": never fires: cpu_usage is a percentage, 0 to 100'
expect_err "1 record, 0 rejected, 1 host, 1 event, 0 failed commands"
[ "$(wc -l <"$SM_TMP/out")" -eq 1 ] || fail "events: $(cat "$SM_TMP/out")"
expect_status 0 $A --rule 'zombie_processes >= 0' --rule 'ram_percentage <= 100' \
    --rule 'cpu_usage < 100' </dev/null
expect_err 'rule "zombie_processes >= 0": fires for every record: zombie_processes is never below 0'
expect_err 'rule "ram_percentage <= 100": fires for every record: ram_percentage is a percentage, 0 to 100'
! grep -q 'rule "cpu_usage < 100"' "$SM_TMP/err" || fail "cpu_usage < 100 warned"
expect_status 2 $A --rule 'cpu_usage =< 90' </dev/null
expect_err "want >, >=, <, <=, == or != at \"=< 90\""
expect_status 2 $A --rule 'cpu_usage > 90' --rule 'porcentaje_cpu_uso>90' </dev/null
expect_err "--rule \"porcentaje_cpu_uso>90\": given twice (as \"cpu_usage > 90\")"
expect_status 2 $A --stale 60 --rule 'stale for 2m' </dev/null
expect_err "a second stale rule (the first is \"stale for 1m\")"
printf 'cpu_usage > 90\n# fine\nram_percentage >= much\n' >"$SM_TMP/bad.rules"
expect_status 2 $A --rules "$SM_TMP/bad.rules" </dev/null
expect_err "sm-alert: --rules $SM_TMP/bad.rules: line 3: \"ram_percentage >= much\": want a number at \"much\""
expect_status 2 $A --rules "$SM_TMP/none.rules" </dev/null
expect_err "--rules $SM_TMP/none.rules: No such file or directory"
expect_status 2 $A --stale 0 </dev/null
expect_err "--stale: \"0\": want seconds from 0.001"
expect_status 2 $A --stale 60 --exec-max 2 </dev/null
expect_err "--exec-max and --exec-timeout need --exec"
expect_status 2 $A --stale 60 --exec true --exec-max 0 </dev/null
expect_err "--exec-max: \"0\": want 1 to 256 commands"
expect_status 2 $A --stale 60 --exec true --exec-timeout -1 </dev/null
expect_err 'sm-alert: --exec-timeout: "-1": want seconds from 0.01 to 86400'
expect_status 2 $A --stale 60 --max-line 0 </dev/null
expect_err 'sm-alert: --max-line: "0": want 1 to 268435456 bytes'
expect_status 2 $A --stale 2592001 </dev/null
expect_err 'sm-alert: --stale: "2592001": want seconds from 0.001 to 2592000 (30 days)'
expect_status 2 $A --stale 60 stray </dev/null
expect_err "sm-alert: unexpected argument \"stray\""
[ ! -s "$SM_TMP/out" ] || fail "output from a usage error"

echo "--replay: the expected events, the same every time"
for run in 1 2; do
	expect_status 1 $A --replay --rule 'cpu_usage > 90 for 30s' \
	    --rule 'procesos_zombie > 0' --stale 60 <"$FIX"
	ids <"$SM_TMP/out" >"$SM_TMP/events.$run"
	diff -u "$EXPECTED" "$SM_TMP/events.$run" ||
	    fail "--replay run $run differs from $EXPECTED"
done
# every id a UUIDv7, each different
[ "$(grep -cE '^\{"id":"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",' \
    "$SM_TMP/out")" -eq 8 ] || fail "ids: $(cat "$SM_TMP/out")"
[ "$(cut -d, -f1 "$SM_TMP/out" | sort -u | wc -l)" -eq 8 ] ||
    fail "ids repeat"
echo "bad record: reported with its line number and skipped"
expect_err "sm-alert: line 16: cpu_usage: must be a number, not a string; skipped"
expect_err "sm-alert: 30 records, 1 rejected, 3 hosts, 8 events"
echo "--rules file: the same events"
expect_status 1 $A --replay --rules "$SM_TOP/tests/fixtures/alert.rules" <"$FIX"
ids <"$SM_TMP/out" | diff -u "$EXPECTED" - || fail "--rules differs"
echo "a line too long, and good lines around it"
{ head -n 2 "$FIX"; printf '{"pad":"%0300d"}\n' 0; sed -n 3,4p "$FIX"; } |
    expect_status 1 $A --replay --max-line 299 --rule 'cpu_usage > 90'
expect_err "sm-alert: line 3: longer than 299 bytes; skipped"
expect_err "4 records, 1 rejected"
[ "$(wc -l <"$SM_TMP/out")" -eq 2 ] || fail "events: $(cat "$SM_TMP/out")"

echo "a full disk is an error"
set +e
$A --replay --rule 'cpu_usage > 90' <"$FIX" >/dev/full 2>"$SM_TMP/err"
st=$?
set -e
[ $st -eq 1 ] || fail "/dev/full: exit $st"
expect_err "sm-alert: stdout: No space left on device"

echo "live: a stale alert fires while stdin stays open, resolves on return"
mkfifo "$SM_TMP/in"
$A --stale 0.5 --rule 'zombie_processes > 0' <"$SM_TMP/in" \
    >"$SM_TMP/live" 2>"$SM_TMP/live.err" &
pid=$!
exec 3>"$SM_TMP/in"
head -n 2 "$FIX" >&3	# web1 and db1 at once
wait_for "$SM_TMP/live" '"host":"db1","state":"firing"'
wait_for "$SM_TMP/live" '"host":"web1","state":"firing"'
kill -0 $pid 2>/dev/null || fail "sm-alert ended with stdin open"
grep '"state":"firing"' "$SM_TMP/live" | grep -q '"rule":"stale for 500ms"' ||
    fail "rule text: $(cat "$SM_TMP/live")"
sed -n 2p "$FIX" >&3	# db1 is back
wait_for "$SM_TMP/live" '"host":"db1","state":"resolved"'
# db1 silent again: a second stale alert; web1 still has its one
wait_for "$SM_TMP/live" '"host":"db1","state":"firing"' 2
exec 3>&-
wait $pid || fail "live run exited $?: $(cat "$SM_TMP/live.err")"
[ "$(grep -c '"host":"web1","state":"firing"' "$SM_TMP/live")" -eq 1 ] ||
    fail "web1 fired more than once: $(cat "$SM_TMP/live")"
[ "$(grep -c '"host":"db1","state":"firing"' "$SM_TMP/live")" -eq 2 ] ||
    fail "db1: $(cat "$SM_TMP/live")"
[ "$(wc -l <"$SM_TMP/live")" -eq 4 ] || fail "events: $(cat "$SM_TMP/live")"

echo "live: SIGTERM ends it, status 0"
$A --stale 60 <"$SM_TMP/in" >"$SM_TMP/live" 2>"$SM_TMP/live.err" &
pid=$!
exec 3>"$SM_TMP/in"
head -n 1 "$FIX" >&3
sleep 0.2
kill -TERM $pid
wait $pid || fail "SIGTERM: exit $?: $(cat "$SM_TMP/live.err")"
exec 3>&-

echo "--exec: each event on the command's stdin, its fields in the environment"
expect_status 1 $A --replay --rules "$SM_TOP/tests/fixtures/alert.rules" \
    --exec-max 1 --exec "cat >>'$SM_TMP/got'; \
echo \"\$SM_ALERT_STATE \$SM_ALERT_HOST \$SM_ALERT_RULE\" >>'$SM_TMP/env'; \
echo noise" <"$FIX"
cmp "$SM_TMP/out" "$SM_TMP/got" || fail "--exec got: $(cat "$SM_TMP/got")"
grep -qx "firing web1 cpu_usage > 90 for 30s" "$SM_TMP/env" ||
    fail "environment: $(cat "$SM_TMP/env")"
grep -qx "resolved db1 stale for 1m" "$SM_TMP/env" ||
    fail "environment: $(cat "$SM_TMP/env")"
# the command's stdout goes to stderr: stdout stays events
ids <"$SM_TMP/out" | diff -u "$EXPECTED" - || fail "--exec changed stdout"
[ "$(grep -c '^noise$' "$SM_TMP/err")" -eq 8 ] || fail "command output lost"
expect_err "0 failed commands"

echo "--exec failing: reported with its status, the stream goes on"
expect_status 1 $A --replay --rules "$SM_TOP/tests/fixtures/alert.rules" \
    --exec 'exit 7' <"$FIX"
[ "$(grep -c 'sm-alert: --exec: event [0-9a-f-]\{36\}: command exited with status 7$' \
    "$SM_TMP/err")" -eq 8 ] || fail "failures: $(cat "$SM_TMP/err")"
ids <"$SM_TMP/out" | diff -u "$EXPECTED" - || fail "events lost"
expect_err "8 events, 8 failed commands"
echo "--exec overrunning: killed after --exec-timeout"
head -n 1 "$FIX" >"$SM_TMP/one"
start=$(date +%s)
expect_status 1 $A --replay --rule 'cpu_usage > 90' --exec 'sleep 30' \
    --exec-timeout 0.3 <"$SM_TMP/one"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "the timeout did not hold"
expect_err "sm-alert: --exec: event "
expect_err ": killed after 0.3 s (--exec-timeout)"
[ "$(wc -l <"$SM_TMP/out")" -eq 1 ] || fail "the event: $(cat "$SM_TMP/out")"

echo "--exec bounded in number: 3 slow commands, at most 2 at once"
for h in h2 h3; do
	sed "s/\"web1\"/\"$h\"/" "$SM_TMP/one"
done >>"$SM_TMP/one"
expect_status 0 $A --replay --rule 'cpu_usage > 90' --exec-max 2 \
    --exec "echo start >>'$SM_TMP/par'; sleep 0.3; echo end >>'$SM_TMP/par'" \
    <"$SM_TMP/one"
[ "$(wc -l <"$SM_TMP/out")" -eq 3 ] || fail "events: $(cat "$SM_TMP/out")"
[ "$(grep -c start "$SM_TMP/par")" -eq 3 ] || fail "runs: $(cat "$SM_TMP/par")"
# how many ran at once, at the most
most=$(awk '/start/ { n++ } /end/ { n-- } n > m { m = n } END { print m }' \
    "$SM_TMP/par")
[ "$most" -eq 2 ] || fail "$most at once: $(cat "$SM_TMP/par")"

echo "--exec stop: SIGTERM with the queue full of slow commands ends sm-alert"
echo "within 5 s, no command left, the events not run counted"
MARK="sm-alert-test-$$"
# processes of this test's commands: the shells, and the sleeps they run
left() {
	pgrep -f "sleep 37\.$$|$MARK" | grep -c . || true
}
awk '{ for (i = 0; i < 1100; i++) { l = $0; sub(/"web1"/,
    "\"h" i "\"", l); print l } }' "$SM_TMP/one" | head -n 1100 \
    >"$SM_TMP/many"
# start_slow: sm-alert in the background (apid), 1100 events for slow
# commands, 4 at once; back once they run (with their shells: 8 or more)
start_slow() {
	$A --replay --rule 'cpu_usage > 90' --exec-max 4 \
	    --exec "sleep 37.$$; : $MARK" <"$SM_TMP/many" >"$SM_TMP/out" \
	    2>"$SM_TMP/err" &
	apid=$!
	i=0
	until [ "$(left)" -ge 8 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "commands not started: $(left)"
		sleep 0.05
	done
}
start_slow
# the queue is full once 1024 + 4 events are out (stdout lags a buffer)
wait_for "$SM_TMP/out" '"firing"' 1000
kill -TERM $apid
i=0
while kill -0 $apid 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] ||
	    { kill -KILL $apid; fail "still running 5 s after SIGTERM"; }
	sleep 0.05
done
wait $apid && fail "exit 0 with events not run"
[ "$(left)" -eq 0 ] || fail "$(left) processes of commands left"
grep -q "sm-alert: --exec: stopping: [0-9]* events not run, 4 commands" \
    "$SM_TMP/err" || fail "no count of events not run: $(cat "$SM_TMP/err")"
grep -q "stopped with sm-alert" "$SM_TMP/err" ||
    fail "no word of the commands stopped: $(cat "$SM_TMP/err")"

echo "--exec and SIGKILL: the commands die with sm-alert"
start_slow
kill -KILL $apid
wait $apid 2>/dev/null || true
i=0
until [ "$(left)" -eq 0 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] ||
	    fail "$(left) processes of commands left after SIGKILL"
	sleep 0.05
done
