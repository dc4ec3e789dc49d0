#!/bin/sh
# sm-store --listen out of memory while receiving a body: the client is
# told 503 with Retry-After (its records are fine: it may send them again),
# never 413 (which says the body is too large and must not be retried), and
# the receiver goes on serving.  A realloc() that fails past 1 MiB plays the
# host out of memory (tests/shim/bigrealloc.c, LD_PRELOAD).
. "$(dirname "$0")/store-lib.sh"

if ldd "$STORE" | grep -q 'libasan'; then
	# ASan's own allocator comes first and cannot be interposed: the plain
	# build runs this test (make test-it)
	echo "sanitizer build: the allocation shim cannot come first; not run here"
	exit 0
fi
cc -shared -fPIC -O2 -o "$SM_TMP/bigrealloc.so" \
    "$SM_TOP/tests/shim/bigrealloc.c" -ldl || fail "cannot build the shim"

export SM_TEST_REALLOC_MAX=1048576
LD_PRELOAD="$SM_TMP/bigrealloc.so" start_receiver nomem --max-body 8388608
unset SM_TEST_REALLOC_MAX

echo "a 2 MiB chunked body the receiver cannot hold: 503, Retry-After"
head -n 1 "$FIX/seed-records.ndjson" >"$SM_TMP/one"
cp "$SM_TMP/one" "$SM_TMP/big"
while [ "$(wc -c <"$SM_TMP/big")" -lt 2200000 ]; do
	cat "$SM_TMP/big" "$SM_TMP/big" >"$SM_TMP/big.new"
	mv "$SM_TMP/big.new" "$SM_TMP/big"
done
code=$(curl -s -D "$SM_TMP/headers" -o "$SM_TMP/body" -w '%{http_code}' \
    -H 'Content-Type: application/x-ndjson' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$SM_TMP/big" "$RURL/metrics") || fail "curl failed"
expect_eq "status" "$code" 503
grep -qi '^Retry-After: 1' "$SM_TMP/headers" ||
    fail "no Retry-After: $(cat "$SM_TMP/headers")"
expect_eq "answer" "$(cat "$SM_TMP/body")" \
    '{"error":"out of memory","api":"sm-store"}'
expect_eq "rows" "$(rows)" 0

echo "the receiver goes on: a small body is stored"
post application/x-ndjson @"$SM_TMP/one"
expect_answer 200 '{"stored":1,"duplicates":0,"api":"sm-store"}'
stop_receiver
echo ok
