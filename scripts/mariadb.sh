#!/bin/sh
# A private MariaDB server for the tests and the demo: Debian's mariadbd
# with its data directory, socket and logs under .sm-db/ in the checkout
# (git-ignored).  It never reads /etc/mysql and never touches a system
# database.
#
#   scripts/mariadb.sh start     initialise on first use, start, wait, and
#                                say so (port, data directory)
#   scripts/mariadb.sh stop      shut down cleanly (SIGKILL after 60 s)
#   scripts/mariadb.sh restart
#   scripts/mariadb.sh status    exit 0 when it answers
#   scripts/mariadb.sh env       print SM_DB, SM_DB_PASSWORD and friends
#                                (SM_DB_SSL_CA: the CA of its TLS certificate)
#   scripts/mariadb.sh sql ARGS  run the mariadb client as its root user
#   scripts/mariadb.sh users-sql DIR  the SQL making user sm (passwords
#                                in DIR/root.pw, DIR/sm.pw; galera.sh)
#
# SM_DB_DIR (default .sm-db) and SM_DB_PORT (default 33306) move it.  The
# server runs in a session of its own (setsid): a Ctrl-C at the terminal
# that started it does not stop it (`stop` does).
# The binary log is on (row format, full images: what sm-tail -f --via
# binlog follows), and the user sm may read it; SM_DB_BINLOG=0 starts the
# server without it.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/db-lib.sh"
DIR=${SM_DB_DIR:-$TOP/.sm-db}
PORT=${SM_DB_PORT:-33306}
SOCK=$DIR/mysqld.sock
PIDFILE=$DIR/mysqld.pid
DATA=$DIR/data

die() { echo "mariadb.sh: $*" >&2; exit 3; }

admin() {
	mariadb --defaults-file="$DIR/admin.cnf" "$@"
}

running() {
	[ -S "$SOCK" ] && [ -f "$DIR/admin.cnf" ] &&
	    mariadb-admin --defaults-file="$DIR/admin.cnf" --connect-timeout=2 \
	    ping >/dev/null 2>&1
}

# A throw-away CA and a server certificate for localhost and 127.0.0.1, so
# clients can be tested with TLS (sm-store --ssl-mode, --ssl-ca).  Without
# openssl the server simply offers no TLS.
tls_setup() {
	[ -f "$DIR/tls/server-key.pem" ] && return 0
	command -v openssl >/dev/null 2>&1 || return 0
	mkdir -p "$DIR/tls"
	(
		cd "$DIR/tls" && umask 077 &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 3650 -subj "/CN=sm test CA" \
		    -keyout ca-key.pem -out ca.pem &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -subj "/CN=localhost" -keyout server-key.tmp \
		    -out server.csr &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
		    -CAcreateserial -days 3650 -extfile ext.cnf \
		    -out server-cert.pem &&
		mv server-key.tmp server-key.pem
	) >"$DIR/tls.log" 2>&1 || { rm -rf "$DIR/tls"; return 0; }
}

