#!/bin/sh
# The bad-input corpus (tests/corpus) through sm-store's standard input:
# each bad line is reported with its number and reason and written to the
# reject file, every valid line around it is stored, harmless oddities
# (CRLF, blank lines, a leading BOM, a last line without a newline) pass
# silently, and the exit status is 1 exactly when a line was rejected.
. "$(dirname "$0")/badinput-lib.sh"

echo "the committed corpus is what make-corpus.sh writes, byte for byte"
mkdir "$SM_TMP/fresh"
(LC_ALL=C; export LC_ALL; corpus_make "$SM_TMP/fresh")
for name in $CORPUS_FILES; do
	cmp "$SM_TMP/fresh/$name.ndjson" "$CORPUS/$name.ndjson" ||
	    fail "tests/corpus/$name.ndjson differs from make-corpus.sh's"
done
[ "$(ls "$SM_TMP/fresh" | wc -l)" -eq "$(echo "$CORPUS_FILES" | wc -l)" ] ||
    fail "make-corpus.sh writes files that are not committed"

for name in $CORPUS_FILES long-line; do
	in=$(input "$name")
	echo "$name"
	q 'DELETE FROM system_metrics' 2>/dev/null || true
	rm -f "$SM_TMP/rej"
	set +e
	"$STORE" --reject "$SM_TMP/rej" <"$in" >"$SM_TMP/out" \
	    2>"$SM_TMP/err"
	status=$?
	set -e
	[ ! -s "$SM_TMP/out" ] || fail "$name: output on stdout"
	check_rows "$in"
	touch "$SM_TMP/rej"
	{
		echo "exit $status"
		grep -v '^sm-store: created table' "$SM_TMP/err"
		echo "stored: $(hosts)"
		echo "reject file:"
		reject_summary "$SM_TMP/rej" "$in"
	} >"$SM_TMP/$name.stdin"
	compare "$name" stdin
	# the documented status: 1 when a line was rejected, else 0
	if [ -s "$SM_TMP/rej" ]; then
		expect_eq "$name: exit status" "$status" 1
	else
		expect_eq "$name: exit status" "$status" 0
	fi
done

echo "the same lines through a pipe, one record a transaction"
q 'DELETE FROM system_metrics'
cat "$CORPUS/invalid-utf8.ndjson" | "$STORE" --batch 1 --flush-ms 0 \
    2>"$SM_TMP/err" && fail "exit 0 with bad lines"
# the messages of the transcript: between its exit and stored lines
sed -n '2,/^stored: /p' "$EXPECTED/invalid-utf8.stdin" | sed '$d' \
    >"$SM_TMP/err.want"
diff -u "$SM_TMP/err.want" "$SM_TMP/err" || fail "messages differ"
check_rows "$CORPUS/invalid-utf8.ndjson"
echo "ok"
