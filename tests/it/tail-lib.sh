# Helpers for the sm-tail integration tests (sourced, not run).
. "$SM_TOP/tests/lib.sh"

eval "$("$SM_TOP"/scripts/mariadb.sh env)"

# The test server's TCP port, from $SM_DB.
db_port() {
	echo "$SM_DB" | sed -E 's|.*:([0-9]+)/.*|\1|'
}

# tail_db NAME: a fresh database NAME on the test server, all privileges
# to user sm; prints its URL.  Dropped by tail_db_drop.
tail_db() {
	"$SM_TOP"/scripts/mariadb.sh sql -e "DROP DATABASE IF EXISTS $1;
	    CREATE DATABASE $1;
	    GRANT ALL ON $1.* TO 'sm'@'localhost';
	    GRANT ALL ON $1.* TO 'sm'@'127.0.0.1';" >/dev/null
	echo "${SM_DB%/*}/$1"
}

# puppeteer_ready: node, Debian's chromium, and puppeteer-core under
# tests/web/node_modules (npm ci from package-lock.json the first time)
puppeteer_ready() {
	command -v node >/dev/null ||
	    fail "no node: scripts/deps.sh installs nodejs"
	[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium: scripts/deps.sh"
	_web=$SM_TOP/tests/web
	# one install at a time: make check runs two tests at once, and npm
	# ci starts by removing node_modules
	(
		flock 9 || exit 1
		if [ ! -d "$_web/node_modules/puppeteer-core" ] || [ \
		    "$_web/package-lock.json" -nt \
		    "$_web/node_modules/.package-lock.json" ]; then
			cd "$_web" && timeout 300 npm ci --no-audit \
			    --no-fund >/dev/null
		fi
	) 9>"$_web/.npm-lock" || fail "npm ci in tests/web failed"
}

# cpu_row URL HOST CPU: one row of HOST with this CPU, now, stored in URL
cpu_row() {
	printf '{"ts":"%s","host":"%s","cpu_usage":%s,"cpu_free":%s,"ram_total":100,"ram_free":10,"ram_used":50,"total_processes":3,"running_processes":1,"sleeping_processes":2,"stopped_processes":0,"zombie_processes":0}\n' \
	    "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$2" "$3" "$((100 - $3))" |
	    "$SM_BIN/sm-store" --db "$1" 2>/dev/null
}

tail_db_drop() {
	"$SM_TOP"/scripts/mariadb.sh sql -e "DROP DATABASE IF EXISTS $1" \
	    >/dev/null 2>&1 || true
}

# tail_web_db NAME: URL, a database NAME of the test's own, dropped at
# exit, after a TERM to the sm-tail --listen whose pid the test puts in
# $web and to a helper of the test's whose pid it puts in $helper (none:
# empty).
tail_web_db() {
	NAME=$1
	web=
	helper=
	trap 'tail_web_cleanup' EXIT
	URL=$(tail_db "$NAME")
}
tail_web_cleanup() {
	[ -z "$helper" ] || kill "$helper" 2>/dev/null || true
	[ -z "$web" ] || kill -TERM "$web" 2>/dev/null || true
	tail_db_drop "$NAME"
}

# sql_as_sm DB ARGS...: the mariadb client as user sm on database DB.
sql_as_sm() {
	db=$1
	shift
	mariadb --defaults-file="$SM_DB_DEFAULTS_FILE" -h 127.0.0.1 \
	    -P "$(db_port)" "$db" "$@"
}

# gen_records N TAG START HOST: N canonical records, ids TAG-...-START..,
# sample times 10 ms apart from 2026-11-26T10:00:00Z + START * 10 ms,
# figures with at most two decimals (DECIMAL(5,2) keeps them whole).
gen_records() {
	awk -v n="$1" -v tag="$2" -v start="$3" -v host="$4" '
	BEGIN {
		for (i = start; i < start + n; i++) {
			cpu = (i * 7) % 100 + (i % 4) / 4
			used = 1000 + 4 * ((i * 13) % 500)
			printf "{\"id\":\"%08x-0000-7000-8000-%012x\"," \
			    "\"ts\":\"2026-11-26T10:%02d:%02d.%03dZ\"," \
			    "\"host\":\"%s\",\"collector\":\"procfs\"," \
			    "\"cpu_usage\":%s,\"cpu_free\":%s," \
			    "\"ram_total\":4000,\"ram_free\":%d," \
			    "\"ram_available\":%d,\"ram_used\":%d," \
			    "\"ram_percentage\":%s,\"total_processes\":%d," \
			    "\"running_processes\":%d," \
			    "\"sleeping_processes\":%d," \
			    "\"stopped_processes\":1,\"zombie_processes\":0}\n",
			    tag, i, int(i / 6000) % 60, int(i / 100) % 60,
			    (i % 100) * 10, host, cpu, 100 - cpu,
			    4000 - used - 500, 4000 - used, used, used / 40,
			    110 + i % 50, 2 + i % 3, 90 + i % 7
		}
	}'
}

# gen_sql_txs ROWS TAG HOST SOURCE SEED: SQL for the mariadb client that
# commits ROWS rows (ids as gen_records, from 0) in transactions of 1 to
# 200 rows, most of them split in two INSERTs with a SLEEP of up to 0.2 s
# between them, holding their ids while others commit higher ones; every
# seventh transaction rolls back instead (its ids burned; sample ids from
# 1000000 on, never stored).
gen_sql_txs() {
	awk -v total="$1" -v tag="$2" -v host="$3" -v source="$4" \
	    -v seed="$5" '
	function row(i,    cpu, used, t) {
		cpu = (i * 7) % 100 + (i % 4) / 4
		used = 1000 + 4 * ((i * 13) % 500)
		t = sprintf("2026-11-26 10:%02d:%02d", int(i / 6000) % 60,
		    int(i / 100) % 60)
		return sprintf("(4000,%d,%d,%s,%s,%s,%d,%d,%d,0,1," \
		    "\"%s\",\"%08x-0000-7000-8000-%012x\",\"%s\"," \
		    "\"procfs\",\"%s.%03d\",%d)", 4000 - used - 500, used,
		    used / 40, cpu, 100 - cpu, 2 + i % 3, 110 + i % 50,
		    90 + i % 7, source, tag, i, host, t, (i % 100) * 10,
		    4000 - used)
	}
	function insert(from, n,    i, s) {
		s = "INSERT INTO system_metrics (" cols ") VALUES "
		for (i = from; i < from + n; i++)
			s = s (i > from ? "," : "") row(i)
		print s ";"
	}
	BEGIN {
		cols = "ram_total, ram_free, ram_used, ram_percentage, " \
		    "cpu_usage, cpu_free, running_processes, " \
		    "total_processes, sleeping_processes, " \
		    "zombie_processes, stopped_processes, data_source, " \
		    "sample_id, host, collector, sampled_at, ram_available"
		srand(seed)
		sizes[0] = 1; sizes[1] = 3; sizes[2] = 10; sizes[3] = 50
		sizes[4] = 200; sizes[5] = 2; sizes[6] = 120
		next_id = 0
		burned = 1000000
		for (tx = 0; next_id < total; tx++) {
			n = sizes[int(rand() * 7)]
			rollback = tx % 7 == 6
			if (!rollback && next_id + n > total)
				n = total - next_id
			from = rollback ? burned : next_id
			first = n > 1 ? int(n / 2) : n
			print "BEGIN;"
			insert(from, first)
			printf "DO SLEEP(%.2f);\n", rand() * 0.2
			if (n > first)
				insert(from + first, n - first)
			if (rollback) {
				print "ROLLBACK;"
				burned += n
			} else {
				print "COMMIT;"
				next_id += n
			}
			if (rand() < 0.3)
				printf "DO SLEEP(%.2f);\n", rand() * 0.05
		}
	}'
}

# ids: the sample ids in NDJSON on stdin, one a line.
ids() {
	sed -E 's/.*"id":"([^"]+)".*/\1/'
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds;
# fail after SECONDS saying WHAT was awaited.
wait_until() {
	limit=$(( $1 * 10 ))
	what=$2
	shift 2
	n=0
	until "$@"; do
		n=$((n + 1))
		[ "$n" -lt "$limit" ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

# lines_at_least FILE N: FILE has N lines or more (a command started in
# the background may not have made it yet).
lines_at_least() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# has_line FILE TEXT: FILE holds a line containing TEXT.
has_line() {
	grep -qsF -- "$2" "$1"
}

# follow_start NAME ARGS...: $T ARGS in the background (its pid in pid_NAME
# and added to pids), its output in $SM_TMP/NAME.out and NAME.err
follow_start() {
	f=$1
	shift
	$T "$@" >"$SM_TMP/$f.out" 2>"$SM_TMP/$f.err" &
	pids="$pids $!"
	eval "pid_$f=$!"
}

# follow_stop NAME: SIGTERM, and it must exit 0 having said nothing (or
# anything, with FOLLOW_SAYS set)
follow_stop() {
	eval "p=\$pid_$1"
	kill -TERM "$p"
	wait "$p" || fail "sm-tail -f ($1) exited $?: $(cat "$SM_TMP/$1.err")"
	[ -n "${FOLLOW_SAYS:-}" ] || [ ! -s "$SM_TMP/$1.err" ] ||
	    fail "sm-tail -f ($1) said: $(cat "$SM_TMP/$1.err")"
}

# one_row TAG N: a row as the mariadb client inserts it: tag TAG, number N
# (a digit), host h9.
one_row() {
	gen_sql_txs 1 "$1" h9 held 1 | grep '^INSERT' |
	    sed "s/0000-7000-8000-000000000000/0000-7000-8000-00000000000$2/"
}

# trx_writing DB: a transaction on database DB has inserted and is open.
trx_writing() {
	[ "$("$SM_TOP"/scripts/mariadb.sh sql -N -e "SELECT COUNT(*)
	    FROM information_schema.INNODB_TRX t
	    JOIN information_schema.PROCESSLIST p
	    ON t.trx_mysql_thread_id = p.ID
	    WHERE p.DB = '$1' AND t.trx_rows_modified > 0")" -gt 0 ]
}

# follow_cleanup DB: stop what follow_start and session_open started, and
# drop DB.
follow_cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	exec 3>&- 2>/dev/null || true
	tail_db_drop "$1"
}

# session_open DB: a mariadb client session as user sm on DB, fed with
# what is written to descriptor 3 (its pid in session, its output in
# $SM_TMP/session.out).
session_open() {
	mkfifo "$SM_TMP/session"
	sql_as_sm "$1" <"$SM_TMP/session" >"$SM_TMP/session.out" 2>&1 &
	session=$!
	pids="$pids $session"
	exec 3>"$SM_TMP/session"
}
