#!/bin/sh
# sm-post and sm-split without a receiver: options, usage errors, and what
# happens to records when nothing answers (tests/it/post-*.sh and split-*.sh
# run them against real sm-store receivers).
. "$(dirname "$0")/../lib.sh"

POST=$SM_BIN/sm-post
SPLIT=$SM_BIN/sm-split
# nothing listens on port 1: connections are refused at once
DEAD=http://127.0.0.1:1/metrics
DEAD2=http://127.0.0.1:2/metrics

echo "--version and -h"
$POST --version | grep -qx 'sm-post [0-9][0-9.]*' || fail "sm-post --version"
$SPLIT --version | grep -qx 'sm-split [0-9][0-9.]*' || fail "sm-split --version"
expect_status 0 $POST -h
grep -qF "usage: sm-post [-h] [-H header] [--acks] [--batch n]" "$SM_TMP/out" ||
    fail "sm-post -h: $(cat "$SM_TMP/out")"
expect_status 0 $SPLIT --help
grep -qF "usage: sm-split [-h] [-H header] [--acks] [--batch n]" "$SM_TMP/out" ||
    fail "sm-split --help: $(cat "$SM_TMP/out")"
expect_status 2 $POST --bogus
expect_err "usage: sm-post [-h] [-H header] [--acks] [--batch n]"

echo "usage errors: exit 2 and why"
expect_status 2 $POST
expect_err "sm-post: no URL"
expect_status 2 $POST $DEAD $DEAD2
expect_err "sm-post: one URL only (sm-split spreads over several)"
expect_status 2 $SPLIT $DEAD
expect_err "sm-split: want at least two URLs (sm-post sends to one)"
expect_status 2 $POST --batch 0 $DEAD
expect_err 'sm-post: --batch: "0": want an integer from 1 to 100000'
expect_status 2 $POST --parallel 2000 $DEAD
expect_err 'sm-post: --parallel: "2000": want an integer from 1 to 1024'
expect_status 2 $POST --timeout 0 $DEAD
expect_err 'sm-post: --timeout: "0": want seconds from 0.001 to 86400'
expect_status 2 $POST --linger -1 $DEAD
expect_err 'sm-post: --linger: "-1": want an integer from 0 to 3600000'
expect_status 2 $POST --max-line 0 $DEAD
expect_err 'sm-post: --max-line: "0": want an integer from 1 to 268435456'
expect_status 2 $SPLIT --max-line 268435457 $DEAD $DEAD2
expect_err 'sm-split: --max-line: "268435457": want an integer from 1 to 268435456'
expect_status 2 $POST --metrics-interval 5 $DEAD </dev/null
expect_err 'sm-post: --metrics-interval wants --metrics-file'
expect_status 2 $SPLIT --metrics-interval 0 --metrics-file m.prom \
    $DEAD $DEAD2 </dev/null
expect_err 'sm-split: --metrics-interval: "0": want seconds from 0.1 to 86400'
# a file that cannot be written: a set-up error before anything is read
expect_status 2 $POST --metrics-file "$SM_TMP/no/such/dir/m.prom" $DEAD \
    </dev/null
expect_err "sm-post: --metrics-file: $SM_TMP/no/such/dir/m.prom.tmp: No such"
expect_status 2 $POST -H 'no colon' $DEAD
expect_err 'sm-post: -H: "no colon": want "Name: value"'
expect_status 2 $POST ftp://example.com/metrics
expect_err 'sm-post: "ftp://example.com/metrics": want an http:// or https:// URL'
expect_status 2 $POST --weights 1 $DEAD
expect_err "unrecognized option"
expect_status 2 $SPLIT --weights 3,1,1 $DEAD $DEAD2
expect_err "sm-split: --weights: 3 weights for 2 URLs"
expect_status 2 $SPLIT --weights 3,0 $DEAD $DEAD2
expect_err 'sm-split: --weights: "3,0": weight 2: want an integer from 1 to 1000'
expect_status 2 $SPLIT --max-fails 0 $DEAD $DEAD2
expect_err 'sm-split: --max-fails: "0": want an integer from 1 to 1000000'
expect_status 2 $POST --spool "$SM_TMP/x" --reject "$SM_TMP/x" $DEAD
expect_err "sm-post: --reject and --spool name the same file"

