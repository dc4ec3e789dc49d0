# Helpers for the sm-store integration tests (sourced; not a test itself).
# tests/run.sh sets SM_BIN, SM_TOP and SM_TMP; `make test-it` has started
# the shared private MariaDB (scripts/mariadb.sh).
#
# Each test gets a database of its own on that server (dropped at exit), so
# tests can run side by side with other tests using database `sm`.  Tests
# that stop the server start a private one instead (private_server).
. "$SM_TOP/tests/lib.sh"

eval "$("$SM_TOP"/scripts/mariadb.sh env)"
STORE="$SM_BIN/sm-store"
FIX="$SM_TOP/tests/fixtures"
SQL_SH="$SM_TOP/scripts/mariadb.sh"

TESTDB=smt_$(basename "$0" .sh | tr -c 'a-z0-9\n' '_')_$$
ADMIN_SQL="$SQL_SH sql"
SM_DB=$(printf '%s\n' "$SM_DB" | sed "s|/sm\$|/$TESTDB|")
SM_DB_SOCKET_URL=$(printf '%s\n' "$SM_DB_SOCKET_URL" |
    sed "s|/sm?|/$TESTDB?|")
export SM_DB SM_DB_SOCKET_URL

# Cleanup, in reverse order of set-up; tests add to it with at_exit.
CLEANUP=
at_exit() {
	CLEANUP="$1; $CLEANUP"
}
# shellcheck disable=SC2064
trap 'eval "$CLEANUP"' EXIT
trap 'exit 1' INT TERM

make_db() {
	$ADMIN_SQL -e "CREATE DATABASE $1; GRANT ALL ON $1.* TO 'sm'@'localhost';
	    GRANT ALL ON $1.* TO 'sm'@'127.0.0.1';" ||
	    fail "cannot create database $1"
}
make_db "$TESTDB"
at_exit "$ADMIN_SQL -e 'DROP DATABASE IF EXISTS $TESTDB' || true"

# q SQL: one query in the test's database, tab-separated, no header.
q() {
	$ADMIN_SQL -N -B "$TESTDB" -e "$1"
}

# rows: how many rows the table holds.
rows() {
	q 'SELECT COUNT(*) FROM system_metrics'
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# wait_for TRIES CMD...: retry CMD every 0.1 s; fail after TRIES tries.
wait_for() {
	tries=$1
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "timed out waiting for: $*"
		sleep 0.1
	done
}

# start_receiver NAME ARGS...: sm-store --listen 127.0.0.1:0 in the
# background; sets RPID, RPORT and RURL; stderr in $SM_TMP/NAME.err.
start_receiver() {
	name=$1
	shift
	rm -f "$SM_TMP/$name.port"
	"$STORE" --listen 127.0.0.1:0 --port-file "$SM_TMP/$name.port" "$@" \
	    2>"$SM_TMP/$name.err" &
	RPID=$!
	at_exit "kill $RPID 2>/dev/null || true"
	tries=100
	while [ ! -s "$SM_TMP/$name.port" ]; do
		kill -0 $RPID 2>/dev/null ||
		    fail "receiver died: $(cat "$SM_TMP/$name.err")"
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "receiver wrote no port file"
		sleep 0.1
	done
	RPORT=$(cat "$SM_TMP/$name.port")
	RURL=http://127.0.0.1:$RPORT
}

# stop_receiver: SIGTERM, and it must exit 0.
stop_receiver() {
	kill -TERM "$RPID"
	wait "$RPID" || fail "receiver exited $? on SIGTERM"
}

# post TYPE DATA [CURL ARGS...]: POST DATA (@file allowed) to /metrics;
# the answer in $SM_TMP/body, the status in $CODE.
post() {
	type=$1
	data=$2
	shift 2
	CODE=$(curl -s -o "$SM_TMP/body" -w '%{http_code}' -X POST \
	    -H "Content-Type: $type" --data-binary "$data" "$@" \
	    "$RURL/metrics") || fail "curl failed"
}

# expect_answer CODE BODY: the last post's status and exact body.
expect_answer() {
	[ "$CODE" = "$1" ] || fail "status $CODE, want $1: $(cat "$SM_TMP/body")"
	[ "$(cat "$SM_TMP/body")" = "$2" ] ||
	    fail "answer $(cat "$SM_TMP/body"), want $2"
}

# private_server: a MariaDB of this test's own under $SM_TMP (on a random
# free port), for tests that stop and start it.  Sets PDB_URL; use pdb
# (start|stop|sql ...) to drive it.  Stopped at exit.
pdb() {
	SM_DB_DIR="$SM_TMP/pdb" SM_DB_PORT="$PDB_PORT" "$SQL_SH" "$@"
}
private_server() {
	for _try in 1 2 3 4 5; do
		# below the ephemeral range (32768-), where clients would collide
		PDB_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
		if pdb start >"$SM_TMP/pdb.log" 2>&1; then
			at_exit "pdb stop >/dev/null 2>&1 || true"
			PDB_URL="mysql://sm@127.0.0.1:$PDB_PORT/sm"
			PDB_PASSWORD=$(eval "$(pdb env)";
			    printf '%s' "$SM_DB_PASSWORD")
			return 0
		fi
		pdb stop >/dev/null 2>&1 || true
	done
	fail "cannot start a private MariaDB: $(cat "$SM_TMP/pdb.log")"
}

# pq SQL: one query on the private server's database sm.
pq() {
	pdb sql -N -B sm -e "$1"
}

# gen_records N TAG: N canonical records with ids of their own (TAG, a
# hex digit string of up to 8, keeps runs apart), one second apart.
gen_records() {
	awk -v n="$1" -v tag="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			printf("{\"id\":\"%08s-0000-7000-8000-%012x\",\"ts\":\"2025-11-26T%02d:%02d:%02d.%03dZ\",\"host\":\"gen-%d\",\"collector\":\"procfs\",\"cpu_usage\":%d.5,\"cpu_free\":%d.5,\"ram_total\":3913,\"ram_free\":2413,\"ram_available\":2613,\"ram_used\":1300,\"ram_percentage\":33.22,\"total_processes\":113,\"running_processes\":1,\"sleeping_processes\":112,\"stopped_processes\":0,\"zombie_processes\":0}\n",
			    tag, i, 10 + int(i / 3600) % 14, int(i / 60) % 60,
			    i % 60, i % 1000,
			    i % 8, 99 - i % 8, i % 8)
		}
	}' | tr ' ' 0
}