init() {
	mkdir -p "$DIR"
	chmod 700 "$DIR"
	command -v mariadbd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v mariadbd >/dev/null 2>&1 ||
	    die "mariadbd not found: run scripts/deps.sh"
	tls_setup
	cat >"$DIR/my.cnf" <<CNF
[mariadbd]
datadir=$DATA
socket=$SOCK
pid-file=$PIDFILE
port=$PORT
bind-address=127.0.0.1
log-error=$DIR/error.log
user=$(id -un)
max-connections=500
CNF
	if [ "${SM_DB_BINLOG:-1}" = 0 ]; then
		echo skip-log-bin >>"$DIR/my.cnf"
	else
		# a week of log at most: a test checkout must not fill the disk
		cat >>"$DIR/my.cnf" <<CNF
log-bin=binlog
server-id=1
binlog-format=ROW
binlog-row-image=FULL
binlog-expire-logs-seconds=604800
CNF
	fi
	if [ -f "$DIR/tls/server-key.pem" ]; then
		printf 'ssl-ca=%s\nssl-cert=%s\nssl-key=%s\n' "$DIR/tls/ca.pem" \
		    "$DIR/tls/server-cert.pem" "$DIR/tls/server-key.pem" \
		    >>"$DIR/my.cnf"
	fi
	[ -d "$DATA/mysql" ] && return 0
	umask 077
	# a fresh password per checkout, never committed, never printed
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/root.pw"
	head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/sm.pw"
	mariadb-install-db --defaults-file="$DIR/my.cnf" \
	    --auth-root-authentication-method=normal \
	    --skip-test-db >"$DIR/install.log" 2>&1 ||
	    { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
	rm -f "$DIR/admin.cnf"
}

# alive PID: the server started as PID (or, where setsid had to fork, the
# one its pid file names) is still there
alive() {
	kill -0 "$1" 2>/dev/null ||
	    { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
}

wait_up() {
	i=0
	until running || mariadb-admin --no-defaults --socket="$SOCK" --user=root \
	    --connect-timeout=2 ping >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! alive "$1"; then
			tail -20 "$DIR/error.log" >&2 2>/dev/null || true
			die "server did not start (log: $DIR/error.log)"
		fi
		sleep 0.1
	done
}

# users_sql DIR: the root password, database sm and its user sm, with the
# passwords in DIR/root.pw and DIR/sm.pw (scripts/galera.sh too)
users_sql() {
	root_pw=$(cat "$1/root.pw")
	sm_pw=$(cat "$1/sm.pw")
	cat <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';
CREATE DATABASE IF NOT EXISTS sm;
CREATE USER IF NOT EXISTS 'sm'@'localhost' IDENTIFIED BY '$sm_pw';
CREATE USER IF NOT EXISTS 'sm'@'127.0.0.1' IDENTIFIED BY '$sm_pw';
GRANT ALL ON sm.* TO 'sm'@'localhost';
GRANT ALL ON sm.* TO 'sm'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}

first_setup() {
	[ -f "$DIR/admin.cnf" ] && return 0
	users_sql "$DIR" | mariadb --no-defaults --socket="$SOCK" --user=root
	root_pw=$(cat "$DIR/root.pw")
	sm_pw=$(cat "$DIR/sm.pw")
	umask 077
	printf '[client]\nuser=root\npassword=%s\nsocket=%s\n' "$root_pw" \
	    "$SOCK" >"$DIR/admin.cnf.tmp"
	mv "$DIR/admin.cnf.tmp" "$DIR/admin.cnf"
	printf '[client]\nuser=sm\npassword=%s\n' "$sm_pw" >"$DIR/sm.cnf"
}

# the port of the server running in $DIR (its my.cnf), else $PORT
running_port() {
	p=$(sed -n 's/^port=//p' "$DIR/my.cnf" 2>/dev/null)
	running && [ -n "$p" ] && echo "$p" || echo "$PORT"
}

start() {
	if [ -f "$DIR/my.cnf" ] && running; then
		echo "mariadb.sh: already running on port $(running_port)," \
		    "data in $DIR" >&2
		return 0
	fi
	init
	rm -f "$SOCK" "$PIDFILE"
	# the daemon must not hold the caller's descriptors (a test's pipe
	# would never see end of file), nor be in the caller's process group
	setsid mariadbd --defaults-file="$DIR/my.cnf" >>"$DIR/error.log" 2>&1 \
	    </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	pid=$!
	wait_up "$pid"
	first_setup
	# also for a data directory made before the binary log was on
	admin -e "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO
	    'sm'@'localhost', 'sm'@'127.0.0.1'" ||
	    die "cannot grant the binary log to user sm"
	echo "mariadb.sh: started on port $PORT, data in $DIR" >&2
}

stop() {
	[ -f "$PIDFILE" ] || return 0
	db_stop "$(cat "$PIDFILE")" || true
	rm -f "$PIDFILE"
	echo "mariadb.sh: stopped, data in $DIR" >&2
}

case "${1:-}" in
start)	start ;;
stop)	stop ;;
restart) stop; start ;;
status)	running ;;
env)
	[ -f "$DIR/sm.pw" ] || die "not initialised: scripts/mariadb.sh start"
	echo "SM_DB='mysql://sm@127.0.0.1:$(running_port)/sm'"
	echo "SM_DB_SOCKET_URL='mysql://sm@localhost/sm?socket=$SOCK'"
	echo "SM_DB_PASSWORD='$(cat "$DIR/sm.pw")'"
	echo "SM_DB_DEFAULTS_FILE='$DIR/sm.cnf'"
	echo "SM_DB_ADMIN_CNF='$DIR/admin.cnf'"
	if [ -f "$DIR/tls/ca.pem" ]; then
		echo "SM_DB_SSL_CA='$DIR/tls/ca.pem'"
	else
		echo "SM_DB_SSL_CA="
	fi
	echo "export SM_DB SM_DB_SOCKET_URL SM_DB_PASSWORD SM_DB_DEFAULTS_FILE SM_DB_ADMIN_CNF SM_DB_SSL_CA"
	;;
sql)	shift; admin "$@" ;;
users-sql) users_sql "${2:?usage: scripts/mariadb.sh users-sql DIR}" ;;
*)	echo "usage: scripts/mariadb.sh start|stop|restart|status|env|sql [args]" >&2
	exit 2 ;;
esac
