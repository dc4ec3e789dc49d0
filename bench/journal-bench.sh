#!/bin/sh
# What --journal costs sm-post: records/s, sender CPU per record and disk
# written per record, with and without --journal (default --sync, 500 ms),
# side by side in one run, batched (--batch 100) and one record a request,
# against bench/post-sink.c (a receiver that stores nothing, so the sender
# is what is measured).  Input comes through a pipe (`cat file |`), as
# from sm-read, so --journal peeks at it with tee(2).
#
# Runs alternate without/with, $REPEAT times each (default 5); a row is
# the median run by wall time, all wall times in brackets.  Disk written
# is the kernel's count of blocks the sender wrote (getrusage ru_oublock,
# 512 bytes each; 0 on a file system that does not count them).  Machine
# busy is the share of all CPUs busy during the run, every process (the
# sink's and cat's too, from /proc/stat): near 100% the run is bounded by
# the machine's CPUs, not by the sender's threads.  Prints a
# Markdown table for bench/RESULTS.md.  Not part of `make check`.
#
#   make && bench/journal-bench.sh [RECORDS [SINGLE_RECORDS]]
#
# IDS=1 gives every record an id first, as sm-read does (without, the
# sender makes them, as for a writer that gives none).
# RECORDS (200,000) for the batched runs, SINGLE_RECORDS (RECORDS) for the
# one-record-a-request runs: batched runs of 200,000 last a quarter of a
# second, where the journal's start (its directory, first segment and
# checkpoint synced) weighs; 1,000,000 gives steadier ratios.
# JOURNAL_DIR (default: a directory under TMPDIR) is where the journal
# goes: put it on the disk to measure.  BASE_BIN, a directory with the
# sm-post of a build before a change, adds its rows, run in turn with the
# others (base without, base with, without, with).
set -eu

N=${1:-200000}
NS=${2:-$N}
REPEAT=${REPEAT:-5}
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/bench-lib.sh"
BIN=$(cd "${SM_BIN:-$TOP/bin}" && pwd)
BASE=
[ -z "${BASE_BIN:-}" ] || BASE=$(cd "$BASE_BIN" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-journal-bench.XXXXXX")
JDIR=${JOURNAL_DIR:-$TMP}/journal.$$
PIDS=

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP" "$JDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$BIN/sm-post" ] || { echo "journal-bench: make first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "journal-bench: needs GNU time" >&2; exit 2; }
cc -O2 -D_GNU_SOURCE -o "$TMP/post-sink" "$TOP/bench/post-sink.c" \
    $(pkg-config --cflags --libs libmicrohttpd)

if [ "${IDS:-0}" = 1 ]; then
	# ids already given, as sm-read writes them: the sender makes none
	bench_records "$N" | awk '{ printf "{\"id\":\"01a250f1-4b69-7%03x-" \
	    "%04x-%012x\",%s\n", NR % 4096, 32768 + NR % 16384, NR,
	    substr($0, 2) }' >"$TMP/records"
else
	bench_records "$N" >"$TMP/records"
fi
head -n "$NS" "$TMP/records" >"$TMP/records.single"

rm -f "$TMP/port"
"$TMP/post-sink" "$TMP/port" sink >"$TMP/count" &
PIDS="$PIDS $!"
tries=0
while [ ! -s "$TMP/port" ]; do
	tries=$((tries + 1))
	[ $tries -lt 100 ] || { echo "journal-bench: no sink" >&2; exit 1; }
	sleep 0.1
done
URL=http://127.0.0.1:$(cat "$TMP/port")/metrics
HZ=$(getconf CLK_TCK)

# measure TAG ARGS...: one run of sm-post ARGS ($BASE's for a tag
# base.*); "wall user sys blocks" appended to $TMP/TAG
measure() {
	tag=$1
	shift
	bin=$BIN
	case $tag in base.*) bin=$BASE ;; esac
	rm -rf "$JDIR"
	recs=$TMP/records
	case $tag in *single.*) recs=$TMP/records.single ;; esac
	b0=$(busy)
	cat "$recs" | /usr/bin/time -f '%e %U %S %O' -o "$TMP/time" \
	    "$bin/sm-post" "$@" "$URL" >/dev/null 2>"$TMP/err" ||
	    { echo "journal-bench: sm-post $* failed: $(tail -3 "$TMP/err")" >&2
	    exit 1; }
	echo "$(cat "$TMP/time") $(( $(busy) - b0 ))" >>"$TMP/$tag"
}

