# Shared by the bench scripts (sourced): the programs under test and a
# private MariaDB.  The caller sets TOP and WORK, and stops the server
# (`db stop`) in its cleanup.
DB_PORT=

db() {
	SM_DB_DIR="$WORK/db" SM_DB_PORT=$DB_PORT "$TOP/scripts/mariadb.sh" "$@"
}

# bench_bin PROG...: the programs in $WORK/bin, copied from $SM_BIN when
# set, else built there
bench_bin() {
	if [ -n "${SM_BIN:-}" ]; then
		mkdir -p "$WORK/bin"
		for p in "$@"; do
			cp "$SM_BIN/$p" "$WORK/bin/"
		done
	else
		echo "$(basename "$0"): building into $WORK" >&2
		make -s -C "$TOP" BUILD="$WORK/build" OUT="$WORK/bin" all >&2
	fi
}

# bench_db_start: the server on a free port below the ephemeral range
# (32768-), a few tries; its environment (SM_DB, ...) set
bench_db_start() {
	for try in 1 2 3 4 5; do
		DB_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
		db start >"$WORK/db.log" 2>&1 && break
		db stop >/dev/null 2>&1 || true
		[ "$try" -lt 5 ] || { cat "$WORK/db.log" >&2; exit 1; }
	done
	eval "$(db env)"
}

# bench_records N: N canonical records without ids on standard output,
# each different (as sm-read writes them)
bench_records() {
	awk -v n="$1" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "{\"ts\":\"2026-01-01T%02d:%02d:%02d.%03dZ\"," \
		    "\"host\":\"bench\",\"collector\":\"procfs\"," \
		    "\"cpu_usage\":12.5,\"cpu_free\":87.5,\"ram_total\":4000," \
		    "\"ram_free\":1000,\"ram_available\":2000,\"ram_used\":2000," \
		    "\"ram_percentage\":50,\"total_processes\":%d," \
		    "\"running_processes\":1,\"sleeping_processes\":0," \
		    "\"stopped_processes\":0,\"zombie_processes\":0}\n",
		    int(i / 3600000) % 24, int(i / 60000) % 60,
		    int(i / 1000) % 60, i % 1000, i
	}'
}
