#!/bin/sh
# A private three-node MariaDB Galera cluster on loopback for the tests,
# the benchmark and the demo: Debian's mariadbd with galera-4's provider,
# each node's data directory, sockets and logs under .sm-galera/nodeN in
# the checkout (git-ignored).  It never reads /etc/mysql.
#
#   scripts/galera.sh start          start every node that is down (the
#                                    first one bootstraps a new cluster
#                                    when none is up), wait until synced
#   scripts/galera.sh stop           shut every node down cleanly, 3 to 1
#   scripts/galera.sh kill NODE      SIGKILL node NODE (1, 2 or 3)
#   scripts/galera.sh restart NODE   stop (or after kill: start) NODE; it
#                                    rejoins by IST (or rsync SST)
#   scripts/galera.sh status [NODE]  print each node's state; exit 0 when
#                                    every node (or NODE) is synced
#   scripts/galera.sh wait NODE      wait until NODE is synced
#   scripts/galera.sh env [NODE]     SM_DB (node NODE, default 1), SM_DB_1..3,
#                                    SM_DB_PASSWORD, SM_DB_ADMIN_CNF
#   scripts/galera.sh sql NODE ARGS  the mariadb client as root on NODE
#
# SM_GALERA_DIR (default .sm-galera) and SM_GALERA_PORT (default 34306)
# move it: node N listens for SQL on PORT+N-1 and for group communication,
# IST and rsync SST on PORT+261+3(N-1), +1 and +2 (34567... by default).
# As root, the nodes run as user mysql (who owns the data directories:
# rsync SST runs as the server's user); otherwise as the caller.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/scripts/db-lib.sh"
DIR=${SM_GALERA_DIR:-$TOP/.sm-galera}
PORT=${SM_GALERA_PORT:-34306}
PROVIDER=${SM_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
NODES="1 2 3"

die() { echo "galera.sh: $*" >&2; exit 3; }

node_ok() {
	case "${1:-}" in
	1|2|3) ;;
	*) echo "galera.sh: NODE must be 1, 2 or 3" >&2; exit 2 ;;
	esac
}

sqlport() { echo $((PORT + $1 - 1)); }
gport() { echo $((PORT + 261 + 3 * ($1 - 1))); }
ndir() { echo "$DIR/node$1"; }

if [ "$(id -u)" -eq 0 ] && id mysql >/dev/null 2>&1; then
	RUNAS=mysql
else
	RUNAS=$(id -un)
fi

admin() {
	n=$1; shift
	mariadb --defaults-file="$DIR/admin.cnf" --socket="$(ndir "$n")/sock" \
	    "$@"
}

# the node's wsrep_local_state_comment ("Synced", "Joining", ...), or
# "down" when it does not answer
state() {
	d=$(ndir "$1")
	[ -S "$d/sock" ] || { echo down; return 0; }
	if [ -f "$DIR/admin.cnf" ]; then
		s=$(admin "$1" --connect-timeout=2 -N -B -e \
		    "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null |
		    cut -f2) || s=
	else
		s=$(mariadb --no-defaults --socket="$d/sock" --user=root \
		    --connect-timeout=2 -N -B -e \
		    "SHOW STATUS LIKE 'wsrep_local_state_comment'" \
		    2>/dev/null | cut -f2) || s=
	fi
	echo "${s:-down}"
}

