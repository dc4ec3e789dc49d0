#!/bin/sh
# sm-post --journal on a disk that fills up mid-run: the journal is on a
# 256 KiB tmpfs (mounted here: the test runs as root, as make check in CI
# does) far below --journal-max, and the receiver is stopped (SIGSTOP), so
# nothing is acknowledged: the journal fills the disk, sm-post says it
# stops reading its input ("No space left on device") and keeps what it
# has; once the receiver runs again its acknowledgements free the journal's
# room (a new segment, the checkpoint overwritten in place where the disk
# has no block for a new file), sm-post says it reads on, and every record
# is stored exactly once.  Then the disk fills exactly at the input's end:
# M records go in and are stored, the disk is filled to its last block,
# and the last line (8 KiB, no newline) comes with the end of the input:
# its write fails after the input ended; sm-post says so, does not end,
# and writes and sends it once there is room.  About 25 s.
. "$SM_TOP/tests/it/post-lib.inc"

N=6000		# about 2 MB: over the disk and a 1 MiB pipe
FEEDER="$SM_TOP/tests/it/fifo-feeder.py"

[ "$(id -u)" = 0 ] || fail "must run as root (mount -t tmpfs)"
mkdir "$SM_TMP/small"
mount -t tmpfs -o size=256k,mode=0700 sm-test "$SM_TMP/small" ||
    fail "cannot mount a tmpfs on $SM_TMP/small"
at_exit "umount '$SM_TMP/small' 2>/dev/null || umount -l '$SM_TMP/small'"

recv a route-a
kill -STOP "$a_pid"
at_exit "kill -CONT $a_pid 2>/dev/null || true"
gen "$N" | awk -v tag="$(printf '%08x' $$)" '{
	printf "{\"id\":\"%s-0000-7000-8000-%012x\",%s\n", tag, NR,
	    substr($0, 2) }' >"$SM_TMP/recs"
mkfifo "$SM_TMP/in"
python3 "$FEEDER" "$SM_TMP/recs" "$SM_TMP/in" 100000 "$SM_TMP/fed" \
    "$SM_TMP/close" 3>&- &
fpid=$!
at_exit "kill $fpid 2>/dev/null || true"
"$POST" --journal "$SM_TMP/small/j" --batch 50 --parallel 2 --max-time 30 \
    "$a_url" <"$SM_TMP/in" >/dev/null 2>"$SM_TMP/post.err" 3>&- &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"

wait_for 300 grep -q "not reading the input until it can be written: No space left on device" \
    "$SM_TMP/post.err"
echo "disk full: $(df -k "$SM_TMP/small" | awk 'NR == 2 { print $3 }') KiB used; said: $(grep -m1 'No space' "$SM_TMP/post.err")"
sleep 0.5
[ ! -e "$SM_TMP/fed" ] || fail "sm-post read all its input on a full disk"
kill -0 $ppid || fail "sm-post died: $(cat "$SM_TMP/post.err")"
expect_eq "rows while the receiver is stopped" "$(rows)" 0

kill -CONT "$a_pid"
wait_for 600 test -e "$SM_TMP/fed"
touch "$SM_TMP/close"
wait $ppid || fail "sm-post: $(cat "$SM_TMP/post.err")"
wait $fpid
grep -q "written again: reading on" "$SM_TMP/post.err" ||
    fail "sm-post did not say it reads on: $(cat "$SM_TMP/post.err")"
expect_eq "rows" "$(rows)" "$N"
expect_eq "distinct records" "$(q 'SELECT COUNT(DISTINCT total_processes)
    FROM system_metrics')" "$N"
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" "$N"
echo "every record stored once after the disk had room again"

# The disk fills exactly at the input's end.  Few enough records that the
# journal stays one segment (no sync frees a block meanwhile).
M=100
rm -rf "$SM_TMP/small/j"
tag2=$(printf '%08x' $(($$ + 1)))
gen "$M" $((N + 1)) | awk -v tag="$tag2" '{
	printf "{\"id\":\"%s-0000-7000-8000-%012x\",%s\n", tag, NR,
	    substr($0, 2) }' >"$SM_TMP/recs2"
gen 1 $((N + M + 1)) | awk -v tag="$tag2" -v n=$((M + 1)) '{
	pad = sprintf("%8192s", ""); gsub(/ /, "x", pad)
	printf "{\"id\":\"%s-0000-7000-8000-%012x\",\"pad\":\"%s\",%s",
	    tag, n, pad, substr($0, 2) }' >"$SM_TMP/last"
mkfifo "$SM_TMP/in2"
"$POST" --journal "$SM_TMP/small/j" --batch 50 --parallel 2 --max-time 30 \
    "$a_url" <"$SM_TMP/in2" >/dev/null 2>"$SM_TMP/post2.err" 3>&- &
ppid=$!
at_exit "kill $ppid 2>/dev/null || true"
exec 7>"$SM_TMP/in2"
cat "$SM_TMP/recs2" >&7
wait_for 300 test "$(rows)" -eq $((N + M))
at_exit "rm -f '$SM_TMP/small/filler'"
dd if=/dev/zero of="$SM_TMP/small/filler" bs=4k 2>/dev/null || true
expect_eq "KiB left on the disk" \
    "$(df -k --output=avail "$SM_TMP/small" | tail -n 1 | tr -d ' ')" 0
cat "$SM_TMP/last" >&7
exec 7>&-
wait_for 300 grep -q "No space left on device" "$SM_TMP/post2.err"
echo "full at the end: $(grep -m1 'No space' "$SM_TMP/post2.err")"
expect_eq "rows while the last record is not written" "$(rows)" $((N + M))
rm -f "$SM_TMP/small/filler"
wait $ppid || fail "sm-post: $(cat "$SM_TMP/post2.err")"
grep -q "written again: reading on" "$SM_TMP/post2.err" ||
    fail "sm-post did not say it wrote again: $(cat "$SM_TMP/post2.err")"
expect_eq "rows" "$(rows)" $((N + M + 1))
expect_eq "distinct sample_id" "$(q 'SELECT COUNT(DISTINCT sample_id)
    FROM system_metrics')" $((N + M + 1))
echo "the last record, read as the disk filled, stored once"
