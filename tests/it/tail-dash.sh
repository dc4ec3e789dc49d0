#!/bin/sh
# sm-tail -d driven in tmux: gauges and counts for known rows, the warning
# state, sources, hosts, stale hosts and the sparklines' span, resizing,
# and the database going away and coming
# back (a MariaDB of this test's own, so that stopping it disturbs no
# other test); sm-tail -f through the same outage; the server hanging
# (SIGSTOP): the screen stays alive and q still quits at once; a fault of
# the configuration still ends it.
. "$(dirname "$0")/tail-lib.sh"

command -v tmux >/dev/null || fail "tmux is needed (scripts/deps.sh)"

# A private server on a free port: a few random tries.
SM_DB_DIR=$SM_TMP/db
export SM_DB_DIR
tries=0
while :; do
	SM_DB_PORT=$(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 40000 ))
	export SM_DB_PORT
	"$SM_TOP"/scripts/mariadb.sh start >"$SM_TMP/db.log" 2>&1 && break
	tries=$((tries + 1))
	[ $tries -lt 5 ] || fail "private MariaDB: $(cat "$SM_TMP/db.log")"
	"$SM_TOP"/scripts/mariadb.sh stop >/dev/null 2>&1 || true
done
eval "$("$SM_TOP"/scripts/mariadb.sh env)"
TMUX_SOCK=$SM_TMP/tmux.sock
fpid=""
hung=""
cleanup() {
	[ -z "$hung" ] || kill -CONT "$hung" 2>/dev/null || true
	[ -z "$fpid" ] || kill -TERM "$fpid" 2>/dev/null || true
	for sock in "$SM_TMP"/tmux*.sock; do
		tmux -S "$sock" kill-server 2>/dev/null || true
	done
	"$SM_TOP"/scripts/mariadb.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# record HOST SOURCE CPU RAM_USED: a record of known figures (RAM of 8000
# MiB, 321 processes: 7 running, 300 sleeping, 4 stopped, 2 zombies)
stored=0
record() {
	printf '{"id":"000000dd-0000-7000-8000-%012d",' $stored
	printf '"ts":"2026-11-26T12:00:%02d.000Z",' $((stored % 60))
	printf '"host":"%s","collector":"procfs",' "$1"
	printf '"cpu_usage":%s,"cpu_free":%s,' "$3" \
	    "$(echo "100 $3" | awk '{ print $1 - $2 }')"
	printf '"ram_total":8000,"ram_free":%d,"ram_available":%d,' \
	    $((8000 - $4 - 500)) $((8000 - $4))
	printf '"ram_used":%d,"total_processes":321,"running_processes":7,' "$4"
	printf '"sleeping_processes":300,"stopped_processes":4,'
	printf '"zombie_processes":2}\n'
}

# store HOST SOURCE CPU RAM_USED: the next one, stored by SOURCE
store() {
	stored=$((stored + 1))
	record "$@" |
	    "$SM_BIN/sm-store" --source "$2" 2>>"$SM_TMP/store.log" ||
	    fail "sm-store: $(cat "$SM_TMP/store.log")"
}

pane=dash
screen() {
	tmux -S "$TMUX_SOCK" capture-pane -p -t "$pane" >"$SM_TMP/screen"
}
# shows TEXT: the dashboard shows TEXT now
shows() {
	screen && grep -qF -- "$1" "$SM_TMP/screen"
}
see() {
	wait_until 30 "the dashboard to show '$1'" shows "$1"
}
# line_with WORD: the screen's line starting with WORD
line_with() {
	grep -- "^$1" "$SM_TMP/screen" | head -n 1
}

echo "known rows, then the dashboard in a 100x32 tmux"
store alpha route_a 42.5 2000
tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s dash -x 100 -y 32 \
    "env TERM=screen LC_ALL=C.UTF-8 $SM_BIN/sm-tail -d --interval 0.2 \
    --warn 80 --db '$SM_DB' --defaults-file '$SM_DB_DEFAULTS_FILE' \
    2>'$SM_TMP/dash.err'; echo \$? >'$SM_TMP/dash.rc'"
see "database  sm@127.0.0.1:$SM_DB_PORT/sm connected"
see "total 321   running 7   sleeping 300   stopped 4   zombie 2"
see "total 8000   used 2000   free 5500   available 6000"
line_with CPU | grep -q '\] *42.50%$' || fail "CPU gauge: $(line_with CPU)"
line_with RAM | grep -q '\] *25.00%$' || fail "RAM gauge: $(line_with RAM)"
grep -q "^host      alpha" "$SM_TMP/screen" ||
    fail "host: $(cat "$SM_TMP/screen")"
grep -q "^newest    2026-11-26 12:00:01 UTC" "$SM_TMP/screen" ||
    fail "newest: $(cat "$SM_TMP/screen")"
# 42.5 of 78 cells
bar=$(line_with CPU | sed -E 's/.*\[([#.]*)\].*/\1/')
[ "${#bar}" -eq 78 ] || fail "gauge width ${#bar}, want 78"
[ "$(echo "$bar" | tr -cd '#' | wc -c)" -eq 33 ] || fail "gauge: $bar"

echo "above --warn 80: WARN, in the warning colour; below: neither"
store alpha route_a 91.5 6240
see "91.50% WARN"
line_with RAM | grep -q '\] *78.00%$' || fail "RAM: $(line_with RAM)"
tmux -S "$TMUX_SOCK" capture-pane -p -e -t dash >"$SM_TMP/screen.e"
grep 'CPU' "$SM_TMP/screen.e" | grep -q "$(printf '\033')\[31m" ||
    fail "the CPU gauge is not red: $(grep CPU "$SM_TMP/screen.e" | od -c)"
grep 'RAM .*78.00' "$SM_TMP/screen.e" | grep -q "$(printf '\033')\[31m" &&
    fail "the RAM gauge is red below the threshold"
store alpha route_a 50 6800
see "85.00% WARN"

echo "rows per second and the split between sources"
store alpha route_a 10 1000
store alpha route_b 10 1000
see "route_a 75.0% (3)"
see "route_b 25.0% (1)"

echo "several hosts: the newest row of each, Tab shows the next"
store beta route_b 12.25 4000
see "  beta                 2026-11-26 12:00:06   12.25   50.00  route_b"
grep -q "^> alpha " "$SM_TMP/screen" || fail "alpha not selected"
grep -q "^host      alpha  (1 of 2)" "$SM_TMP/screen" ||
    fail "host line: $(cat "$SM_TMP/screen")"
tmux -S "$TMUX_SOCK" send-keys -t dash Tab
see "host      beta  (2 of 2)"
line_with CPU | grep -q '\] *12.25%$' || fail "beta CPU: $(line_with CPU)"
tmux -S "$TMUX_SOCK" send-keys -t dash Left
see "host      alpha  (1 of 2)"

echo "stale as on the page (3 intervals, 10 s at least); the sparklines' span"
# alpha's rows are days old: stale, in the table and in the detailed view
see "STALE: no row for more than 10 s (3 times its interval, 10 s at least)"
see "span      4 s, 5 samples: 12:00:01 to 12:00:05 UTC"
line_with "> alpha " | grep -q "route_b  STALE$" ||
    fail "alpha not stale: $(line_with "> alpha ")"
# store_at HOST SECONDS_AGO: a row of HOST sampled that long ago
store_at() {
	stored=$((stored + 1))
	record "$1" route_a 5 1000 |
	    sed "s/\"ts\":\"[^\"]*\"/\"ts\":\"$(date -u -d "@$(($(date +%s) - $2))" \
	    +%Y-%m-%dT%H:%M:%S.000Z)\"/" |
	    "$SM_BIN/sm-store" --source route_a 2>>"$SM_TMP/store.log" ||
	    fail "sm-store: $(cat "$SM_TMP/store.log")"
}
store_at gamma 0
store_at delta 180
see "  gamma  "
see "  delta  "
line_with "  delta " | grep -q "route_a  STALE$" ||
    fail "silent for 3 minutes, not stale: $(line_with "  delta ")"
line_with "  gamma " | grep -q "route_a$" ||
    fail "gamma stale: $(line_with "  gamma ")"

echo "resizing redraws to the new size"
tmux -S "$TMUX_SOCK" resize-window -t dash -x 120 -y 40
wait_until 30 "a wider gauge" sh -c "tmux -S '$TMUX_SOCK' capture-pane -p \
    -t dash | grep '^CPU  \[' | grep -q '\[[#.]\{98\}\]'"
tmux -S "$TMUX_SOCK" resize-window -t dash -x 50 -y 10
see "too small: 50x10"
tmux -S "$TMUX_SOCK" resize-window -t dash -x 100 -y 32
see "total 321   running 7"

echo "the database goes away: reconnecting; it comes back: resumed"
"$SM_BIN/sm-tail" -f -n 1 --interval 0.1 >"$SM_TMP/f.out" 2>"$SM_TMP/f.err" &
fpid=$!
wait_until 30 "sm-tail -f to start" lines_at_least "$SM_TMP/f.out" 1
"$SM_TOP"/scripts/mariadb.sh stop
see "reconnecting (attempt"
# the last figures stay on screen
shows "total 321   running 7" || fail "figures gone while reconnecting"
wait_until 30 "sm-tail -f to say it is reconnecting" \
    has_line "$SM_TMP/f.err" "; reconnecting"
"$SM_TOP"/scripts/mariadb.sh start
see "database  sm@127.0.0.1:$SM_DB_PORT/sm connected"
store alpha route_a 33.33 2000
see "33.33%"
wait_until 30 "sm-tail -f to resume" \
    has_line "$SM_TMP/f.out" "\"cpu_usage\":33.33"
kill -TERM $fpid
wait $fpid || fail "sm-tail -f: exit $?"
fpid=""
has_line "$SM_TMP/f.err" "connected again" || fail "-f: $(cat "$SM_TMP/f.err")"
# the row before the outage once, the one after once
[ "$(wc -l <"$SM_TMP/f.out")" -eq 2 ] ||
    fail "-f printed: $(cat "$SM_TMP/f.out")"

echo "q quits, status 0"
tmux -S "$TMUX_SOCK" send-keys -t dash q
wait_until 30 "sm-tail -d to exit" test -s "$SM_TMP/dash.rc"
[ "$(cat "$SM_TMP/dash.rc")" -eq 0 ] ||
    fail "sm-tail -d exited $(cat "$SM_TMP/dash.rc"): $(cat "$SM_TMP/dash.err")"

# start_dash NAME [URL]: another sm-tail -d (on URL, else $SM_DB), in tmux
# session NAME, through a script that records its pid ($SM_TMP/NAME.pid)
# and execs it; its exit status goes to $SM_TMP/NAME.rc.  The panes looked
# at become NAME's.
start_dash() {
	cat >"$SM_TMP/$1.sh" <<EOF
echo \$\$ >'$SM_TMP/$1.pid'
exec env TERM=screen LC_ALL=C.UTF-8 '$SM_BIN/sm-tail' -d --interval 0.2 \\
    --db '${2:-$SM_DB}' --defaults-file '$SM_DB_DEFAULTS_FILE' \\
    2>'$SM_TMP/$1.err'
EOF
	# a tmux server of its own: the last one may still be exiting after
	# its only session quit, and a new session on its socket then fails
	TMUX_SOCK=$SM_TMP/tmux-$1.sock
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s "$1" -x 100 -y 32 \
	    "sh '$SM_TMP/$1.sh'; echo \$? >'$SM_TMP/$1.rc'"
	pane=$1
}

# quits_fast NAME: q ends it within 6 s (a second's join, with room for
# the sanitizers' exit on a loaded machine) -- the I/O time-out, which a
# dashboard polling on its UI thread waited out, is 10 s -- with status 0.
quits_fast() {
	wait_until 10 "$1's pid" test -s "$SM_TMP/$1.pid"
	pid=$(cat "$SM_TMP/$1.pid")
	start=$(date +%s%N)
	tmux -S "$TMUX_SOCK" send-keys -t "$1" q
	while kill -0 "$pid" 2>/dev/null; do
		[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 6000 ] ||
		    fail "$1: still running 6 s after q"
		sleep 0.05
	done
	echo "    $1: gone $(( ($(date +%s%N) - start) / 1000000 )) ms after q"
	wait_until 10 "$1's exit status" test -s "$SM_TMP/$1.rc"
	[ "$(cat "$SM_TMP/$1.rc")" -eq 0 ] ||
	    fail "$1 exited $(cat "$SM_TMP/$1.rc"): $(cat "$SM_TMP/$1.err")"
}

echo "the server hangs (SIGSTOP): the screen stays alive and says it waits"
start_dash hang
see "database  sm@127.0.0.1:$SM_DB_PORT/sm connected"
see "total 321   running 7"
hung=$(cat "$SM_DB_DIR/mysqld.pid")
kill -STOP "$hung"
see "database  sm@127.0.0.1:$SM_DB_PORT/sm waiting for the server ("
shows "total 321   running 7" || fail "figures gone while waiting"
# the count goes on: the screen is redrawn while the poll hangs
waited=$(grep -o 'waiting for the server ([0-9]* s)' "$SM_TMP/screen")
counts_on() {
	screen && grep -q 'waiting for the server (' "$SM_TMP/screen" &&
	    ! grep -qF "$waited" "$SM_TMP/screen"
}
wait_until 10 "the dashboard to count on from '$waited'" counts_on
echo "q quits at once while a poll hangs"
quits_fast hang

echo "started while the server hangs: connecting, and q quits at once"
start_dash stuck
see "database  sm@127.0.0.1:$SM_DB_PORT/sm connecting (attempt "
quits_fast stuck
kill -CONT "$hung"
hung=""

echo "a fault of the configuration still ends it: status 2, the reason"
start_dash denied "${SM_DB%/*}/sm_no_such_db"
wait_until 30 "the dashboard to give up" test -s "$SM_TMP/denied.rc"
[ "$(cat "$SM_TMP/denied.rc")" -eq 2 ] ||
    fail "denied: exit $(cat "$SM_TMP/denied.rc"): $(cat "$SM_TMP/denied.err")"
has_line "$SM_TMP/denied.err" \
    "sm-tail: sm@127.0.0.1:$SM_DB_PORT/sm_no_such_db: connect: Access denied" ||
    fail "denied: $(cat "$SM_TMP/denied.err")"