pid_of() {
	f=$(ndir "$1")/mysqld.pid
	[ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

cluster_address() {
	a=
	for n in $NODES; do
		a="$a${a:+,}127.0.0.1:$(gport "$n")"
	done
	echo "gcomm://$a"
}

init_node() {
	n=$1
	d=$(ndir "$n")
	g=$(gport "$n")
	mkdir -p "$d/data"
	cat >"$d/my.cnf" <<CNF
[mariadbd]
datadir=$d/data
socket=$d/sock
pid-file=$d/mysqld.pid
port=$(sqlport "$n")
bind-address=127.0.0.1
log-error=$d/error.log
user=$RUNAS
max-connections=500
server-id=$n
log-bin=binlog
log-slave-updates=ON
binlog-format=ROW
binlog-row-image=FULL
binlog-expire-logs-seconds=604800
default-storage-engine=InnoDB
innodb-autoinc-lock-mode=2
innodb-flush-log-at-trx-commit=2
innodb-buffer-pool-size=64M
wsrep-on=ON
wsrep-provider=$PROVIDER
wsrep-cluster-name=sm-galera
wsrep-cluster-address=$(cluster_address)
wsrep-node-name=node$n
wsrep-node-address=127.0.0.1:$g
wsrep-node-incoming-address=127.0.0.1:$(sqlport "$n")
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:$((g + 2))
wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$g;ist.recv_addr=127.0.0.1:$((g + 1));gcache.size=256M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S
wsrep-slave-threads=2
CNF
	if [ "$n" = 1 ] && [ ! -d "$d/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$d/data" \
		    --user="$RUNAS" --auth-root-authentication-method=normal \
		    --skip-test-db >"$d/install.log" 2>&1 ||
		    { cat "$d/install.log" >&2; die "mariadb-install-db failed"; }
	fi
	chown -R "$RUNAS" "$d"
}

init() {
	mkdir -p "$DIR"
	chmod 711 "$DIR"
	command -v mariadbd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v mariadbd >/dev/null 2>&1 ||
	    die "mariadbd not found: run scripts/deps.sh"
	[ -f "$PROVIDER" ] || die "$PROVIDER not found: run scripts/deps.sh"
	command -v rsync >/dev/null 2>&1 || die "rsync not found: run scripts/deps.sh"
	if [ ! -f "$DIR/root.pw" ]; then
		(umask 077
		head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/root.pw"
		head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/sm.pw")
	fi
	for n in $NODES; do
		init_node "$n"
	done
}

# wait until node $1 is Synced (or $2 tenths of a second pass)
wait_synced() {
	i=0
	limit=${2:-1800}
	while [ "$(state "$1")" != Synced ]; do
		i=$((i + 1))
		lp=$(cat "$(ndir "$1")/launcher.pid" 2>/dev/null || true)
		if [ "$i" -gt "$limit" ] ||
		    { [ -n "$lp" ] && ! kill -0 "$lp" 2>/dev/null; }; then
			tail -20 "$(ndir "$1")/error.log" >&2 2>/dev/null || true
			die "node $1 is not synced (log: $(ndir "$1")/error.log)"
		fi
		sleep 0.1
	done
}

start_node() {
	n=$1
	mode=${2:-join}
	d=$(ndir "$n")
	[ -n "$(pid_of "$n" || true)" ] && return 0
	rm -f "$d/sock"
	touch "$d/error.log"
	chown "$RUNAS" "$d/error.log"
	set -- --defaults-file="$d/my.cnf"
	if [ "$mode" = bootstrap ]; then
		# the caller knows it holds the newest state (it stopped last)
		[ -f "$d/data/grastate.dat" ] &&
		    sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' \
		    "$d/data/grastate.dat"
		set -- "$@" --wsrep-new-cluster
	fi
	# the daemon must not hold the caller's descriptors
	mariadbd "$@" >>"$d/error.log" 2>&1 \
	    </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$d/launcher.pid"
}

first_setup() {
	[ -f "$DIR/admin.cnf" ] && return 0
	{
		"$TOP/scripts/mariadb.sh" users-sql "$DIR"
		echo "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO" \
		    "'sm'@'localhost', 'sm'@'127.0.0.1';"
	} | mariadb --no-defaults --socket="$(ndir 1)/sock" --user=root
	root_pw=$(cat "$DIR/root.pw")
	sm_pw=$(cat "$DIR/sm.pw")
	(umask 077
	printf '[client]\nuser=root\npassword=%s\n' "$root_pw" \
	    >"$DIR/admin.cnf.tmp"
	mv "$DIR/admin.cnf.tmp" "$DIR/admin.cnf"
	printf '[client]\nuser=sm\npassword=%s\n' "$sm_pw" >"$DIR/sm.cnf")
}

start() {
	init
	up=
	for n in $NODES; do
		[ "$(state "$n")" = Synced ] && up="$up $n"
	done
	if [ -z "$up" ]; then
		for n in $NODES; do
			[ -n "$(pid_of "$n" || true)" ] &&
			    die "node $n runs but is not synced: stop first"
		done
		start_node 1 bootstrap
		wait_synced 1
		first_setup
	fi
	# one joiner at a time: two rsync SSTs from one donor would queue
	for n in $NODES; do
		start_node "$n"
		wait_synced "$n"
	done
}

stop_node() {
	pid=$(pid_of "$1" || true)
	[ -n "$pid" ] || return 0
	db_stop "$pid" || return 0
	rm -f "$(ndir "$1")/mysqld.pid"
}

stop() {
	[ -d "$DIR" ] || return 0
	# the first node last: it holds the newest state and bootstraps next
	for n in 3 2 1; do
		stop_node "$n"
	done
}

case "${1:-}" in
start)	start ;;
stop)	stop ;;
kill)
	node_ok "${2:-}"
	pid=$(pid_of "$2" || true)
	[ -n "$pid" ] && kill -KILL "$pid"
	# the pid file stays behind, as after a crash
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$(ndir "$2")/mysqld.pid"
	;;
restart)
	node_ok "${2:-}"
	init
	stop_node "$2"
	start_node "$2"
	wait_synced "$2"
	;;
wait)
	node_ok "${2:-}"
	wait_synced "$2"
	;;
status)
	rc=0
	for n in ${2:-$NODES}; do
		s=$(state "$n")
		echo "node$n 127.0.0.1:$(sqlport "$n") $s"
		[ "$s" = Synced ] || rc=1
	done
	exit $rc
	;;
env)
	[ -f "$DIR/sm.pw" ] || die "not initialised: scripts/galera.sh start"
	n=${2:-1}
	node_ok "$n"
	echo "SM_DB='mysql://sm@127.0.0.1:$(sqlport "$n")/sm'"
	for i in $NODES; do
		echo "SM_DB_$i='mysql://sm@127.0.0.1:$(sqlport "$i")/sm'"
	done
	echo "SM_DB_PASSWORD='$(cat "$DIR/sm.pw")'"
	echo "SM_DB_DEFAULTS_FILE='$DIR/sm.cnf'"
	echo "SM_DB_ADMIN_CNF='$DIR/admin.cnf'"
	echo "export SM_DB SM_DB_1 SM_DB_2 SM_DB_3 SM_DB_PASSWORD SM_DB_DEFAULTS_FILE SM_DB_ADMIN_CNF"
	;;
sql)	node_ok "${2:-}"; n=$2; shift 2; admin "$n" "$@" ;;
*)	echo "usage: scripts/galera.sh start|stop|status [NODE]|kill NODE|restart NODE|wait NODE|env [NODE]|sql NODE [args]" >&2
	exit 2 ;;
esac
