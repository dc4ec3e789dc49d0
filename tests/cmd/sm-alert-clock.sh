#!/bin/sh
# sm-alert live while the wall clock steps an hour forward (libfaketime,
# the monotonic clock left alone): no stale alert fires for it and no
# `for` duration is cut short by it; the events' ts still follow the wall.
. "$(dirname "$0")/../lib.sh"

A="$SM_BIN/sm-alert"
FIX="$SM_TOP/tests/fixtures/alert-replay.ndjson"
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$lib" ] || fail "libfaketime missing (scripts/deps.sh installs it)"
# wait_for FILE PATTERN: until FILE holds a line matching PATTERN; 10 s
wait_for() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "no \"$2\" in $1: $(cat "$1")"
		sleep 0.05
	done
}
# RFC 3339 ts of the event matching PATTERN in seconds since the epoch
event_s() {
	date -d "$(grep "$1" "$SM_TMP/out" | sed -E 's/.*"ts":"([^"]+)".*/\1/')" +%s
}
# web1 (cpu 95) and db1 (cpu 99), zombie_processes set to $1
web1() { sed -n 1p "$FIX" | sed "s/\"zombie_processes\":0/\"zombie_processes\":$1/"; }
db1() { sed -n 2p "$FIX" | sed "s/\"zombie_processes\":0/\"zombie_processes\":$1/"; }

echo "+0" >"$SM_TMP/offset"
mkfifo "$SM_TMP/in"
# zombie_processes > 0 fires at once: it shows where sm-alert has got to
# (an ASan build wants its runtime first: libfaketime comes first here)
LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$SM_TMP/offset FAKETIME_NO_CACHE=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    $A --rule 'stale for 30m' --rule 'cpu_usage > 90 for 10m' \
    --rule 'zombie_processes > 0' <"$SM_TMP/in" >"$SM_TMP/out" \
    2>"$SM_TMP/err" &
pid=$!
exec 3>"$SM_TMP/in"
web1 1 >&3
db1 1 >&3
wait_for "$SM_TMP/out" '"host":"db1","state":"firing"'
echo "the wall clock steps an hour forward"
echo "+1h" >"$SM_TMP/offset"
web1 0 >&3
wait_for "$SM_TMP/out" '"host":"web1","state":"resolved"'
# a record ticks the engine first: db1's stale alert, were it due by the
# wall clock, and its cpu_usage rule, were an hour counted, would fire
db1 1 >&3
exec 3>&-
wait $pid || fail "sm-alert exited $?: $(cat "$SM_TMP/err")"
[ "$(wc -l <"$SM_TMP/out")" -eq 3 ] ||
    fail "events beyond the three zombie ones: $(cat "$SM_TMP/out")"
grep -c '"rule":"zombie_processes > 0"' "$SM_TMP/out" | grep -qx 3 ||
    fail "events: $(cat "$SM_TMP/out")"
expect_err "4 records, 0 rejected, 2 hosts, 3 events"
echo "the events' ts follow the wall clock"
first=$(event_s '"host":"web1","state":"firing"')
back=$(event_s '"host":"web1","state":"resolved"')
[ $((back - first)) -ge 3600 ] && [ $((back - first)) -lt 3660 ] ||
    fail "ts $first then $back: $(cat "$SM_TMP/out")"
