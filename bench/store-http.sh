#!/bin/sh
# sm-store --listen under wrk: one record per POST over keep-alive
# (bench/store-http.lua), 64 connections, 2 threads, into a private MariaDB
# with Debian's default, durable InnoDB settings (every answer follows a
# COMMIT).  Per run: requests/s, p50/p99 latency, rows really stored, the
# receiver's peak RSS (VmHWM) and its CPU time per request (utime + stime
# from /proc/PID/stat over the wrk run); then the medians.
#
# With --nginx, each run first puts the same wrk load on nginx's
# `return 200` (Debian's nginx-light, started privately: its conf, pid,
# logs and temp files in a temp dir, on a loopback port; never the
# system's), the cost of HTTP alone, and prints both CPU times per request
# and their ratio (nginx: master and workers summed).
#
#   bench/store-http.sh [--nginx] [--express] [SECONDS [REPS]]  default 20 3
#
# With --express, each run also puts it on the replaced system's Express
# API (bench/express-api: one autocommit INSERT a request through a mysql2
# pool of 10, into the replaced system's table in database sopes1_db
# (tests/fixtures/replaced-table.sql, three rows of its own in it); its
# npm packages installed into the work directory, from the npm registry),
# and prints sm-store's requests/s against it and both p99s.
#
# Environment: SM_BIN (use the sm-store there instead of building), CONNS
# (64), THREADS (wrk threads, 2), RECV_THREADS (sm-store --threads, 1),
# NGINX_WORKERS (1), DB_VIA (tcp: 127.0.0.1 with the default TLS mode, or
# socket).  nginx-light: `apt-get install nginx-light`.  Not part of
# `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
NGINX=0
EXPRESS=0
while [ $# -gt 0 ]; do
	case $1 in
	--nginx) NGINX=1 ;;
	--express) EXPRESS=1 ;;
	*) break ;;
	esac
	shift
done
SECS=${1:-20}
REPS=${2:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
RECV_THREADS=${RECV_THREADS:-1}
NGINX_WORKERS=${NGINX_WORKERS:-1}
DB_VIA=${DB_VIA:-tcp}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-store-http.XXXXXX")
RPID=
NPID=
XPID=

. "$TOP/bench/bench-lib.sh"
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null || true
	[ -n "$NPID" ] && { kill "$NPID"; wait "$NPID"; } 2>/dev/null || true
	[ -n "$XPID" ] && kill "$XPID" 2>/dev/null || true
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# utime + stime in clock ticks of the processes named (all their threads)
ticks() {
	for p in "$@"; do
		# the name in field 2 may hold spaces: count from its ")"
		sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }'
	done | awk '{ t += $1 } END { print t + 0 }'
}
HZ=$(getconf CLK_TCK)
# CPU microseconds per request: ticks, requests
per_req() { echo "$1 $2" | awk -v hz="$HZ" '{ printf("%.2f\n", $1 * 1e6 / hz / $2) }'; }
# context switches (voluntary + not) of all the threads of process $1
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# one wrk run against URL into $WORK/wrk.out; sets the BENCH variables
load() {
	wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" -s "$TOP/bench/store-http.lua" \
	    "$1" >"$WORK/wrk.out"
	line=$(grep '^BENCH ' "$WORK/wrk.out")
	eval "$(echo "$line" | sed 's/^BENCH //')"
	# shellcheck disable=SC2154
	[ "$errors_status" -eq 0 ] && [ "$errors_connect" -eq 0 ] ||
	    { cat "$WORK/wrk.out"; exit 1; }
	rps=$(echo "$requests $duration_us" |
	    awk '{ printf("%.0f", $1 / ($2 / 1e6)) }')
}
ms() { echo "$1" | awk '{ printf("%.1f", $1 / 1000) }'; }

command -v wrk >/dev/null 2>&1 || { echo "store-http: wrk missing" >&2; exit 2; }
if [ "$NGINX" = 1 ] && ! command -v nginx >/dev/null 2>&1 &&
    [ ! -x /usr/sbin/nginx ]; then
	echo "store-http: nginx missing (apt-get install nginx-light)" >&2
	exit 2
fi
if [ "$EXPRESS" = 1 ] && ! command -v npm >/dev/null 2>&1; then
	echo "store-http: npm missing (apt-get install npm)" >&2
	exit 2
fi
bench_bin sm-store
bench_db_start
if [ "$EXPRESS" = 1 ]; then
	cp -r "$TOP/bench/express-api" "$WORK/express"
	(cd "$WORK/express" && npm install --no-audit --no-fund >npm.log 2>&1) ||
	    { cat "$WORK/express/npm.log" >&2; exit 1; }
	mariadb --defaults-file="$WORK/db/admin.cnf" -e "
	    CREATE DATABASE sopes1_db;
	    GRANT ALL ON sopes1_db.* TO sm@localhost;
	    USE sopes1_db; $(cat "$TOP/tests/fixtures/replaced-table.sql")"
