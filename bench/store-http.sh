#!/bin/sh
# sm-store --listen under wrk: one record per POST over keep-alive
# (bench/store-http.lua), 64 connections, 2 threads, into a private MariaDB
# with Debian's default, durable InnoDB settings (every answer follows a
# COMMIT).  Per run: requests/s, p50/p99 latency, rows really stored, and
# the receiver's peak RSS (VmHWM); then the medians.
#
#   bench/store-http.sh [SECONDS [REPS]]     default 20 3
#
# Environment: SM_BIN (use the sm-store there instead of building), CONNS (64), THREADS (wrk threads, 2), RECV_THREADS (sm-store
# --threads, 1), DB_VIA (tcp: 127.0.0.1 with the default TLS mode, or
# socket).  Not part of `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-20}
REPS=${2:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
RECV_THREADS=${RECV_THREADS:-1}
DB_VIA=${DB_VIA:-tcp}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-store-http.XXXXXX")
DB_PORT=
RPID=

db() {
	SM_DB_DIR="$WORK/db" SM_DB_PORT=$DB_PORT "$TOP/scripts/mariadb.sh" "$@"
}
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

command -v wrk >/dev/null 2>&1 || { echo "store-http: wrk missing" >&2; exit 2; }
if [ -n "${SM_BIN:-}" ]; then
	mkdir -p "$WORK/bin"
	cp "$SM_BIN/sm-store" "$WORK/bin/"
else
	echo "store-http: building into $WORK" >&2
	make -s -C "$TOP" BUILD="$WORK/build" OUT="$WORK/bin" all >&2
fi
# a free port below the ephemeral range (32768-), a few tries
for try in 1 2 3 4 5; do
	DB_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
	db start >"$WORK/db.log" 2>&1 && break
	db stop >/dev/null 2>&1 || true
	[ "$try" -lt 5 ] || { cat "$WORK/db.log" >&2; exit 1; }
done
eval "$(db env)"
[ "$DB_VIA" = socket ] && SM_DB=$SM_DB_SOCKET_URL
export SM_DB SM_DB_PASSWORD
count() {
	mariadb --defaults-file="$WORK/db/admin.cnf" -N sm \
	    -e 'SELECT COUNT(*) FROM system_metrics' 2>/dev/null || echo 0
}

: >"$WORK/rps"; : >"$WORK/p50"; : >"$WORK/p99"; : >"$WORK/rss"
: >"$WORK/ratio"
for r in $(seq "$REPS"); do
	rm -f "$WORK/port"
	"$WORK/bin/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
	    --threads "$RECV_THREADS" --max-connections 1024 \
	    2>"$WORK/recv.err" &
	RPID=$!
	while [ ! -s "$WORK/port" ]; do sleep 0.1; done
	before=$(count)
	wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -s "$TOP/bench/store-http.lua" \
	    "http://127.0.0.1:$(cat "$WORK/port")/metrics" >"$WORK/wrk.out"
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$RPID/status")
	kill -TERM "$RPID"
	wait "$RPID" || { cat "$WORK/recv.err"; exit 1; }
	RPID=
	stored=$(( $(count) - before ))
	line=$(grep '^BENCH ' "$WORK/wrk.out")
	eval "$(echo "$line" | sed 's/^BENCH //')"
	# shellcheck disable=SC2154
	[ "$errors_status" -eq 0 ] && [ "$errors_connect" -eq 0 ] ||
	    { cat "$WORK/wrk.out"; exit 1; }
	rps=$(echo "$requests $duration_us" |
	    awk '{ printf("%.0f", $1 / ($2 / 1e6)) }')
	echo "run $r: $rps requests/s, p50 $((p50_us / 1000)).$(( (p50_us % 1000) / 100 )) ms," \
	    "p99 $((p99_us / 1000)).$(( (p99_us % 1000) / 100 )) ms, $requests answered 200," \
	    "$stored rows stored, peak RSS $rss KiB"
	echo "$rps" >>"$WORK/rps"
	echo "$p50_us" >>"$WORK/p50"
	echo "$p99_us" >>"$WORK/p99"
	echo "$rss" >>"$WORK/rss"
	# rows per answered request: >= 1 (answers in flight when wrk stopped)
	echo "$stored $requests" | awk '{ printf("%.4f\n", $1 / $2) }' \
	    >>"$WORK/ratio"
done
echo "median of $REPS runs of ${SECS} s, $CONNS connections, $THREADS wrk" \
    "threads, DB over $DB_VIA:"
echo "  requests/s (= records/s)  $(median <"$WORK/rps")"
echo "  p50 latency               $(median <"$WORK/p50") us"
echo "  p99 latency               $(median <"$WORK/p99") us"
echo "  rows stored / answered    $(median <"$WORK/ratio")"
echo "  receiver peak RSS         $(median <"$WORK/rss") KiB"