echo "configuration errors: exit 2 before reading anything"
expect_status 2 $POST --token-file "$SM_TMP/none" $DEAD </dev/null
expect_err "sm-post: --token-file: $SM_TMP/none: No such file or directory"
: >"$SM_TMP/empty-token"
expect_status 2 $POST --token-file "$SM_TMP/empty-token" $DEAD </dev/null
expect_err "no token on the first line"
expect_status 2 $POST --spool "$SM_TMP/no/such/dir" $DEAD </dev/null
expect_err "sm-post: --spool: $SM_TMP/no/such/dir: No such file or directory"

echo "no input: nothing to do"
expect_status 0 $POST $DEAD </dev/null
[ ! -s "$SM_TMP/out" ] || fail "output: $(cat "$SM_TMP/out")"
expect_status 0 $SPLIT $DEAD $DEAD2 </dev/null
expect_err "sm-split: sent 0/0 | a: 0 (0.0%) | b: 0 (0.0%) | retried 0 | failed over 0"

echo "nothing answers: records spooled with their ids, exit 3"
cat >"$SM_TMP/in" <<'IN'
{"n":1}
oops, not JSON
{"id":"018f3e5c-1b2a-7c3d-8e4f-5a6b7c8d9e0f","n":2}

{"n":3}
IN
expect_status 3 $POST --batch 2 --max-time 0.3 --spool "$SM_TMP/spool" \
    --reject "$SM_TMP/rej" $DEAD <"$SM_TMP/in"
expect_err "sm-post: line 2: invalid JSON at column 1"
expect_err "sm-post: $DEAD: no answer: "
expect_err "sm-post: request 1 (2 records, lines 1-3): not delivered, spooled to $SM_TMP/spool: --max-time reached after "
expect_err "sm-post: request 2 (1 record, line 5): not delivered"
[ ! -s "$SM_TMP/out" ] || fail "acknowledged: $(cat "$SM_TMP/out")"
printf '%s\n' '{"id":"ID","n":1}' '{"id":"ID","n":2}' '{"id":"ID","n":3}' \
    >"$SM_TMP/spool.want"
normalise <"$SM_TMP/spool" | diff -u "$SM_TMP/spool.want" - || fail "spool"
# an id the record came with is kept
sed -n 2p "$SM_TMP/spool" | grep -q '"id":"018f3e5c-1b2a-7c3d-8e4f-5a6b7c8d9e0f"' ||
    fail "id changed: $(sed -n 2p "$SM_TMP/spool")"
[ "$(cat "$SM_TMP/rej")" = '{"line":2,"reason":"invalid JSON at column 1: unexpected character","text":"oops, not JSON"}' ] ||
    fail "reject file: $(cat "$SM_TMP/rej")"

echo "sm-split over two dead endpoints: both taken out, all spooled"
expect_status 3 $SPLIT --max-time 0.3 --spool "$SM_TMP/spool2" \
    --health-interval 0 $DEAD $DEAD2 <"$SM_TMP/spool"
expect_err "sm-split: a ($DEAD): out for 10.0 s: no answer: "
expect_err "sm-split: b ($DEAD2): out for 10.0 s: no answer: "
expect_err "sm-split: sent 0/3 | a: 0 (0.0%) | b: 0 (0.0%) | retried "
expect_err " | spooled 3"
# a spool replays into a spool unchanged: the ids are fixed once
sort "$SM_TMP/spool" >"$SM_TMP/s1"
sort "$SM_TMP/spool2" | diff -u "$SM_TMP/s1" - || fail "spool of the spool"

