#!/bin/sh
# make demo: the whole system, end to end on this machine.
#
#   sm-read -i 0.5            (this host)  --\
#   sm-read -i 0.5 --host sim-b (joins, then stops) --> sm-split --> sm-store --listen route-a
#                                                                 \-> sm-store --listen route-b
#   private MariaDB  -->  sm-tail --listen   (the browser dashboard: its URL first)
#                    -->  sm-tail -f | sm-alert 'cpu_usage > 50 for 2s', --stale 3
#
# A short CPU burst on this machine fires the CPU alert and resolves it; the
# simulated host joins halfway and stops, and its stale alert fires.  Runs
# DEMO_SECONDS (default 24, at least 20; 0: until Ctrl-C), then prints the
# split per route, checks that every sample is exactly one row (exit 0 only
# then), takes a screenshot of the dashboard with headless Chromium where it
# is installed, and stops everything it started (also on Ctrl-C).
#
# Ctrl-C (SIGINT to the whole foreground process group, make and a tee
# after it included) stops the sample readers first, lets what they read
# be delivered, checks it and stops the rest; a second Ctrl-C while that
# drains waits for it too (sm-split's --max-time bounds it).  All output
# is on stderr, and a write to a reader that has gone (a tee stopped by
# the same Ctrl-C) is no reason to stop.  The private MariaDB, when the
# demo starts it, is on SM_DB_PORT, else 33306 or the next free port, in a
# session of its own (scripts/mariadb.sh), so the Ctrl-C does not reach it
# before the last sample is stored; it is stopped at the end.
set -eu
trap '' PIPE
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${DEMO_SECONDS:-24}
case $secs in
'' | *[!0-9]*) echo "demo: DEMO_SECONDS: want whole seconds" >&2; exit 2 ;;
esac
[ "$secs" -eq 0 ] || [ "$secs" -ge 20 ] || secs=20
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-demo.XXXXXX")
say() { printf '\ndemo: %s\n' "$*" >&2 || true; }

