#!/bin/sh
# make demo: the main job, end to end on this machine.
#
#   private MariaDB  <-  sm-store --listen (route-a)  <-\
#                    <-  sm-store --listen (route-b)  <-- sm-split <- sm-read -i 0.5
#   then sm-tail shows the newest rows.
#
# Runs for DEMO_SECONDS (default 15), prints the split statistics and the
# latest rows, stops everything it started (also on Ctrl-C), and exits 0
# when every sample arrived as exactly one row.
set -eu
cd "$(dirname "$0")/.."
secs=${DEMO_SECONDS:-15}
n=$(awk -v s="$secs" 'BEGIN { n = int(s * 2); print (n > 0 ? n : 1) }')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-demo.XXXXXX")
say() { printf '\ndemo: %s\n' "$*" >&2; }

pids=
db_started=no
cleanup() {
	trap - EXIT INT TERM
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	if [ "$db_started" = yes ]; then
		scripts/mariadb.sh stop
		echo "demo: stopped the private MariaDB" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

say "starting the private MariaDB (.sm-db/, port ${SM_DB_PORT:-33306})"
if ! scripts/mariadb.sh status; then
	scripts/mariadb.sh start
	db_started=yes
fi
eval "$(scripts/mariadb.sh env)"	# SM_DB, SM_DB_PASSWORD: never printed
echo "SM_DB=$SM_DB" >&2

# one receiver per route, each on a free port
for route in route-a route-b; do
	bin/sm-store --listen 127.0.0.1:0 --port-file "$tmp/$route.port" \
	    --source "$route" 2>"$tmp/$route.log" &
	pids="$pids $!"
done
for route in route-a route-b; do
	i=0
	until [ -s "$tmp/$route.port" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			cat "$tmp/$route.log" >&2
			echo "demo: receiver $route did not start" >&2
			exit 3
		fi
		sleep 0.1
	done
done
url_a="http://127.0.0.1:$(cat "$tmp/route-a.port")/metrics"
url_b="http://127.0.0.1:$(cat "$tmp/route-b.port")/metrics"
echo "receivers: $url_a (route-a), $url_b (route-b)" >&2

start=$(date -u '+%Y-%m-%d %H:%M:%S')
say "sm-read -i 0.5 -n $n | sm-split $url_a $url_b  (${secs} s)"
bin/sm-read -i 0.5 -n "$n" |
    bin/sm-split --stats-every 10 "$url_a" "$url_b" >"$tmp/acks.ndjson"

say "the newest rows: sm-tail -n 10 --format table"
bin/sm-tail -n 10 --format table

say "rows of this run per data_source"
count() {
	scripts/mariadb.sh sql -N -B sm -e "SELECT data_source, COUNT(*),
	    COUNT(DISTINCT sample_id) FROM system_metrics
	    WHERE sampled_at >= '$start' AND data_source IN ('route-a','route-b')
	    GROUP BY data_source ORDER BY data_source"
}
count | awk '{ printf "  %s: %d rows (%d distinct samples)\n", $1, $2, $3 }' >&2
stored=$(count | awk '{ s += $3 } END { print s + 0 }')
acked=$(grep -c '"status":200' "$tmp/acks.ndjson" || true)
if [ "$stored" -ne "$n" ] || [ "$acked" -ne "$n" ]; then
	echo "demo: FAILED: $n samples sent, $acked acknowledged, $stored stored" >&2
	exit 1
fi
echo "demo: $n samples sent, $n acknowledged, $n stored once each: ok" >&2
