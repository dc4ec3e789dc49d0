#!/bin/sh
# sm-tail -f against the test MariaDB: every row exactly once, whatever
# order concurrent transactions commit in; holes given up after
# --gap-timeout; the filters while following; a TRUNCATE noticed.
. "$(dirname "$0")/tail-lib.sh"

NAME=sm_tail_follow_$$
pids=""
trap 'follow_cleanup $NAME' EXIT
URL=$(tail_db $NAME)
# polls: tail-binlog.sh follows the binary log
T="$SM_BIN/sm-tail --db $URL -f -n 1 --interval 0.05 --via poll"

# the table, made the way it is in production, and a first row: each
# sm-tail -f -n 1 shows it once it has started following
gen_records 1 9 0 h0 | "$SM_BIN/sm-store" --db "$URL" --source setup 2>/dev/null

echo "a transaction holding a lower id commits after a higher one"
follow_start all
follow_start quick --gap-timeout 0.3
wait_until 20 "sm-tail -f to start" has_line "$SM_TMP/all.out" 9-0000-7000
wait_until 20 "sm-tail -f to start" has_line "$SM_TMP/quick.out" 9-0000-7000
session_open $NAME
# X takes an id and holds it; Y takes the next one and commits
echo "BEGIN; $(one_row 13 1)" >&3
wait_until 20 "X to be inserted" trx_writing $NAME
gen_records 1 14 2 h0 | "$SM_BIN/sm-store" --db "$URL" --source y 2>/dev/null
wait_until 20 "Y" has_line "$SM_TMP/all.out" \
    0000000e-0000-7000-8000-000000000002
wait_until 20 "Y" has_line "$SM_TMP/quick.out" \
    0000000e-0000-7000-8000-000000000002
grep -q 0000000d- "$SM_TMP/all.out" && fail "X shown before its COMMIT"
# longer than quick's --gap-timeout 0.3, far shorter than the default
sleep 2
echo "COMMIT;" >&3
wait_until 20 "X after its COMMIT" has_line "$SM_TMP/all.out" \
    0000000d-0000-7000-8000-000000000001
# a rollback burns an id: nothing to show, nothing waits on it for long
echo "BEGIN; $(one_row 15 3) ROLLBACK;" >&3
gen_records 1 16 4 h0 | "$SM_BIN/sm-store" --db "$URL" --source z 2>/dev/null
wait_until 20 "Z" has_line "$SM_TMP/all.out" \
    00000010-0000-7000-8000-000000000004
wait_until 20 "Z" has_line "$SM_TMP/quick.out" \
    00000010-0000-7000-8000-000000000004
exec 3>&-
wait $session || fail "mariadb session: $(cat "$SM_TMP/session.out")"
follow_stop all
follow_stop quick
ids <"$SM_TMP/all.out" >"$SM_TMP/all.ids"
diff -u - "$SM_TMP/all.ids" <<'EOF'
00000009-0000-7000-8000-000000000000
0000000e-0000-7000-8000-000000000002
0000000d-0000-7000-8000-000000000001
00000010-0000-7000-8000-000000000004
EOF
# quick gave X up (documented: --gap-timeout shorter than a transaction)
ids <"$SM_TMP/quick.out" | diff -u - "$SM_TMP/all.ids" | grep -q '^+0000000d' ||
    fail "--gap-timeout 0.3 waited for X: $(cat "$SM_TMP/quick.out")"

echo "two writers, 10,000 rows in concurrent bursts: each row exactly once"
# a row that passes every filter: each -n 1 shows it once it has started
SYNC=00000009-0000-7000-8000-00000000170c
gen_records 1 9 5900 hb |
    "$SM_BIN/sm-store" --db "$URL" --source client_a 2>/dev/null
follow_start all
follow_start hb --host hb
follow_start ca --source client_a
follow_start since --since 2026-11-26T10:00:30Z
for f in all hb ca since; do
	wait_until 20 "sm-tail -f ($f) to start" has_line "$SM_TMP/$f.out" $SYNC
done
# writer A: the mariadb client, transactions of 1 to 200 rows that hold
# their ids across a SLEEP, every seventh rolled back
gen_sql_txs 5000 10 ha client_a 7 >"$SM_TMP/a.sql"
sql_as_sm $NAME <"$SM_TMP/a.sql" >"$SM_TMP/a.log" 2>&1 &
writer_a=$!
# writer B: sm-store, 7 rows a transaction, fed in bursts of 1 to 400
(
	i=0
	k=0
	while [ $i -lt 5000 ]; do
		n=$(( (k * 97) % 400 + 1 ))
		[ $((i + n)) -le 5000 ] || n=$((5000 - i))
		gen_records $n 11 $i hb
		i=$((i + n))
		k=$((k + 1))
		sleep 0.05
	done
) | "$SM_BIN/sm-store" --db "$URL" --source store_b --batch 7 \
    --flush-ms 2 2>"$SM_TMP/b.log" &
