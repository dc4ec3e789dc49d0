# Helpers for the bad-input tests, tests/it/badinput-*.sh (sourced; not a
# test itself, hence not executable).  On top of post-lib.inc (a database
# of the test's own, receivers, q, rows, at_exit): the corpus, its
# expected outcomes, and the checks every channel shares.
#
# The corpus is tests/corpus/*.ndjson (tests/corpus/make-corpus.sh says
# what each holds).  Valid records have host "ok-N", N their line number;
# bad ones "bad-N".  For each file and channel, the test writes a
# transcript (exit status, messages, rows stored, reject file) and diffs
# it with tests/corpus/expected/FILE.CHANNEL.  SM_CORPUS_BLESS=1 writes
# the transcripts there instead (then read them before committing).
. "$SM_TOP/tests/it/post-lib.inc"
. "$SM_TOP/tests/corpus/make-corpus.sh"

CORPUS="$SM_TOP/tests/corpus"
EXPECTED="$CORPUS/expected"
# the committed corpus, and the one input made at test time
CORPUS_FILES=$(cd "$CORPUS" && ls ./*.ndjson | sed 's|^\./||; s|\.ndjson$||')
LONG="$SM_TMP/long-line.ndjson"
(
	export LC_ALL=C
	corpus_ok 14 1
	corpus_long_line 14 2 10
	printf '\n'
	corpus_ok 14 3
) >"$LONG"
LONG_BYTES=$(wc -c <"$LONG" | tr -d ' ')
[ "$LONG_BYTES" -gt $((10 * 1024 * 1024)) ] ||
    fail "long line: $LONG_BYTES bytes"

# input NAME: the file of corpus entry NAME.
input() {
	if [ "$1" = long-line ]; then
		echo "$LONG"
	else
		echo "$CORPUS/$1.ndjson"
	fi
}

# hosts: the hosts of the stored rows, in id order, on one line.
hosts() {
	$ADMIN_SQL --default-character-set=utf8mb4 -N -B "$TESTDB" \
	    -e 'SELECT host FROM system_metrics ORDER BY sample_id' |
	    tr '\n' ' ' | sed 's/ $//'
}

# ok_hosts FILE: the hosts of FILE's valid lines, as hosts() shows them
# once all are stored ("ok-N", whatever follows N).
ok_hosts() {
	LC_ALL=C grep -ao '"host":"ok-[^"]*"' "$1" |
	    sed 's/"host":"//; s/"$//' | tr '\n' ' ' | sed 's/ $//'
}

# check_rows FILE: exactly FILE's valid lines are stored, nothing else
# (no "bad-" host, no row twice).
check_rows() {
	expect_eq "rows stored from $(basename "$1")" "$(hosts)" \
	    "$(ok_hosts "$1")"
	expect_eq "bad rows from $(basename "$1")" "$(q "SELECT COUNT(*)
	    FROM system_metrics WHERE host NOT LIKE 'ok-%'")" 0
}

# reject_summary REJECTS INPUT: one line per entry of the reject file,
# "line N: [status S: ]reason", once badinput-rejects.py has checked that
# every entry is JSON and holds the line of INPUT it names.
reject_summary() {
	python3 "$SM_TOP/tests/it/badinput-rejects.py" "$1" "$2" ||
	    fail "reject file $1: see above"
}

# compare NAME CHANNEL: diff the transcript $SM_TMP/NAME.CHANNEL with its
# expected file (or write that, with SM_CORPUS_BLESS=1).
compare() {
	if [ -n "${SM_CORPUS_BLESS:-}" ]; then
		mkdir -p "$EXPECTED"
		cp "$SM_TMP/$1.$2" "$EXPECTED/$1.$2"
		return 0
	fi
	diff -u "$EXPECTED/$1.$2" "$SM_TMP/$1.$2" ||
	    fail "$1 through $2 differs from $EXPECTED/$1.$2"
}