fi
[ "$DB_VIA" = socket ] && SM_DB=$SM_DB_SOCKET_URL
export SM_DB SM_DB_PASSWORD
xcount() {
	mariadb --defaults-file="$WORK/db/admin.cnf" -N sopes1_db \
	    -e 'SELECT COUNT(*) FROM system_metrics' 2>/dev/null || echo 0
}
count() {
	mariadb --defaults-file="$WORK/db/admin.cnf" -N sm \
	    -e 'SELECT COUNT(*) FROM system_metrics' 2>/dev/null || echo 0
}
# statements the server ran so far (all sessions): prepared statements
# executed (sm-store's INSERTs), then explicit COMMITs
commits() {
	mariadb --defaults-file="$WORK/db/admin.cnf" -N sm -e \
	    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
	    WHERE VARIABLE_NAME IN ('COM_STMT_EXECUTE', 'COM_COMMIT')
	    ORDER BY VARIABLE_NAME DESC" 2>/dev/null | paste -sd' ' -
}
DBPID=$(cat "$WORK/db/mysqld.pid")

# nginx's return 200, private: everything under $WORK/nginx
nginx_start() {
	N=$WORK/nginx
	mkdir -p "$N/logs"
	for try in 1 2 3 4 5; do
		NPORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
		cat >"$N/nginx.conf" <<-CONF
		daemon off;
		master_process on;
		worker_processes $NGINX_WORKERS;
		pid $N/nginx.pid;
		error_log $N/logs/error.log;
		events { worker_connections 2048; }
		http {
		    access_log off;
		    client_body_temp_path $N/body;
		    proxy_temp_path $N/proxy;
		    fastcgi_temp_path $N/fastcgi;
		    uwsgi_temp_path $N/uwsgi;
		    scgi_temp_path $N/scgi;
		    keepalive_requests 100000000;
		    keepalive_timeout 600s;
		    server {
		        listen 127.0.0.1:$NPORT;
		        location / { return 200; }
		    }
		}
		CONF
		rm -f "$N/nginx.pid"
		nginx -p "$N" -e "$N/logs/error.log" -c "$N/nginx.conf" \
		    2>>"$N/logs/start.err" &
		NPID=$!
		i=0
		while [ ! -s "$N/nginx.pid" ] && [ $i -lt 30 ] &&
		    kill -0 "$NPID" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.2
		if kill -0 "$NPID" 2>/dev/null; then
			return 0
		fi
		wait "$NPID" 2>/dev/null || true
		NPID=
	done
	cat "$N/logs/error.log" "$N/logs/start.err" >&2
	exit 1
}
nginx_stop() {
	kill -QUIT "$NPID" 2>/dev/null || true
	wait "$NPID" 2>/dev/null || true
	NPID=
}