writer_b=$!
wait $writer_a || fail "writer A: $(cat "$SM_TMP/a.log")"
wait $writer_b || fail "writer B: $(cat "$SM_TMP/b.log")"

# what each should print: the sync row and the writers' rows that pass
"$SM_TOP"/scripts/mariadb.sh sql -N -e "SELECT sample_id, host, data_source,
    sampled_at, id FROM $NAME.system_metrics WHERE id > (SELECT id FROM
    $NAME.system_metrics WHERE sample_id = '$SYNC')" >"$SM_TMP/table"
[ "$(wc -l <"$SM_TMP/table")" -eq 10000 ] || fail "table: want 10,000 rows"
want() {
	{ echo $SYNC; awk -F'\t' "$2" "$SM_TMP/table"; } >"$SM_TMP/$1.want"
}
want all '{ print $1 }'
want hb '$2 == "hb" { print $1 }'
want ca '$3 == "client_a" { print $1 }'
want since '$4 >= "2026-11-26 10:00:30" { print $1 }'
for f in all hb ca since; do
	n=$(wc -l <"$SM_TMP/$f.want")
	wait_until 60 "$n rows on sm-tail -f ($f)" \
	    lines_at_least "$SM_TMP/$f.out" $((n + 0))
done
# a repeat would come with the next polls: give it a few
sleep 1
for f in all hb ca since; do
	follow_stop $f
done

# what was printed, against the table
for f in all hb ca since; do
	ids <"$SM_TMP/$f.out" | LC_ALL=C sort >"$SM_TMP/$f.ids"
	[ -z "$(uniq -d "$SM_TMP/$f.ids")" ] ||
	    fail "$f: printed twice: $(uniq -d "$SM_TMP/$f.ids" | head -n 3)"
	LC_ALL=C sort "$SM_TMP/$f.want" |
	    diff -u - "$SM_TMP/$f.ids" >"$SM_TMP/$f.diff" ||
	    fail "$f: printed != table: $(head -n 20 "$SM_TMP/$f.diff")"
	echo "$f: $(wc -l <"$SM_TMP/$f.ids") rows, each once"
done
# the rows rolled back were never printed
grep -q -- '-8000-0000000f4240' "$SM_TMP/a.sql" ||
    fail "writer A rolled nothing back"
! grep -q -- '-8000-0000000f42' "$SM_TMP/all.out" ||
    fail "a rolled back row was printed"
# and the test did what it says: some rows became visible after rows with
# higher ids (holes filled), so "id > last" would have lost them
inversions=$(ids <"$SM_TMP/all.out" | awk -F'\t' '
	NR == FNR { id[$1] = $5; next }
	($1 in id) { if (id[$1] + 0 < max) n++; else max = id[$1] + 0 }
	END { print n + 0 }' "$SM_TMP/table" -)
echo "rows shown after a row with a higher id: $inversions"
[ "$inversions" -gt 0 ] || fail "no commit out of id order: nothing tested"

echo "TRUNCATE under sm-tail -f: noticed, the new table followed from its first row"
follow_start tr
wait_until 20 "sm-tail -f to start" lines_at_least "$SM_TMP/tr.out" 1
"$SM_TOP"/scripts/mariadb.sh sql -e "TRUNCATE TABLE $NAME.system_metrics"
gen_records 3 77 0 h7 | "$SM_BIN/sm-store" --db "$URL" --source new 2>/dev/null
# ids 1 to 3 now, far below what sm-tail had seen: "id > last" waits for ever
wait_until 30 "the rows after the TRUNCATE" has_line "$SM_TMP/tr.out" \
    0000004d-0000-7000-8000-000000000002
kill -TERM "$pid_tr"
wait "$pid_tr" || fail "sm-tail -f (tr) exited $?: $(cat "$SM_TMP/tr.err")"
printf '0000004d-0000-7000-8000-00000000000%s\n' 0 1 2 >"$SM_TMP/tr.want"
tail -n 3 "$SM_TMP/tr.out" | ids | diff -u "$SM_TMP/tr.want" - ||
    fail "after the TRUNCATE: $(cat "$SM_TMP/tr.out")"
[ "$(wc -l <"$SM_TMP/tr.out")" -eq 4 ] || fail "rows: $(cat "$SM_TMP/tr.out")"
grep -q "the table's ids started again (TRUNCATE?): following its new rows from the first" \
    "$SM_TMP/tr.err" || fail "no word of it: $(cat "$SM_TMP/tr.err")"