# busy: the machine's busy CPU time so far, all processes, in clock
# ticks (/proc/stat: all but idle and iowait)
busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' \
	    /proc/stat
}

row() {
	read -r wall user sys blocks ticks <<-EOF
	$(sort -n "$TMP/$1" | sed -n "$(( (REPEAT + 1) / 2 ))p")
	EOF
	all=$(sort -n "$TMP/$1" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')
	n=$N
	case $1 in *single.*) n=$NS ;; esac
	awk -v cmd="$2" -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" \
	    -v b="$blocks" -v all="$all" -v t="$ticks" -v hz="$HZ" \
	    -v cpus="$(nproc)" 'BEGIN {
		printf "| `%s` | %.2f (%s) | %.0f | %.1f | %.0f | %.0f%% |\n",
		    cmd, w, all, n / w, (u + s) * 1e6 / n, b * 512 / n,
		    100 * t / hz / (w * cpus)
	}'
	echo "$n $wall" >"$TMP/$1.rate"
}

ratio() {
	awk -v a="$(cut -d' ' -f2 "$TMP/$1.rate")" \
	    -v b="$(cut -d' ' -f2 "$TMP/$2.rate")" \
	    'BEGIN { printf "%.2f", b / a }'
}

# pairs JOURNAL PLAIN: the median of the rounds' own ratios (each journal
# run against the plain run just before it: steadier on a shared machine)
pairs() {
	paste -d' ' "$TMP/$2" "$TMP/$1" | awk '{ printf "%.3f\n", $1 / $(NF / 2 + 1) }' |
	    sort -n | awk '{ r[NR] = $1 } END {
		printf "%.2f (", r[int((NR + 1) / 2)]
		for (i = 1; i <= NR; i++)
			printf "%s%.2f", (i > 1 ? " " : ""), r[i]
		printf ")"
	}'
}

echo "$N records$([ "${IDS:-0}" = 1 ] && echo " with ids") batched, $NS one a request, $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
    /proc/cpuinfo | head -1)), $(date -u +%Y-%m-%d), sm $("$BIN/sm-post" \
    --version | cut -d' ' -f2), journal on $(df -T "${JOURNAL_DIR:-$TMP}" |
    awk 'NR == 2 { print $2 }')"
echo
for mode in batch single; do
	if [ $mode = batch ]; then
		set -- --parallel 64 --batch 100
	else
		set -- --parallel 64
	fi
	: >"$TMP/$mode.plain"
	: >"$TMP/$mode.journal"
	rep=0
	while [ $rep -lt "$REPEAT" ]; do
		if [ -n "$BASE" ]; then
			measure base.$mode.plain "$@"
			measure base.$mode.journal "$@" --journal "$JDIR"
		fi
		measure $mode.plain "$@"
		measure $mode.journal "$@" --journal "$JDIR"
		rep=$((rep + 1))
	done
done
echo "| sender | wall s (all runs) | records/s | CPU µs/record | disk bytes/record | machine busy |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
if [ -n "$BASE" ]; then
	row base.batch.plain "(before) sm-post --parallel 64 --batch 100"
	row base.batch.journal \
	    "(before) sm-post --parallel 64 --batch 100 --journal DIR"
	row base.single.plain "(before) sm-post --parallel 64"
	row base.single.journal "(before) sm-post --parallel 64 --journal DIR"
fi
row batch.plain "sm-post --parallel 64 --batch 100"
row batch.journal "sm-post --parallel 64 --batch 100 --journal DIR"
row single.plain "sm-post --parallel 64"
row single.journal "sm-post --parallel 64 --journal DIR"
echo
[ -z "$BASE" ] || echo "before: with --journal / without, records/s:" \
    "batched $(ratio base.batch.journal base.batch.plain), one record a" \
    "request $(ratio base.single.journal base.single.plain)"
echo "with --journal / without, records/s: batched $(ratio batch.journal \
    batch.plain), one record a request $(ratio single.journal single.plain)"
echo
[ -z "$BASE" ] || echo "before, median of each round's ratio: batched" \
    "$(pairs base.batch.journal base.batch.plain), one record a request" \
    "$(pairs base.single.journal base.single.plain)"
echo "median of each round's ratio: batched $(pairs batch.journal \
    batch.plain), one record a request $(pairs single.journal single.plain)"
