#!/bin/sh
# The bad-input corpus (tests/corpus) through sm-store --listen: a request
# holding any bad record is answered 400 naming each one by its index with
# its reason, and stores nothing; a request of good records is stored
# whole; harmless oddities (CRLF, blank lines, a leading BOM) pass; a body
# over --max-body is answered 413.  Each file goes in whole (NDJSON, and as
# a JSON array where its lines are all JSON), then line by line.
. "$(dirname "$0")/badinput-lib.sh"

recv r route-r
# a second receiver that takes the 10 MiB line, to judge what it holds
"$STORE" --listen 127.0.0.1:0 --port-file "$SM_TMP/big.port" \
    --source route-big --max-body 16777216 2>"$SM_TMP/big.err" 3>&- &
big_pid=$!
at_exit "kill $big_pid 2>/dev/null || true"
wait_for 100 test -s "$SM_TMP/big.port"
big_url=http://127.0.0.1:$(cat "$SM_TMP/big.port")/metrics

# send URL TYPE FILE: POST FILE; "STATUS ANSWER" on stdout.
send() {
	code=$(curl -s -o "$SM_TMP/answer" -w '%{http_code}' -X POST \
	    -H "Content-Type: $2" --data-binary "@$3" "$1") ||
	    fail "curl failed on $3"
	printf '%s %s\n' "$code" "$(cat "$SM_TMP/answer")"
}

# the files whose every line is a JSON object: also sent as one array
ARRAYS="negative percent-over-100 objects-for-numbers bad-fields \
huge-numbers truncated"

for name in $CORPUS_FILES long-line; do
	in=$(input "$name")
	url=$r_url
	echo "$name"
	q 'DELETE FROM system_metrics' 2>/dev/null || true
	{
		echo "whole file, NDJSON:"
		send "$url" application/x-ndjson "$in" >"$SM_TMP/whole"
		cat "$SM_TMP/whole"
		# all or nothing
		if grep -q '^200 ' "$SM_TMP/whole"; then
			check_rows "$in"
			q 'DELETE FROM system_metrics'
		else
			expect_eq "$name: rows after a refused request" \
			    "$(rows)" 0
		fi
		if [ "$name" = long-line ]; then
			echo "whole file, NDJSON, --max-body 16777216:"
			send "$big_url" application/x-ndjson "$in"
			expect_eq "$name: rows after a refused request" \
			    "$(rows)" 0
		fi
		case " $ARRAYS " in
		*" $name "*)
			echo "whole file, JSON array:"
			{
				printf '['
				LC_ALL=C sed '$! s/$/,/' "$in"
				printf ']'
			} >"$SM_TMP/array"
			send "$url" application/json "$SM_TMP/array"
			expect_eq "$name: rows after a refused request" \
			    "$(rows)" 0 ;;
		esac
		echo "line by line, NDJSON:"
		n=$(LC_ALL=C sed -n '$=' "$in")
		i=1
		while [ "$i" -le "$n" ]; do
			LC_ALL=C sed -n "${i}p" "$in" >"$SM_TMP/line"
			# blank lines make no request
			if LC_ALL=C grep -q '[^[:space:]]' "$SM_TMP/line"; then
				printf 'line %d: ' "$i"
				send "$url" application/x-ndjson "$SM_TMP/line"
			fi
			i=$((i + 1))
		done
		echo "stored: $(hosts)"
	} >"$SM_TMP/$name.http"
	# every good line was stored by its own request, no bad one; but
	# alone, bom.ndjson's line 3 starts its body, where a BOM may be
	if [ "$name" = bom ]; then
		expect_eq "rows from bom.ndjson" "$(hosts)" \
		    "ok-1 ok-2 bad-3 ok-4"
	else
		check_rows "$in"
	fi
	compare "$name" http
done

echo "a body that is not NDJSON at all"
q 'DELETE FROM system_metrics'
for body in '' ' ' '[' '[1]' '{"a":' 'x'; do
	printf '%s' "$body" >"$SM_TMP/body"
	send "$r_url" application/json "$SM_TMP/body"
done >"$SM_TMP/junk.http"
printf '\377\376{}' >"$SM_TMP/body"
send "$r_url" application/json "$SM_TMP/body" >>"$SM_TMP/junk.http"
printf '{"a":"\300\257"}' >"$SM_TMP/body"
send "$r_url" application/json "$SM_TMP/body" >>"$SM_TMP/junk.http"
printf '{"a":\0}' >"$SM_TMP/body"
send "$r_url" application/json "$SM_TMP/body" >>"$SM_TMP/junk.http"
compare junk http
expect_eq "rows after junk" "$(rows)" 0
echo "ok"