echo "--journal: options, a directory that cannot be one, one process a journal"
expect_status 2 $POST --sync often $DEAD
expect_err 'sm-post: --sync: "often": want batch, never, or milliseconds'
expect_status 2 $POST --journal-max 10 --journal "$SM_TMP/j0" $DEAD
expect_err 'sm-post: --journal-max: "10": want a size of 1M or more'
expect_status 2 $POST --sync batch $DEAD
expect_err 'sm-post: --journal-max, --journal-full and --sync want --journal'
expect_status 2 $POST --journal-full wait $DEAD
expect_err 'sm-post: --journal-max, --journal-full and --sync want --journal'
expect_status 2 $SPLIT --journal-full drop $DEAD $DEAD2
expect_err 'sm-split: --journal-max, --journal-full and --sync want --journal'
expect_status 2 $POST --journal-full later --journal "$SM_TMP/j0" $DEAD
expect_err 'sm-post: --journal-full: "later": want wait or drop'
expect_status 2 $POST --drain-timeout -1 $DEAD
expect_err 'sm-post: --drain-timeout: "-1": want seconds from 0 to 86400'
: >"$SM_TMP/file"
expect_status 2 $POST --journal "$SM_TMP/file/j" $DEAD </dev/null
expect_err "sm-post: --journal: $SM_TMP/file/j: Not a directory"
# a journal in use: the second sender is refused before it reads a line
mkfifo "$SM_TMP/jin"
$POST --journal "$SM_TMP/j1" $DEAD <"$SM_TMP/jin" >/dev/null 2>&1 &
jpid=$!
exec 4>"$SM_TMP/jin"
i=0
until [ -e "$SM_TMP/j1/checkpoint" ] || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_status 2 $SPLIT --journal "$SM_TMP/j1" $DEAD $DEAD2 </dev/null
expect_err "sm-split: --journal: $SM_TMP/j1: in use by another process"
exec 4>&-
wait $jpid || :

echo "--journal, nothing answers: the records stay in the journal, exit 3"
printf '{"n":1}\n{"n":2}\n{"n":3}\n' >"$SM_TMP/three"
expect_status 3 $POST --journal "$SM_TMP/j2" --max-time 0.2 $DEAD \
    <"$SM_TMP/three"
expect_err "sm-post: request 3 (1 record, line 3): not delivered, kept in the journal"
expect_err "sm-post: journal $SM_TMP/j2: 3 records not acknowledged, kept for the next start"
# the next start sends them first (and again keeps them)
expect_status 3 $POST --journal "$SM_TMP/j2" --max-time 0.2 $DEAD </dev/null
expect_err "sm-post: journal $SM_TMP/j2: 3 records (177 bytes) not acknowledged: sending them first"

echo "--journal: a frame cut short is cut off, and said"
seg=$(ls "$SM_TMP/j2"/*.seg | tail -1)
printf '\012\000\000\000abc' >>"$seg"
expect_status 3 $POST --journal "$SM_TMP/j2" --max-time 0.2 $DEAD </dev/null
expect_err "bytes from a bad or cut-short frame at segment"
expect_err "3 records (177 bytes) not acknowledged: sending them first"

echo "--journal and SIGTERM: the input is read to its end into the journal"
mkfifo "$SM_TMP/jin2"
$POST --journal "$SM_TMP/j3" $DEAD <"$SM_TMP/jin2" >/dev/null \
    2>"$SM_TMP/j3.err" &
jpid=$!
exec 4>"$SM_TMP/jin2"
printf '{"n":1}\n{"n":2}\n{"n":3}\n' >&4
i=0
until grep -q "retrying for up to" "$SM_TMP/j3.err" || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM $jpid
sleep 0.3
# written after the signal: still read, and kept
printf '{"n":4}\n{"n":5}\n' >&4
exec 4>&-
set +e
wait $jpid
st=$?
set -e
[ "$st" -eq 0 ] || fail "SIGTERM: exit status $st"
grep -q "journal $SM_TMP/j3: 5 records not acknowledged, kept for the next start" \
    "$SM_TMP/j3.err" || fail "SIGTERM: $(cat "$SM_TMP/j3.err")"

echo "--journal from a pipe: the same line twice, in two runs, is two records"
rm -rf "$SM_TMP/j4"
for run in 1 2; do
	printf '{"same":1}\n' | $POST --journal "$SM_TMP/j4" --max-time 0.2 \
	    $DEAD >/dev/null 2>"$SM_TMP/j4.err" || :
done
grep -q "journal $SM_TMP/j4: 2 records not acknowledged, kept" \
    "$SM_TMP/j4.err" || fail "same line twice: $(cat "$SM_TMP/j4.err")"
! grep -q "taken out" "$SM_TMP/j4.err" ||
    fail "same line twice: $(cat "$SM_TMP/j4.err")"
