#!/bin/sh
# Ctrl-C keeps the README's promises: `make demo` in a process group of its
# own, SIGINT to the whole group (as a terminal sends it) once the demo has
# delivered samples, three ways: plain, `make demo | tee`, and
# DEMO_SECONDS=0.  Each must stop its readers, deliver and check every
# sample ("each exactly once: ok"), and leave no process (sm-*, mariadbd,
# chromium, ...: anything carrying this run's tag in its environment) and
# no temporary directory behind.  The demo's own MariaDB (SM_DB_DIR here,
# SM_DB_PORT unset: 33306 or the next free port) must outlive the drain and
# be stopped at the end; the port the demo would take first is held by
# another listener here (as by another checkout's demo), and the demo
# must take the next free one.  About 20 s a way.
. "$(dirname "$0")/../lib.sh"

tag=sm-demo-ctrlc-$$
db=$SM_TMP/db
tmpdir=$SM_TMP/tmp
mkdir -p "$tmpdir"

# the processes this run started, by the tag in their environment
tagged() {
	grep -lsF "SM_DEMO_TEST=$tag" /proc/[0-9]*/environ 2>/dev/null |
	    sed 's,^/proc/\([0-9]*\)/environ$,\1,' || true
}
holder=
cleanup() {
	[ -z "$holder" ] || kill "$holder" 2>/dev/null || :
	for p in $(tagged); do kill -KILL "$p" 2>/dev/null || :; done
	SM_DB_DIR=$db "$SM_TOP"/scripts/mariadb.sh stop 2>/dev/null || :
}
trap cleanup EXIT

# the port the demo would take first (33306 or the next free one), held
held=33306
while [ -n "$(ss -Htln "sport = :$held")" ]; do
	held=$((held + 1))
done
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(600)' "$held" &
holder=$!
i=0
until [ -n "$(ss -Htln "sport = :$held")" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || fail "could not hold port $held"
	sleep 0.1
done

# way NAME SECONDS PIPE: run `make demo` (DEMO_SECONDS=SECONDS; PIPE: into
# tee or not) in a session and process group of its own, SIGINT the group
# after 20 samples were delivered, and check what it leaves
way() {
	name=$1 err=$SM_TMP/$1.err log=$SM_TMP/$1.log
	if [ "$3" = tee ]; then
		cmd="make -s demo 2>'$err' | tee '$log' >/dev/null"
	else
		cmd="exec make -s demo 2>'$err' >'$log'"
	fi
	# a background job of a shell without job control ignores SIGINT (and
	# passes that on): a terminal's shell does not, so neither does this
	(cd "$SM_TOP" && exec env -u SM_DB_PORT SM_DEMO_TEST="$tag" \
	    SM_DB_DIR="$db" TMPDIR="$tmpdir" DEMO_SECONDS="$2" \
	    python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' bash -c "$cmd") &
	pid=$!		# in a session and process group of its own: $pid
	i=0
	until grep -q '^sm-split: sent 20/20' "$err" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le 600 ] && kill -0 "$pid" 2>/dev/null ||
		    fail "$name: no 20 samples delivered in 60 s: $(cat "$err")"
		sleep 0.1
	done
	kill -INT "-$pid"
	# the drain, the screenshot, the check and the stops: 60 s at most
	# (its sleep killed with it: no process left behind)
	( trap 'kill $s 2>/dev/null; exit 0' TERM
	  sleep 60 & s=$!
	  wait $s && kill -KILL "-$pid" 2>/dev/null ) &
	watchdog=$!
	rc=0
	wait "$pid" || rc=$?
	kill "$watchdog" 2>/dev/null || :
	# make re-raises the SIGINT once its recipe is done: 130; an "Error"
	# line from make would mean demo.sh itself failed
	[ "$rc" -eq 130 ] || fail "$name: exit $rc, want 130: $(cat "$err")"
	! grep -q '^make: \*\*\*' "$err" || fail "$name: $(cat "$err")"
	grep -q '^demo: stopping: the sample readers first' "$err" ||
	    fail "$name: no stop line: $(cat "$err")"
	grep -qE '^demo: [0-9]+ samples sent, [0-9]+ stored, each exactly' \
	    "$err" && grep -q 'each exactly once: ok$' "$err" || fail "$name: no check: $(cat "$err")"
	port=$(sed -n 's,.*SM_DB=mysql://sm@127\.0\.0\.1:\([0-9]*\)/sm.*,\1,p' \
	    "$err")
	[ -n "$port" ] && [ "$port" != "$held" ] ||
	    fail "$name: the database on \"$port\", not a free port" \
	    "($held held)"
	grep -q '^demo: stopped the private MariaDB$' "$err" ||
	    fail "$name: the database was not stopped: $(cat "$err")"
	# the database outlived the drain: no receiver answered 503
	! grep -qE '^sm-split: .*(retried [1-9]|failed over [1-9])|: 503|unavail' \
	    "$err" ||
	    fail "$name: the database went first: $(cat "$err")"
	left=$(tagged)
	[ -z "$left" ] ||
	    fail "$name: left running: $(ps -o pid,args -p "$(echo $left |
	        tr ' ' ,)")"
	[ -z "$(ls -A "$tmpdir")" ] ||
	    fail "$name: left in TMPDIR: $(ls -A "$tmpdir")"
	echo "$name: database on port $port ($held held):" \
	    "$(grep 'each exactly once' "$err")"
}

way plain 24 no
way tee 24 tee
way forever 0 tee
