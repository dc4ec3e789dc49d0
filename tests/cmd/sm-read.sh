#!/bin/sh
# sm-read against fixture /proc trees: output, options, failures.
. "$(dirname "$0")/../lib.sh"

R="$SM_BIN/sm-read --cpu-window 0.01 --host fixture"
FIX=tests/fixtures
EXP=tests/cmd/expected

echo "one record from a fixture tree"
$R --proc-root $FIX/proc-basic >"$SM_TMP/one"
normalise <"$SM_TMP/one" | diff -u $EXP/sm-read-basic.ndjson -

echo "the seed dialect"
$R --proc-root $FIX/proc-basic --dialect seed | normalise |
    diff -u $EXP/sm-read-seed.ndjson -

echo "ts is RFC 3339 UTC with milliseconds; id is a UUIDv7"
grep -Eq '"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"' \
    "$SM_TMP/one" || fail "ts format: $(cat "$SM_TMP/one")"
grep -Eq '"id":"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"' \
    "$SM_TMP/one" || fail "id format: $(cat "$SM_TMP/one")"

echo "-n 3 -i 0.05: three records, ids increasing"
$R --proc-root $FIX/proc-basic -n 3 -i 0.05 >"$SM_TMP/three"
[ "$(wc -l <"$SM_TMP/three")" -eq 3 ] || fail "want 3 lines"
sed -E 's/.*"id":"([^"]+)".*/\1/' "$SM_TMP/three" >"$SM_TMP/ids"
sort -c "$SM_TMP/ids" || fail "ids not increasing"
[ "$(sort -u "$SM_TMP/ids" | wc -l)" -eq 3 ] || fail "ids repeat"

echo "a stream ends cleanly on SIGTERM and when the reader goes"
$R --proc-root $FIX/proc-basic -i 0.05 >"$SM_TMP/stream" &
pid=$!
# two records out (each is flushed as written) before the signal
n=0
until [ "$(wc -l <"$SM_TMP/stream")" -ge 2 ]; do
	n=$((n + 1))
	[ "$n" -lt 100 ] || fail "no two records in 10 s: $(cat "$SM_TMP/stream")"
	sleep 0.1
done
kill -TERM $pid
wait $pid || fail "SIGTERM: exit $?"
[ "$(wc -l <"$SM_TMP/stream")" -ge 2 ] || fail "stream too short"
status=$( ( $R --proc-root $FIX/proc-basic -i 0 -n 0; echo $? >"$SM_TMP/st" ) |
    head -n 2 >/dev/null; cat "$SM_TMP/st")
[ "$status" -eq 0 ] || fail "EPIPE: exit $status, want 0"

echo "a full disk is an error"
if [ -w /dev/full ]; then
	set +e
	$R --proc-root $FIX/proc-basic >/dev/full 2>"$SM_TMP/err"
	st=$?
	set -e
	[ "$st" -eq 1 ] || fail "/dev/full: exit $st, want 1"
	expect_err "sm-read: stdout: No space left on device"
fi

echo "malformed files name the file and line"
expect_status 1 $R --proc-root $FIX/proc-bad-stat
expect_err "sm-read: $FIX/proc-bad-stat/stat:1: want 8 or more counters"
expect_status 1 $R --proc-root $FIX/proc-bad-meminfo
expect_err "sm-read: $FIX/proc-bad-meminfo/meminfo:2: MemFree: want a number of kB"
expect_status 1 $R --proc-root $FIX/proc-bad-pidstat
expect_err "$FIX/proc-bad-pidstat/46/stat:1: no state letter"
[ ! -s "$SM_TMP/out" ] || fail "output despite the error"

echo "the kmod backend without the module"
expect_status 3 $R --proc-root $FIX/proc-basic --backend kmod
expect_err "sm-read: kmod backend: $FIX/proc-basic/sm: No such file or directory (is the sm_metrics module loaded?)"

echo "usage errors exit 2 with the usage line"
for args in "-i -1" "-n x" "-n -2" "--backend sysfs" "--dialect es" \
    "--cpu-window 0" "--bogus" "extra" "-i 1s"; do
	# shellcheck disable=SC2086
	expect_status 2 $R --proc-root $FIX/proc-basic $args
	expect_err "usage: sm-read"
done
expect_status 2 $SM_BIN/sm-read --host "$(printf 'a\tb')"
expect_err "sm-read: --host: want 1 to 255 bytes, no control characters"
expect_status 2 $R -i 86401
expect_err 'sm-read: -i: "86401": want seconds from 0 to 86400'
expect_status 2 $R --cpu-window 61
expect_err 'sm-read: --cpu-window: "61": want seconds from 0.01 to 60'
expect_status 2 $R -n -2
expect_err 'sm-read: -n: "-2": want a count, 0 for no end'
expect_status 0 $R --help
expect_status 0 $SM_BIN/sm-read --version
grep -q '^sm-read [0-9]' "$SM_TMP/out" || fail "--version: $(cat "$SM_TMP/out")"

echo "--state: a second run measures since the first"
cp -r $FIX/proc-basic "$SM_TMP/proc"
$R --proc-root "$SM_TMP/proc" --state "$SM_TMP/state" >/dev/null
grep -q '^sm-read-state 1 procfs 6f1c4e2a-0d57-4b57-9a2b-3f8f0e6c1a11 10132153 ' \
    "$SM_TMP/state" || fail "state file: $(cat "$SM_TMP/state")"
# 1000 ticks later, 250 of them busy (user), 750 idle
sed -i '1s/.*/cpu  10132403 290696 3084719 46829233 16683 0 25195 0 0 0/' \
    "$SM_TMP/proc/stat"
$R --proc-root "$SM_TMP/proc" --state "$SM_TMP/state" 2>"$SM_TMP/err" |
    grep -q '"cpu_usage":25,"cpu_free":75,' || fail "state not used"
[ ! -s "$SM_TMP/err" ] || fail "unexpected stderr: $(cat "$SM_TMP/err")"
# a state file from another boot is ignored, with a warning
sed -i 's/6f1c4e2a/00000000/' "$SM_TMP/state"
$R --proc-root "$SM_TMP/proc" --state "$SM_TMP/state" 2>"$SM_TMP/err" >/dev/null
expect_err "saved before the last boot; measuring over 0.01 s instead"
echo "ok"