: >"$WORK/rps"; : >"$WORK/p50"; : >"$WORK/p99"; : >"$WORK/rss"
: >"$WORK/ratio"; : >"$WORK/cpu"; : >"$WORK/dbcpu"
: >"$WORK/ngx_rps"; : >"$WORK/ngx_p99"; : >"$WORK/ngx_cpu"; : >"$WORK/x"
: >"$WORK/x_rps"; : >"$WORK/x_p99"; : >"$WORK/x_cpu"; : >"$WORK/xx"
for r in $(seq "$REPS"); do
	if [ "$NGINX" = 1 ]; then
		nginx_start
		pids="$NPID $(pgrep -P "$NPID" | tr '\n' ' ')"
		# shellcheck disable=SC2086
		t0=$(ticks $pids)
		load "http://127.0.0.1:$NPORT/metrics"
		# shellcheck disable=SC2086
		t1=$(ticks $pids)
		nginx_stop
		ncpu=$(per_req $((t1 - t0)) "$requests")
		echo "run $r nginx: $rps requests/s, p50 $(ms "$p50_us") ms," \
		    "p99 $(ms "$p99_us") ms, CPU $ncpu us/request" \
		    "($NGINX_WORKERS worker(s))"
		echo "$rps" >>"$WORK/ngx_rps"
		echo "$p99_us" >>"$WORK/ngx_p99"
		echo "$ncpu" >>"$WORK/ngx_cpu"
	fi
	if [ "$EXPRESS" = 1 ]; then
		rm -f "$WORK/xport"
		DB_SOCKET=${SM_DB_SOCKET_URL#*socket=} DB_USER=sm \
		    DB_PASSWORD=$SM_DB_PASSWORD DB_NAME=sopes1_db \
		    node "$WORK/express/server.js" "$WORK/xport" \
		    2>"$WORK/express.err" &
		XPID=$!
		i=0
		while [ ! -s "$WORK/xport" ] && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -s "$WORK/xport" ] || { cat "$WORK/express.err"; exit 1; }
		xbefore=$(xcount)
		t0=$(ticks "$XPID")
		BENCH_WIRE=es load "http://127.0.0.1:$(cat "$WORK/xport")/metrics"
		t1=$(ticks "$XPID")
		kill "$XPID"
		wait "$XPID" 2>/dev/null || true
		XPID=
		xcpu=$(per_req $((t1 - t0)) "$requests")
		echo "run $r express: $rps requests/s, p50 $(ms "$p50_us") ms," \
		    "p99 $(ms "$p99_us") ms, $requests answered 201," \
		    "$(( $(xcount) - xbefore )) rows stored, CPU $xcpu us/request"
		echo "$rps" >>"$WORK/x_rps"
		echo "$p99_us" >>"$WORK/x_p99"
		echo "$xcpu" >>"$WORK/x_cpu"
	fi
	rm -f "$WORK/port"
	"$WORK/bin/sm-store" --listen 127.0.0.1:0 --port-file "$WORK/port" \
	    --threads "$RECV_THREADS" \
	    2>"$WORK/recv.err" &
	RPID=$!
	while [ ! -s "$WORK/port" ]; do sleep 0.1; done
	before=$(count)
	c0=$(commits)
	s0=$(switches "$RPID")
	t0=$(ticks "$RPID")
	d0=$(ticks "$DBPID")
	load "http://127.0.0.1:$(cat "$WORK/port")/metrics"
	t1=$(ticks "$RPID")
	d1=$(ticks "$DBPID")
	s1=$(switches "$RPID")
	c1=$(commits)
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$RPID/status")
	kill -TERM "$RPID"
	wait "$RPID" || { cat "$WORK/recv.err"; exit 1; }
	RPID=
	stored=$(( $(count) - before ))
	cpu=$(per_req $((t1 - t0)) "$requests")
	dbcpu=$(per_req $((d1 - d0)) "$requests")
	echo "run $r sm-store: $rps requests/s, p50 $(ms "$p50_us") ms," \
	    "p99 $(ms "$p99_us") ms, $requests answered 200," \
	    "$stored rows stored, peak RSS $rss KiB," \
	    "CPU $cpu us/request (mariadbd $dbcpu)"
	# the receiver's own cost per transaction shows as fewer requests
	# per INSERT (slower commits: smaller groups); a COMMIT is a round
	# trip of its own (an INSERT alone commits itself)
	echo "run $r sm-store: $(echo "$requests $c0 $c1" |
	    awk '{ i = $4 - $2; c = $5 - $3
		printf("%.1f requests per INSERT, %.1f COMMITs per 1000",
		    $1 / (i > 0 ? i : 1), c * 1000 / $1) }') requests," \
	    "$(echo "$((s1 - s0)) $requests" |
	    awk '{ printf("%.2f", $1 / $2) }') context switches per request"
	echo "$rps" >>"$WORK/rps"
	echo "$p50_us" >>"$WORK/p50"
	echo "$p99_us" >>"$WORK/p99"
	echo "$rss" >>"$WORK/rss"
	echo "$cpu" >>"$WORK/cpu"
	echo "$dbcpu" >>"$WORK/dbcpu"
	# rows per answered request: >= 1 (answers in flight when wrk stopped)
	echo "$stored $requests" | awk '{ printf("%.4f\n", $1 / $2) }' \
	    >>"$WORK/ratio"
	if [ "$NGINX" = 1 ]; then
		echo "$cpu $ncpu" | awk '{ printf("%.2f\n", $1 / $2) }' \
		    >>"$WORK/x"
		echo "run $r: sm-store / nginx CPU per request $(tail -n 1 "$WORK/x")"
	fi
	if [ "$EXPRESS" = 1 ]; then
		echo "$rps $(tail -n 1 "$WORK/x_rps")" |
		    awk '{ printf("%.2f\n", $1 / $2) }' >>"$WORK/xx"
		echo "run $r: sm-store / Express requests/s $(tail -n 1 "$WORK/xx")"
	fi
done
echo "median of $REPS runs of ${SECS} s, $CONNS connections, $THREADS wrk" \
    "threads, DB over $DB_VIA:"
echo "  requests/s (= records/s)  $(median <"$WORK/rps")"
echo "  p50 latency               $(median <"$WORK/p50") us"
echo "  p99 latency               $(median <"$WORK/p99") us"
echo "  rows stored / answered    $(median <"$WORK/ratio")"
echo "  receiver peak RSS         $(median <"$WORK/rss") KiB"
echo "  receiver CPU / request    $(median <"$WORK/cpu") us"
echo "  mariadbd CPU / request    $(median <"$WORK/dbcpu") us"
if [ "$NGINX" = 1 ]; then
	echo "  nginx requests/s          $(median <"$WORK/ngx_rps")"
	echo "  nginx p99 latency         $(median <"$WORK/ngx_p99") us"
	echo "  nginx CPU / request       $(median <"$WORK/ngx_cpu") us"
	echo "  sm-store / nginx CPU      $(median <"$WORK/x") (median of per-run ratios)"
fi
if [ "$EXPRESS" = 1 ]; then
	echo "  Express requests/s        $(median <"$WORK/x_rps")"
	echo "  Express p99 latency       $(median <"$WORK/x_p99") us"
	echo "  Express CPU / request     $(median <"$WORK/x_cpu") us"
	echo "  sm-store / Express req/s  $(median <"$WORK/xx") (median of per-run ratios)"
fi
