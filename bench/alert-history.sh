#!/bin/sh
# The alert history (sm-tail(1), ALERT HISTORY) at size, on a private
# MariaDB of its own: sm-alert --replay --store writes EVENTS events of
# 100 hosts (a row over the threshold, then one under, by turns) into
# sm_alerts (elapsed, events/s: one INSERT IGNORE each), then sm-tail
# --listen answers GET /alerts?from=&to= over them: every host over the
# day (the newest 1,000), one host over the day, and every host over 10
# minutes; the median of RUNS requests each (curl's time_total).
#
#   bench/alert-history.sh [EVENTS [RUNS]]   default 20000 5
#
# Environment: SM_BIN (binaries to use instead of building).  Not part of
# `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
EVENTS=${1:-20000}
RUNS=${2:-5}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/sm-alert-history.XXXXXX")
TAIL=
. "$TOP/bench/bench-lib.sh"
cleanup() {
	[ -z "$TAIL" ] || kill "$TAIL" 2>/dev/null || true
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

bench_bin sm-alert sm-tail
bench_db_start
# one record a host a minute from 2026-11-26T00:00Z, CPU 95 and 10 by
# turns: an event each
awk -v n="$EVENTS" 'BEGIN {
	for (i = 0; i < n; i++) {
		m = int(i / 100); c = m % 2 ? 10 : 95
		printf "{\"ts\":\"2026-11-26T%02d:%02d:00.000Z\"," \
		    "\"host\":\"h%03d\",\"cpu_usage\":%d,\"cpu_free\":%d," \
		    "\"ram_total\":100,\"ram_free\":10,\"ram_used\":50," \
		    "\"total_processes\":3,\"running_processes\":1," \
		    "\"sleeping_processes\":2,\"stopped_processes\":0," \
		    "\"zombie_processes\":0}\n", int(m / 60) % 24, m % 60,
		    i % 100, c, 100 - c
	}
}' >"$WORK/records"
t0=$(date +%s%N)
"$WORK/bin/sm-alert" --replay --rule 'cpu_usage > 90' --store "$SM_DB" \
    <"$WORK/records" >/dev/null 2>"$WORK/alert.err"
t1=$(date +%s%N)
grep 'stored in' "$WORK/alert.err"
awk -v n="$EVENTS" -v ns=$((t1 - t0)) 'BEGIN {
	printf "sm-alert --replay --store: %d events in %.2f s, %.0f/s\n",
	    n, ns / 1e9, n / (ns / 1e9) }'

"$WORK/bin/sm-tail" --db "$SM_DB" --listen 127.0.0.1:0 --port-file \
    "$WORK/port" 2>"$WORK/tail.err" &
TAIL=$!
while [ ! -s "$WORK/port" ]; do sleep 0.1; done
BASE=http://127.0.0.1:$(cat "$WORK/port")
for q in "from=2026-11-26&to=2026-11-27&limit=1000" \
    "from=2026-11-26&to=2026-11-27&host=h042&limit=1000" \
    "from=2026-11-26T02:00:00Z&to=2026-11-26T02:10:00Z"; do
	i=0
	while [ $i -lt "$RUNS" ]; do
		curl -s -o "$WORK/answer" -w '%{time_total}\n' "$BASE/alerts?$q"
		i=$((i + 1))
	done | sort -n | awk -v q="$q" -v f="$WORK/answer" '
	    { t[NR] = $1 }
	    END { getline a < f; n = gsub(/"rule"/, "", a)
		printf "/alerts?%s: median %.1f ms, %d alerts\n", q,
		    1000 * t[int((NR + 1) / 2)], n }'
done
