#!/bin/sh
# sm-tail against the test MariaDB: -n order and count, the filters, the
# shape of each format, and the failures.
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_rows_$$
NAME2=sm_tail_copy_$$
trap 'tail_db_drop $NAME; tail_db_drop $NAME2' EXIT
URL=$(tail_db $NAME)
T="$SM_BIN/sm-tail --db $URL"

echo "a database without the table: no rows, a warning"
$T >"$SM_TMP/out" 2>"$SM_TMP/err" || fail "no table: exit $?"
[ ! -s "$SM_TMP/out" ] || fail "rows from no table"
expect_err "sm-tail: sm@127.0.0.1:$(db_port)/$NAME: no table system_metrics yet"

echo "rows: 5 seed-dialect, 25 of h1 (s1), then 10 of h2 (s2)"
head -n 5 "$SM_TOP/tests/fixtures/seed-records.ndjson" |
    "$SM_BIN/sm-store" --db "$URL" --source python_api 2>/dev/null
gen_records 25 1 0 h1 >"$SM_TMP/a"
gen_records 10 2 100 h2 >"$SM_TMP/b"
"$SM_BIN/sm-store" --db "$URL" --source s1 <"$SM_TMP/a" 2>/dev/null
"$SM_BIN/sm-store" --db "$URL" --source s2 <"$SM_TMP/b" 2>/dev/null

echo "default: the last 10 rows, oldest first, ndjson off a terminal"
$T >"$SM_TMP/out"
diff -u "$SM_TMP/b" "$SM_TMP/out"

echo "-n: count and order; records come back as they went in"
$T -n 3 >"$SM_TMP/out"
tail -n 3 "$SM_TMP/b" | diff -u - "$SM_TMP/out"
$T --lines 12 >"$SM_TMP/out"
{ tail -n 2 "$SM_TMP/a"; cat "$SM_TMP/b"; } | diff -u - "$SM_TMP/out"
$T -n 0 >"$SM_TMP/out"
[ ! -s "$SM_TMP/out" ] || fail "-n 0 printed rows"
$T -n 1000 >"$SM_TMP/out"
[ "$(wc -l <"$SM_TMP/out")" -eq 40 ] || fail "-n 1000: want all 40 rows"
tail -n 35 "$SM_TMP/out" >"$SM_TMP/last35"
cat "$SM_TMP/a" "$SM_TMP/b" | diff -u - "$SM_TMP/last35"
# the seed-dialect rows: no host, ids made by sm-store, figures kept
head -n 1 "$SM_TMP/out" | normalise >"$SM_TMP/seed1"
diff -u - "$SM_TMP/seed1" <<'EOF'
{"id":"ID","ts":"TS","cpu_usage":2,"cpu_free":98,"ram_total":3913,"ram_free":2413,"ram_available":2413,"ram_used":1500,"ram_percentage":38,"total_processes":113,"running_processes":1,"sleeping_processes":112,"stopped_processes":0,"zombie_processes":0}
EOF
grep -q '"ts":"2025-06-27T16:47:23.000Z"' "$SM_TMP/out" ||
    fail "seed row time: $(head -n 1 "$SM_TMP/out")"

echo "filters: --host, --source, --since and together"
$T -n 1000 --host h1 >"$SM_TMP/out"
diff -u "$SM_TMP/a" "$SM_TMP/out"
$T -n 4 --host h1 >"$SM_TMP/out"
tail -n 4 "$SM_TMP/a" | diff -u - "$SM_TMP/out"
$T -n 1000 --source s2 >"$SM_TMP/out"
diff -u "$SM_TMP/b" "$SM_TMP/out"
$T -n 1000 --source python_api >"$SM_TMP/out"
[ "$(wc -l <"$SM_TMP/out")" -eq 5 ] || fail "--source python_api: want 5"
$T -n 1000 --host h1 --source s2 >"$SM_TMP/out"
[ ! -s "$SM_TMP/out" ] || fail "--host h1 --source s2 matched rows"
# exact, case-sensitive, like the filter applied while following
$T -n 1000 --host H1 >"$SM_TMP/out"
[ ! -s "$SM_TMP/out" ] || fail "--host H1 matched h1"
# h1's samples are 10 ms apart from 10:00:00.000; the bound is inclusive
$T -n 1000 --host h1 --since 2026-11-26T10:00:00.200Z >"$SM_TMP/out"
tail -n 5 "$SM_TMP/a" | diff -u - "$SM_TMP/out"
$T -n 1000 --since 2026-11-26T11:00:00.235+01:00 >"$SM_TMP/out"
{ tail -n 1 "$SM_TMP/a"; cat "$SM_TMP/b"; } | diff -u - "$SM_TMP/out"
# --since with -n: the last N of those that pass
$T -n 2 --since 2026-11-26T10:00:00.200Z --host h1 >"$SM_TMP/out"
tail -n 2 "$SM_TMP/a" | diff -u - "$SM_TMP/out"

echo "--format table: aligned columns under one header"
$T -n 3 --host h1 --format table >"$SM_TMP/out"
diff -u - "$SM_TMP/out" <<'EOF'
     ID TIME(UTC)           HOST             SOURCE         CPU%   RAM%  RAM_USED RAM_TOTAL  PROCS  RUN  SLEEP STOP ZOMB
     28 2026-11-26 10:00:00 h1               s1            54.50  53.60      2144      4000    132    3     91    1    0
     29 2026-11-26 10:00:00 h1               s1            61.75  54.90      2196      4000    133    4     92    1    0
     30 2026-11-26 10:00:00 h1               s1            68.00  56.20      2248      4000    134    2     93    1    0
