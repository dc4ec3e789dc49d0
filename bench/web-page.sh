#!/bin/bash
# sm-tail --listen's page in headless chromium with HOSTS hosts (default
# 1000, 3 rows each in the last minute; the page starts with the last
# 1000 rows, one per host): the time until every card shows
# and until the charts in view are drawn, the page's DOM nodes, the browser's
# script time per second while no row arrives, the time to switch every
# chart to the 6 h range (one /history request each) and to open one
# host's 7-day view.  bench/web-page.js drives the browser (puppeteer-core
# from tests/web/node_modules: run tests/it/tail-web-page.sh once first).
#
#   [WEB_ROOT=dir] [LAYOUT=table|cards] bench/web-page.sh [HOSTS] [IDLE_SECONDS]
#
# LAYOUT: the overview asked for (?layout=; by default the page's own
# choice: a table past 12 hosts); the table has no charts, so the 6 h
# figure is the cards' only.
# Uses the private MariaDB of scripts/mariadb.sh (SM_DB_DIR and SM_DB_PORT
# honoured), in a database sm_web_page_bench made afresh; BUILD and OUT as
# for make.  Not part of `make check`.
set -eu
cd "$(dirname "$0")/.."
hosts=${1:-1000}
idle=${2:-10}
BUILD=${BUILD:-build}
OUT=${OUT:-bin}
. bench/tail-lib.sh
tail_bench_setup sm_web_page_bench

now=$(date +%s)
awk -v n="$hosts" -v now="$now" 'BEGIN {
	for (j = 0; j < 3; j++)	# the page starts with the last 1000 rows
		for (i = 0; i < n; i++) {
			t = now - 40 + 15 * j
			printf "{\"id\":\"%08x-0000-7000-8000-%012x\"," \
			    "\"ts\":\"%s\",\"host\":\"host-%04d\"," \
			    "\"collector\":\"procfs\",\"cpu_usage\":%.2f," \
			    "\"cpu_free\":%.2f,\"ram_total\":8000," \
			    "\"ram_free\":2000,\"ram_available\":3000," \
			    "\"ram_used\":5000,\"ram_percentage\":62.5," \
			    "\"total_processes\":200,\"running_processes\":2," \
			    "\"sleeping_processes\":198,\"stopped_processes\":0," \
			    "\"zombie_processes\":0}\n", i, j,
			    strftime("%Y-%m-%dT%H:%M:%SZ", t, 1), i,
			    (i * 7 + j) % 100, 100 - (i * 7 + j) % 100
		}
}' | "$OUT/sm-store" --source bench 2>/dev/null
# WEB_ROOT: another page to compare (say main's web/, git archive)
"$OUT/sm-tail" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    --backlog $((hosts * 4)) ${WEB_ROOT:+--web-root "$WEB_ROOT"} \
    2>"$tmp/web.err" &
pids+=($!)
until [ -s "$tmp/port" ]; do sleep 0.1; done
NODE_PATH=tests/web/node_modules URL="http://127.0.0.1:$(cat "$tmp/port")/" \
    HOSTS=$hosts IDLE=$idle PROFILE=$tmp/profile \
    timeout 300 node bench/web-page.js