# Every service and pipeline runs in a process group of its own (setsid),
# so that Ctrl-C reaches this script alone, which then stops them in order.
groups=
burn=
db_started=no
cleanup() {
	# to its end: another Ctrl-C must not leave the database running
	trap - EXIT
	trap '' INT TERM
	# shellcheck disable=SC2086
	[ -z "$burn" ] || kill $burn 2>/dev/null || true
	for g in $groups; do kill -TERM "-$g" 2>/dev/null || true; done
	for g in $groups; do wait "$g" 2>/dev/null || true; done
	if [ "$db_started" = yes ]; then
		scripts/mariadb.sh stop 2>/dev/null || true
		echo "demo: stopped the private MariaDB" >&2 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2 || :; exit 130' INT TERM

# group CMD: CMD (a shell command line) in the background, in a process
# group of its own; its id in $group.
group() {
	setsid sh -c "$1" &
	group=$!
	groups="$groups $group"
}

# nap SECONDS: sleep, cut short by a Ctrl-C (no reason to stop the demo)
nap() { sleep "$1" || true; }

# wait_port NAME: until $tmp/NAME.port is written (10 s)
wait_port() {
	i=0
	until [ -s "$tmp/$1.port" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			cat "$tmp/$1.log" >&2
			echo "demo: $1 did not start" >&2
			exit 3
		fi
		sleep 0.1
	done
}

# port_free PORT: nothing listens on it (ss, iproute2)
port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

if ! scripts/mariadb.sh status; then
	if [ -z "${SM_DB_PORT:-}" ]; then
		# another checkout's demo may hold 33306
		SM_DB_PORT=33306
		until port_free "$SM_DB_PORT" || [ "$SM_DB_PORT" -ge 33405 ]; do
			SM_DB_PORT=$((SM_DB_PORT + 1))
		done
		export SM_DB_PORT
	fi
	db_started=yes
	# in a session of its own: a Ctrl-C now stops the demo once the
	# server is up (and cleanup stops it), not the start half way
	setsid -w scripts/mariadb.sh start >"$tmp/mariadb.log" 2>&1 ||
	    { cat "$tmp/mariadb.log" >&2; exit 3; }
	db_how="started (stopped at the end)"
else
	db_how="already running (left running)"
fi
eval "$(scripts/mariadb.sh env)"	# SM_DB, SM_DB_PASSWORD: never printed

# the dashboard first: a person can open it while the rest starts
group "exec bin/sm-tail --listen 127.0.0.1:0 --port-file '$tmp/web.port' \
    --web-root '$top/web' --rule 'cpu_usage > 50 for 2s' --stale 3 \
    2>'$tmp/web.log'"
wait_port web
web="http://127.0.0.1:$(cat "$tmp/web.port")/"
if [ "$secs" -eq 0 ]; then
	how="until Ctrl-C, which stops, checks and cleans up"
else
	how="for $secs s, or until Ctrl-C; DEMO_SECONDS=0 make demo keeps it"
	how="$how running until Ctrl-C"
fi
printf 'demo: open %s in a browser (%s)\n' "$web" "$how" >&2
echo "demo: private MariaDB $db_how: SM_DB=$SM_DB," \
    "data in ${SM_DB_DIR:-$top/.sm-db}" >&2

for route in route-a route-b; do
	group "exec bin/sm-store --listen 127.0.0.1:0 \
	    --port-file '$tmp/$route.port' --source $route \
	    2>'$tmp/$route.log'"
done
wait_port route-a
wait_port route-b
url_a="http://127.0.0.1:$(cat "$tmp/route-a.port")/metrics"
url_b="http://127.0.0.1:$(cat "$tmp/route-b.port")/metrics"
echo "demo: receivers $url_a (route-a), $url_b (route-b)" >&2

# the alerts, for every host, from the table (what a fleet would run)
say "alerts: sm-tail -f -n 0 | sm-alert --rule 'cpu_usage > 50 for 2s' --stale 3"
group "bin/sm-tail -f -n 0 --format ndjson --interval 0.25 \
    2>'$tmp/follow.log' | bin/sm-alert --rule 'cpu_usage > 50 for 2s' \
    --stale 3 2>'$tmp/alert.log' | tee '$tmp/alerts.ndjson' |
    sed -u 's/^/alert: /' >&2"
alerts=$group
nap 1		# the follower takes its starting point

host=$(hostname)
n_main=
[ "$secs" -eq 0 ] || n_main="-n $((secs * 2))"
say "sm-read -i 0.5 | sm-split route-a route-b  ($([ "$secs" -eq 0 ] &&
    echo "until Ctrl-C" || echo "$secs s"))"
# Ctrl-C from here on: stop the readers, deliver, check (stopping=yes)
stopping=no
trap 'stopping=yes' INT TERM
group "bin/sm-read -i 0.5 $n_main | tee '$tmp/main.ndjson' |
    bin/sm-split --stats-every 20 '$url_a' '$url_b' \
    >'$tmp/acks-main.ndjson'"
main=$group
readers=$main

# reading PGID: group PGID's sample reader still runs
reading() { pgrep -g "$1" -x sm-read >/dev/null 2>&1; }

# the story: a CPU burst at 3 s, the simulated host from 10 s to 16 s
nap 3
if [ "$stopping" = no ]; then
	say "a CPU burst on this machine for 5 s" \
	    "(the alert fires after 2 s above 50%)"
	for _ in $(seq "$(nproc)"); do
		timeout 5 sh -c 'while :; do :; done' &
		burn="$burn $!"
	done
	nap 7
fi
if [ "$stopping" = no ]; then
	say "host sim-b joins (sm-read --host sim-b), for 6 s"
	group "bin/sm-read -i 0.5 -n 12 --host sim-b |
	    tee '$tmp/sim.ndjson' | bin/sm-split '$url_a' '$url_b' \
	    >'$tmp/acks-sim.ndjson'"
	sim=$group
	readers="$readers $sim"
	while [ "$stopping" = no ] && reading "$sim"; do
		nap 0.5
	done
	[ "$stopping" = yes ] ||
	    say "host sim-b stopped: its stale alert fires 3 s after" \
	    "its last row"
