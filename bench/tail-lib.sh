# What bench/tail-bench.sh and bench/tail-web.sh share (sourced, bash):
# a scratch directory and background processes cleaned up on exit,
# bench/tail-latency.c built, and a fresh database $1 on the private
# MariaDB (scripts/mariadb.sh; SM_DB_DIR and SM_DB_PORT honoured) with
# one row in it, named by SM_DB.  Run from the top of the checkout.
#
#   tail_bench_setup DBNAME
#
# Sets tmp, pids (kill them on exit), hz, server (mariadbd's pid) and
# defines cpu_ticks PID; a script adds to cleanup with bench_on_exit.

bench_on_exit=:
pids=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-tail-bench.XXXXXX")
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	eval "$bench_on_exit"
	rm -rf "$tmp"
}
trap cleanup EXIT

# user + system clock ticks of process $1
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

tail_bench_setup() {
	make -s BUILD="$BUILD" OUT="$OUT" all
	cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libmariadb) \
	    -o "$tmp/tail-latency" bench/tail-latency.c "$BUILD/libsm.a" \
	    $(pkg-config --libs libmariadb json-c) -pthread
	scripts/mariadb.sh start
	eval "$(scripts/mariadb.sh env)"
	scripts/mariadb.sh sql -e "DROP DATABASE IF EXISTS $1;
	    CREATE DATABASE $1;
	    GRANT ALL ON $1.* TO 'sm'@'localhost';
	    GRANT ALL ON $1.* TO 'sm'@'127.0.0.1';"
	SM_DB=${SM_DB%/*}/$1
	export SM_DB
	"$OUT/sm-read" -n 1 | "$OUT/sm-store" --source bench 2>/dev/null
	hz=$(getconf CLK_TCK)
	server=$(cat "${SM_DB_DIR:-.sm-db}/mysqld.pid")
	echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {
	    print $2; exit }' /proc/cpuinfo), $(uname -r); $(date -u +%Y-%m-%d)"
	echo "server: $(scripts/mariadb.sh sql -N -e 'SELECT VERSION()')"
}
