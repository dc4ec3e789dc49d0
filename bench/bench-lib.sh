# Shared by the bench scripts (sourced): the programs under test and a
# private MariaDB.  The caller sets TOP and WORK, and stops the server
# (`db stop`) in its cleanup.
DB_PORT=

db() {
	SM_DB_DIR="$WORK/db" SM_DB_PORT=$DB_PORT "$TOP/scripts/mariadb.sh" "$@"
}

# bench_traps: at exit, the processes in $PIDS killed, the server
# stopped and $WORK removed; an interrupt exits
bench_cleanup() {
	for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done
	db stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
bench_traps() {
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
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

# bench_history_tsv HOSTS START END DIR: a sample a second of HOSTS hosts
# from START to END (Unix seconds), hosts interleaved as they arrive, as
# TSV in sm-store's insert order, a million rows a file, into DIR
bench_history_tsv() {
	awk -v hosts="$1" -v start="$2" -v end="$3" -v dir="$4" 'BEGIN {
	srand(11)
	n = 0
	for (t = start; t < end; t++) {
		ts = strftime("%Y-%m-%d %H:%M:%S", t, 1)
		for (h = 0; h < hosts; h++) {
			if (n % 1000000 == 0) {
				if (n) close(f)
				f = sprintf("%s/%05d.tsv", dir, n / 1000000)
			}
			cpu = int(rand() * 10000) / 100
			used = 1000 + int(rand() * 2000)
			printf "4000\t%d\t%d\t%.2f\t%.2f\t%.2f\t" \
			    "%d\t%d\t%d\t0\t0\troute-a\t" \
			    "%08x-%04x-7000-8000-%012x\th%04d\tprocfs\t" \
			    "%s.%03d\t%d\t%d\n", 4000 - used - 300, used,
			    used / 40, cpu, 100 - cpu, 1 + n % 3, 120 + n % 7,
			    110, t, h, n, h, ts, h, 4000 - used, 200 + n % 50 \
			    > f
			n++
		}
	}
	}'
}

# bench_history_load "SQL" DIR: DIR's TSV files into system_metrics, by
# LOAD DATA with the client command SQL (its database's table)
bench_history_load() {
	for f in "$2"/*.tsv; do
		$1 --local-infile=1 -e "LOAD DATA LOCAL INFILE '$f' INTO TABLE
		    system_metrics (ram_total, ram_free, ram_used,
		    ram_percentage, cpu_usage, cpu_free, running_processes,
		    total_processes, sleeping_processes, zombie_processes,
		    stopped_processes, data_source, sample_id, host,
		    collector, sampled_at, ram_available, threads)"
	done
}
