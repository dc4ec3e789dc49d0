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
