#!/bin/sh
# Records/s through sm-post --parallel 64 to one receiver and through
# sm-split to two, with the sender's CPU time and peak RSS; each case once
# with single-record requests and once with --batch 100, against
#
#   sink   bench/post-sink.c, a receiver that stores nothing: what the
#          sender itself can do (the goal: never the bottleneck);
#   store  sm-store --listen on the private MariaDB: the whole path.
#
# Each case runs $REPEAT times (default 3); the row is the median run by
# wall time, all wall times in brackets.  Prints a Markdown table for
# bench/RESULTS.md.  Not part of `make check`.
#
#   make && bench/post-bench.sh [RECORDS] [sink|store|all]
#
# SM_BIN (default bin/) picks the binaries; SM_DB_DIR and SM_DB_PORT the
# private MariaDB (scripts/mariadb.sh), started when it is not running.
set -eu

N=${1:-200000}
WHICH=${2:-all}
REPEAT=${REPEAT:-3}
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/bench-lib.sh"
BIN=$(cd "${SM_BIN:-$TOP/bin}" && pwd)
SQL="$TOP/scripts/mariadb.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-post-bench.XXXXXX")
PIDS=
DB=sm_bench_$$

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	"$SQL" sql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for b in sm-post sm-split sm-store; do
	[ -x "$BIN/$b" ] || { echo "post-bench: no $BIN/$b: make first" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "post-bench: needs GNU time" >&2; exit 2; }

cc -O2 -D_GNU_SOURCE -o "$TMP/post-sink" "$TOP/bench/post-sink.c" \
    $(pkg-config --cflags --libs libmicrohttpd)

bench_records "$N" >"$TMP/records"

if [ "$WHICH" != sink ]; then
	"$SQL" start >/dev/null
	eval "$("$SQL" env)"
	"$SQL" sql -e "CREATE DATABASE $DB; GRANT ALL ON $DB.* TO
	    'sm'@'localhost'; GRANT ALL ON $DB.* TO 'sm'@'127.0.0.1';"
	SM_DB=$(printf '%s\n' "$SM_DB" | sed "s|/sm\$|/$DB|")
	export SM_DB
fi

# receiver KIND NAME: start one; its URL in $URL
receiver() {
	rm -f "$TMP/$2.port"
	if [ "$1" = sink ]; then
		"$TMP/post-sink" "$TMP/$2.port" "$2" >"$TMP/$2.count" &
	else
		"$BIN/sm-store" --listen 127.0.0.1:0 --port-file \
		    "$TMP/$2.port" --source "$2" --threads 2 \
		    2>"$TMP/$2.err" &
	fi
	PIDS="$PIDS $!"
	tries=0
	while [ ! -s "$TMP/$2.port" ]; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] ||
		    { echo "post-bench: $2 did not start" >&2; exit 1; }
		sleep 0.1
	done
	URL=http://127.0.0.1:$(cat "$TMP/$2.port")/metrics
}

stop_receivers() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PIDS=
}

# measure KIND RECEIVERS SENDER ARGS...: one run; "wall user sys rss"
# appended to $TMP/runs.  RECEIVERS 1 with sm-split gives it the same
# receiver twice: the split's own cost, without a second receiver
# competing for the CPUs.
measure() {
	kind=$1
	nrecv=$2
	shift 2
	rm -f "$TMP"/*.count
	receiver "$kind" route-a
	urls=$URL
	if [ "$1" = sm-split ] && [ "$nrecv" -eq 1 ]; then
		urls="$URL $URL"
	elif [ "$1" = sm-split ]; then
		receiver "$kind" route-b
		urls="$urls $URL"
	fi
	[ "$kind" = sink ] || "$SQL" sql "$DB" -e \
	    'DELETE FROM system_metrics' 2>/dev/null || true
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$BIN/$@" $urls \
	    <"$TMP/records" >"$TMP/acks" 2>"$TMP/err" ||
	    { echo "post-bench: $* failed: $(tail -3 "$TMP/err")" >&2; exit 1; }
	stop_receivers
	if [ "$kind" = sink ]; then
		got=$(cat "$TMP"/route-*.count | awk '{ s += $2 } END { print s }')
	else
		got=$("$SQL" sql -N -B "$DB" -e \
		    'SELECT COUNT(*) FROM system_metrics')
	fi
	[ "$got" -eq "$N" ] ||
	    { echo "post-bench: $*: $got records arrived, not $N" >&2; exit 1; }
	cat "$TMP/time" >>"$TMP/runs"
}

# run KIND RECEIVERS SENDER ARGS...: $REPEAT runs, the median (by wall
# time) as one table row
run() {
	: >"$TMP/runs"
	rep=0
	while [ $rep -lt "$REPEAT" ]; do
		measure "$@"
		rep=$((rep + 1))
	done
	read -r wall user sys rss <<-EOF
	$(sort -n "$TMP/runs" | sed -n "$(( (REPEAT + 1) / 2 ))p")
	EOF
	all=$(sort -n "$TMP/runs" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')
	kind=$1
	nrecv=$2
	shift 2
	awk -v cmd="$*" -v kind="$nrecv $kind" -v n="$N" -v w="$wall" \
	    -v u="$user" -v s="$sys" -v r="$rss" -v all="$all" \
	    -v req="$(wc -l <"$TMP/acks")" 'BEGIN {
		printf "| `%s` | %s | %d | %.2f (%s) | %.0f | %.2f | %.1f |" \
		    " %.1f |\n", cmd, kind, req, w, all, n / w, u + s,
		    (u + s) * 1e6 / n, r / 1024
	}'
}

echo "$N records, $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
    /proc/cpuinfo | head -1)), $(date -u +%Y-%m-%d), sm $("$BIN/sm-post" \
    --version | cut -d' ' -f2)"
echo
echo "| sender | receivers | requests | wall s (all runs) | records/s | sender CPU s | CPU µs/record | peak RSS MiB |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for kind in sink store; do
	[ "$WHICH" = all ] || [ "$WHICH" = "$kind" ] || continue
	run $kind 1 sm-post --parallel 64 --batch 100
	run $kind 2 sm-split --parallel 64 --batch 100
	run $kind 1 sm-split --parallel 64 --batch 100
	run $kind 1 sm-post --parallel 64
	run $kind 2 sm-split --parallel 64
	run $kind 1 sm-split --parallel 64
done
