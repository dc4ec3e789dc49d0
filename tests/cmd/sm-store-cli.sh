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
    "--token-file f" "--max-body 10" "--listen 99999" "--listen [::1]" \
    "--ssl-mode SOMETIMES" "--source $(printf '%051d' 0)" \
    "extra"; do
	# shellcheck disable=SC2086
	expect_status 2 "$STORE" $args </dev/null
	expect_err "usage: sm-store"
done

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