fi
while [ "$stopping" = no ] && reading "$main"; do
	nap 0.5
done
if [ "$stopping" = yes ]; then
	say "stopping: the sample readers first, so that what they read" \
	    "is delivered"
	for g in $readers; do
		pkill -TERM -g "$g" -x sm-read 2>/dev/null || true
	done
	# shellcheck disable=SC2086
	[ -z "$burn" ] || kill $burn 2>/dev/null || true
fi
# each pipeline to its end (sm-split delivers what it read); a Ctrl-C
# cuts a wait short: wait again
for g in $readers; do
	while :; do
		rc=0
		wait "$g" || rc=$?
		[ "$rc" -gt 128 ] || break
	done
done
nap 1		# the last rows through the follower, then no more alerts:
kill -TERM "-$alerts" 2>/dev/null || true	# the stop is no outage

say "the newest rows: sm-tail -n 8 --format table"
bin/sm-tail -n 8 --format table >&2 || true

# the past: this run rolled up into the minute tier, and read back by minute
say "the past: sm-keep --settle 0 (sm-keep.timer runs it every minute)"
bin/sm-keep --settle 0 -v >&2 || true
say "this run by minute: sm-tail --since 10m --step 1m --format table"
bin/sm-tail --since 10m --step 1m --format table >&2 || true

if command -v chromium >/dev/null 2>&1; then
	shot=$top/build/demo-dashboard.png
	mkdir -p build
	if timeout 60 chromium --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$tmp/chromium" --window-size=1100,520 \
	    --virtual-time-budget=5000 --screenshot="$shot" "$web?snapshot&range=1h" \
	    >"$tmp/chromium.log" 2>&1 && [ -s "$shot" ]; then
		say "a screenshot of the dashboard: $shot"
	else
		say "no screenshot: chromium failed ($(tail -1 "$tmp/chromium.log"))"
	fi
else
	say "no screenshot: chromium is not installed"
fi

say "rows of this run per route"
sql() { scripts/mariadb.sh sql -N -B sm -e "$1"; }
ids() { sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' "$tmp/main.ndjson" \
    "$tmp/sim.ndjson" 2>/dev/null | sort; }
ids >"$tmp/sent"
sent=$(wc -l <"$tmp/sent")
in_list=$(sed "s/.*/'&'/" "$tmp/sent" | paste -sd, -)
[ -n "$in_list" ] || in_list="''"
sql "SELECT data_source, host, COUNT(*) FROM system_metrics
    WHERE sample_id IN ($in_list) GROUP BY data_source, host
    ORDER BY data_source, host" |
    awk '{ printf "  %s: %d rows from %s\n", $1, $3, $2 }' >&2 || true
sql "SELECT sample_id FROM system_metrics WHERE sample_id IN ($in_list)
    ORDER BY sample_id" >"$tmp/stored"
stored=$(wc -l <"$tmp/stored")
fired=$(grep -c '"state":"firing"' "$tmp/alerts.ndjson" 2>/dev/null || true)
resolved=$(grep -c '"state":"resolved"' "$tmp/alerts.ndjson" 2>/dev/null || true)
echo "demo: alerts: ${fired:-0} fired, ${resolved:-0} resolved" >&2 || :
grep -q '"rule":"cpu_usage > 50 for 2s".*"state":"firing"' \
    "$tmp/alerts.ndjson" 2>/dev/null ||
    echo "demo: (the CPU burst did not hold cpu_usage above 50% for 2 s" \
    "on $host)" >&2 || :
if ! diff "$tmp/sent" "$tmp/stored" >/dev/null; then
	echo "demo: FAILED: $sent samples sent, $stored rows hold them" >&2 || :
	exit 1
fi
echo "demo: $sent samples sent, $stored stored, each exactly once: ok" >&2 || :
