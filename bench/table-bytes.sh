#!/bin/sh
# Bytes on disk a raw row (sm-store(1), "The table"): the table sm-store
# makes, filled as bench/history-bench.sh's step 1 fills it (HOSTS hosts
# x HOURS hours at one sample a second ending now, hosts interleaved,
# LOAD DATA), on a private MariaDB with Debian's default InnoDB settings;
# with BASE_BIN, the table a build before a change makes, the same rows
# in the same run beside it, and then converted to the new types by
# CONVERT_SQL (sm-store(1), "Migration"; a file of statements), if given:
# its time.  For each: every index's size (the pages
# mysql.innodb_index_stats gives it), data and indexes a row, and the
# partitions' files a row.
#
#   bench/table-bytes.sh [HOSTS [HOURS]]   default 20 28 (2,016,000 rows)
#
# Environment: SM_BIN (binaries to use instead of building), BASE_BIN
# (that build's bin/), CONVERT_SQL, BENCH_DIR (default /var/tmp; about 1
# GB at the default size).  Not part of `make check`.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
HOSTS=${1:-20}
HOURS=${2:-28}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/sm-table-bytes.XXXXXX")

. "$TOP/bench/bench-lib.sh"
bench_traps

command -v faketime >/dev/null || { echo "faketime missing" >&2; exit 2; }
bench_bin sm-store
bench_db_start
ADMIN="mariadb --defaults-file=$WORK/db/admin.cnf"
echo "MariaDB $($ADMIN -N -e 'SELECT VERSION()'), $(nproc) CPUs"

end=$(( $(date +%s) - 120 ))
start=$(( end - HOURS * 3600 ))
mkdir "$WORK/load"
bench_history_tsv "$HOSTS" "$start" "$end" "$WORK/load"

# fill NAME BIN DB: the table BIN's sm-store makes in DB, filled
fill() {
	$ADMIN -e "CREATE DATABASE IF NOT EXISTS $3; GRANT ALL ON $3.* TO
	    'sm'@'127.0.0.1'"
	faketime "$(date -u -d "@$start" '+%Y-%m-%d %H:%M:%S')" "$2/sm-store" \
	    --db "${SM_DB%/sm}/$3" --ssl-mode DISABLED </dev/null 2>/dev/null
	t0=$(date +%s.%N)
	bench_history_load "$ADMIN $3" "$WORK/load"
	t1=$(date +%s.%N)
	echo "== $1: loaded in $(echo "$t1 - $t0" | bc) s"
}

# size DB: the table's bytes
size() {
	$ADMIN "$1" -e "ANALYZE TABLE system_metrics" >/dev/null
	rows=$($ADMIN -N "$1" -e "SELECT COUNT(*) FROM system_metrics")
	echo "$rows rows," \
	    "sample_id $($ADMIN -N -e "SELECT COLUMN_TYPE FROM
	    information_schema.COLUMNS WHERE TABLE_SCHEMA = '$1' AND
	    TABLE_NAME = 'system_metrics' AND COLUMN_NAME = 'sample_id'")"
	$ADMIN -N -e "SELECT index_name, SUM(stat_value) *
	    @@innodb_page_size FROM mysql.innodb_index_stats WHERE
	    database_name = '$1' AND table_name LIKE 'system\_metrics#P#%'
	    AND stat_name = 'size' GROUP BY index_name ORDER BY index_name" |
	    awk -v r="$rows" '{ printf "  %-32s %7.1f MiB %6.1f bytes a row\n",
	    $1, $2 / 1048576, $2 / r }'
	$ADMIN -N -e "SELECT DATA_LENGTH, INDEX_LENGTH FROM
	    information_schema.TABLES WHERE TABLE_SCHEMA = '$1' AND
	    TABLE_NAME = 'system_metrics'" |
	    awk -v r="$rows" '{ printf "  data %.0f MiB + indexes %.0f MiB:" \
	    " %.1f bytes a row\n", $1 / 1048576, $2 / 1048576,
	    ($1 + $2) / r }'
	$ADMIN -e "FLUSH TABLES $1.system_metrics FOR EXPORT; UNLOCK TABLES" \
	    >/dev/null
	du -k --apparent-size "$WORK/db/data/$1/"system_metrics#P#*.ibd |
	    awk -v r="$rows" '{ s += $1 } END {
	    printf "  files: %.1f bytes a row\n", s * 1024 / r }'
}

if [ -n "${BASE_BIN:-}" ]; then
	fill base "$BASE_BIN" sm_base
	size sm_base
fi
fill this "$WORK/bin" sm
size sm
[ -n "${BASE_BIN:-}" ] && [ -n "${CONVERT_SQL:-}" ] || exit 0
t0=$(date +%s.%N)
$ADMIN sm_base <"$CONVERT_SQL"
t1=$(date +%s.%N)
echo "== base converted by $CONVERT_SQL in $(echo "$t1 - $t0" | bc) s"
size sm_base
