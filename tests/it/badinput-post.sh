#!/bin/sh
# The bad-input corpus (tests/corpus) through sm-post to an sm-store
# receiver: a line that is not a JSON object (or not UTF-8) is reported by
# sm-post with its number and reason and never sent; a record the receiver
# refuses goes to the reject file with the receiver's reason; every valid
# record is delivered and stored once; exit 1 when anything was refused,
# 0 when the oddities were harmless.  One record a request, then batches
# of 4 as NDJSON (where one refused record must not cost its batch mates).
. "$(dirname "$0")/badinput-lib.sh"

recv r route-r

for name in $CORPUS_FILES long-line; do
	in=$(input "$name")
	echo "$name"
	q 'DELETE FROM system_metrics' 2>/dev/null || true
	rm -f "$SM_TMP/rej"
	set +e
	"$POST" --reject "$SM_TMP/rej" "$r_url" <"$in" >"$SM_TMP/acks" \
	    2>"$SM_TMP/err"
	status=$?
	set -e
	check_rows "$in"
	touch "$SM_TMP/rej"
	{
		echo "exit $status"
		sed "s|$r_url|URL|g" "$SM_TMP/err"
		echo "acknowledged: $(sed -n \
		    's/.*"status":200,.*"stored":\([0-9]*\),.*/\1/p' \
		    "$SM_TMP/acks" | awk '{ s += $1 } END { print s + 0 }')" \
		    stored
		echo "stored: $(hosts)"
		echo "reject file:"
		reject_summary "$SM_TMP/rej" "$in"
	} >"$SM_TMP/$name.post"
	compare "$name" post
	if [ -s "$SM_TMP/rej" ]; then
		expect_eq "$name: exit status" "$status" 1
	else
		expect_eq "$name: exit status" "$status" 0
	fi

	# batches: the same records delivered, the same ones refused
	q 'DELETE FROM system_metrics'
	rm -f "$SM_TMP/rej4"
	set +e
	"$POST" --batch 4 --ndjson --reject "$SM_TMP/rej4" "$r_url" <"$in" \
	    >/dev/null 2>"$SM_TMP/err4"
	status4=$?
	set -e
	expect_eq "$name, batches of 4: exit status" "$status4" "$status"
	check_rows "$in"
	touch "$SM_TMP/rej4"
	reject_summary "$SM_TMP/rej4" "$in" | sort >"$SM_TMP/rej4.sum"
	sed '1,/^reject file:$/d' "$SM_TMP/$name.post" | sort |
	    diff -u - "$SM_TMP/rej4.sum" ||
	    fail "$name: batches of 4 refused other records"
done
echo "ok"