EOF
$T -n 1 --source python_api --format table >"$SM_TMP/out"
sed -i 1d "$SM_TMP/out"
diff -u - "$SM_TMP/out" <<'EOF'
      5 2025-06-27 16:47:25 -                python_api     2.00  38.00      1500      3913    113    1    112    0    0
EOF

echo "--format seed: the replaced system's realtime payload"
$T -n 2 --host h2 --format seed >"$SM_TMP/out"
diff -u - "$SM_TMP/out" <<'EOF'
{"cpu":56,"ram":65.4,"ram_details":{"total":4000,"used":2616,"free":884},"processes":{"total_procesos":118,"procesos_corriendo":2,"procesos_durmiendo":93,"procesos_zombies":0,"procesos_parados":1},"data_source":"s2","timestamp":"2026-11-26T10:00:01.080Z"}
{"cpu":63.25,"ram":66.7,"ram_details":{"total":4000,"used":2668,"free":832},"processes":{"total_procesos":119,"procesos_corriendo":3,"procesos_durmiendo":94,"procesos_zombies":0,"procesos_parados":1},"data_source":"s2","timestamp":"2026-11-26T10:00:01.090Z"}
EOF

echo "ndjson re-ships: sm-tail | sm-store into another database"
URL2=$(tail_db $NAME2)
$T -n 1000 | "$SM_BIN/sm-store" --db "$URL2" --source copy 2>"$SM_TMP/err" ||
    fail "sm-store of sm-tail's output: $(cat "$SM_TMP/err")"
expect_err "40 stored, 0 duplicates, 0 rejected"
"$SM_BIN/sm-tail" --db "$URL2" -n 1000 | ids >"$SM_TMP/copied"
$T -n 1000 | ids | diff -u - "$SM_TMP/copied"

echo "-f: the history, then stops cleanly when the reader goes or on TERM"
status=$( ( $T -f --interval 0.05; echo $? >"$SM_TMP/st" ) | head -n 3 \
    >"$SM_TMP/out"; cat "$SM_TMP/st")
[ "$status" -eq 0 ] || fail "-f | head: exit $status, want 0"
tail -n 10 "$SM_TMP/b" | head -n 3 | diff -u - "$SM_TMP/out"
# not the last step's lines: this one's (the shell truncates in the child)
rm -f "$SM_TMP/out"
$T -f -n 1 --interval 0.05 >"$SM_TMP/out" 2>"$SM_TMP/err" &
pid=$!
wait_until 10 "the history of -f" lines_at_least "$SM_TMP/out" 1
kill -TERM $pid
wait $pid || fail "-f after SIGTERM: exit $?"
tail -n 1 "$SM_TMP/b" | diff -u - "$SM_TMP/out"

echo "usage errors exit 2"
expect_status 2 $T --format xml
expect_err "sm-tail: --format: \"xml\": want ndjson, table or seed"
expect_err "usage: sm-tail"
expect_status 2 $T -n -1
expect_err "sm-tail: -n: \"-1\": want a count of rows"
expect_status 2 $T -n 2x
expect_status 2 $T --interval 0.5
expect_err "--interval and --gap-timeout are for -f, -d and --listen"
expect_status 2 $T -f --interval 0
expect_err "--interval: \"0\": want seconds from 0.01 to 3600"
expect_status 2 $T -f --gap-timeout soon
expect_status 2 $T --warn 80
expect_err "--warn is for the dashboards (-d, --listen)"
expect_status 2 $T -d --warn 101
expect_status 2 $T -d --format ndjson
expect_err "-d shows rows on the screen: not with --format or -f"
expect_status 2 $T -d </dev/null
expect_err "sm-tail: -d: the dashboard needs a terminal on stdin and stdout"
expect_status 2 $T --since yesterday
expect_err "sm-tail: --since: \"yesterday\""
expect_status 2 $T --host ""
expect_status 2 $T extra
expect_err "unexpected argument \"extra\""
expect_status 2 "$SM_BIN/sm-tail" --db "ftp://x/y"
expect_status 2 $T --ssl-mode SOMETIMES
expect_status 0 $T --help
grep -q "^usage: sm-tail" "$SM_TMP/out" || fail "--help not on stdout"
expect_status 0 $T --version
grep -q "^sm-tail " "$SM_TMP/out" || fail "--version: $(cat "$SM_TMP/out")"
(unset SM_DB; expect_status 2 "$SM_BIN/sm-tail")
expect_err "no database: give --db URL or set SM_DB"

echo "the database: unreachable exits 3, refused exits 2"
expect_status 3 "$SM_BIN/sm-tail" --db "mysql://sm@127.0.0.1:1/sm"
expect_err "sm-tail: sm@127.0.0.1:1/sm: connect: "
(export SM_DB_PASSWORD=wrong; expect_status 2 $T)
expect_err "Access denied"
(export SM_DB_PASSWORD=wrong; expect_status 2 $T -f)
expect_err "Access denied"
expect_status 2 "$SM_BIN/sm-tail" --db "${SM_DB%/*}/no_such_db_$$"
expect_err "no_such_db_$$"

echo "a full disk is an error"
if [ -w /dev/full ]; then
	set +e
	$T >/dev/full 2>"$SM_TMP/err"
	st=$?
	set -e
	[ "$st" -eq 1 ] || fail "/dev/full: exit $st, want 1"
	expect_err "sm-tail: stdout: No space left on device"
fi
