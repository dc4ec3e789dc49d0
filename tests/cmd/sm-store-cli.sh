#!/bin/sh
# sm-store without a database: --help, --version, usage errors and URLs
# that are not URLs (exit 2 before anything is read).  Runs under the
# sanitizers too (make test-san).
. "$(dirname "$0")/../lib.sh"

STORE=$SM_BIN/sm-store
unset SM_DB SM_DB_PASSWORD
ONE="$SM_TMP/one"
sed -n 1p tests/fixtures/seed-records.ndjson >"$ONE"

echo "--help and --version"
expect_status 0 "$STORE" --help
grep -q '^usage: sm-store \[-h\]' "$SM_TMP/out" || fail "--help: $(cat "$SM_TMP/out")"
grep -q '^       sm-store --listen ' "$SM_TMP/out" || fail "--help lacks --listen"
expect_status 0 "$STORE" --version
[ "$(cat "$SM_TMP/out")" = "sm-store $(sed -n 's/^VERSION = //p' Makefile)" ] ||
    fail "--version: $(cat "$SM_TMP/out")"

echo "usage errors"
for args in "--batch 0" "--batch x" "--flush-ms -1" "--max-wait x" \
    "--listen 127.0.0.1:0 --echo" "--listen 0 --spool f" "--port-file f" \
    "--token-file f" "--metrics-token-file f" "--tls-cert f" "--tls-client-ca f" "--max-body 10" \
    "--max-per-address 2" "--listen 0 --max-per-address 0" \
    "--listen 99999" "--listen [::1]" \
    "--ssl-mode SOMETIMES" "--source $(printf '%051d' 0)" \
    "extra"; do
	# shellcheck disable=SC2086
	expect_status 2 "$STORE" $args </dev/null
	expect_err "usage: sm-store"
done

echo "what each bad value wants (the option table, lib/cli.c)"
while IFS='|' read -r args msg; do
	# shellcheck disable=SC2086
	expect_status 2 "$STORE" $args </dev/null
	expect_err "sm-store: $msg"
done <<'WANT'
--batch 0|--batch: "0": want 1 to 100000 rows
--listen 0 --max-per-address 0|--max-per-address: "0": want 1 to 100000
--flush-ms 3600001|--flush-ms: "3600001": want 0 to 3600000 milliseconds
--max-line 0|--max-line: "0": want 1 to 268435456 bytes
--max-wait -1|--max-wait: "-1": want seconds, 0 or more
--listen 0 --max-body 0|--max-body: "0": want 1 to 67108864 bytes
--listen 0 --threads 65|--threads: "65": want 1 to 64
--listen 0 --timeout 0.5|--timeout: "0.5": want 1 to 86400 seconds
--source 000000000000000000000000000000000000000000000000000|--source: want 1 to 50 bytes, no control characters
WANT

echo "no database, or a URL that is not one"
expect_status 2 "$STORE" <"$ONE"
expect_err "sm-store: no database: give --db URL or set SM_DB"
for u in "http://h/db" "mysql://h" "mysql://h/" "mysql://h:0/db" \
    "mysql://h:99999/db" "mysql://h/db?sokket=/x" "mysql://h/db?socket=x" \
    "mysql://h/a%zzb" "mysql://[::1/db"; do
	expect_status 2 "$STORE" --db "$u" <"$ONE"
	expect_err "sm-store: database URL: "
done
echo ok
